//! Master and regular keys.

use super::*;

fn set_regular(who: u8, key: PublicKey) -> Result<(), DispatchError> {
    call(who, SignedWith::Master, Call::SetRegularKey { key })
}

fn one_signer_list(who: u8) {
    call(
        who,
        SignedWith::Master,
        Call::SetSigners {
            quorum: 1,
            signers: vec![SignerEntry {
                account: acc(BOB),
                weight: 1,
            }],
        },
    )
    .unwrap();
    take_events();
}

#[test]
fn set_regular_key_in_any_scheme_and_replace_it() {
    Test::new().account(ALICE).run(|| {
        let a = acc(ALICE);
        // An sr25519 account moves to a hybrid post-quantum regular key.
        set_regular(ALICE, hybrid_key(7)).unwrap();
        assert_eq!(RegularKey::get(&a), Some(hybrid_key(7)));
        assert_eq!(
            take_events(),
            vec![Event::RegularKeySet {
                account: a,
                scheme: KeyScheme::Hybrid,
                key_id: hybrid_key(7).account_id(),
            }]
        );
        // The regular key may replace itself.
        call(
            ALICE,
            SignedWith::Regular,
            Call::SetRegularKey { key: sr_key(8) },
        )
        .unwrap();
        assert_eq!(RegularKey::get(&a), Some(sr_key(8)));
        assert_eq!(
            take_events(),
            vec![Event::RegularKeySet {
                account: a,
                scheme: KeyScheme::Sr25519,
                key_id: acc(8),
            }]
        );
    });
}

#[test]
fn regular_key_cannot_be_the_master_key() {
    Test::new().account(ALICE).run(|| {
        assert_fails(Error::RegularKeyIsMaster, || {
            set_regular(ALICE, sr_key(ALICE))
        });
        assert_eq!(RegularKey::get(&acc(ALICE)), None);
    });
}

#[test]
fn remove_regular_key() {
    Test::new().account(ALICE).run(|| {
        let a = acc(ALICE);
        assert_fails(Error::NoRegularKey, || {
            call(ALICE, SignedWith::Master, Call::RemoveRegularKey)
        });
        set_regular(ALICE, hybrid_key(7)).unwrap();
        take_events();
        call(ALICE, SignedWith::Regular, Call::RemoveRegularKey).unwrap();
        assert_eq!(RegularKey::get(&a), None);
        assert_eq!(take_events(), vec![Event::RegularKeyRemoved { account: a }]);
    });
}

#[test]
fn the_last_way_to_sign_cannot_be_removed() {
    Test::new().account(ALICE).run(|| {
        let a = acc(ALICE);
        set_regular(ALICE, hybrid_key(7)).unwrap();
        call(ALICE, SignedWith::Master, Call::DisableMaster).unwrap();
        take_events();
        // Master disabled, regular key only: it stays.
        assert_fails(Error::NoAlternativeKey, || {
            call(ALICE, SignedWith::Regular, Call::RemoveRegularKey)
        });
        assert_eq!(RegularKey::get(&a), Some(hybrid_key(7)));
        // With a signer list as well, the regular key may go, then the list may not.
        one_signer_list(ALICE);
        call(ALICE, SignedWith::Regular, Call::RemoveRegularKey).unwrap();
        assert_eq!(take_events(), vec![Event::RegularKeyRemoved { account: a }]);
        assert_fails(Error::NoAlternativeKey, || {
            call(ALICE, SignedWith::Signers, Call::RemoveSigners)
        });
        assert!(SignerLists::contains_key(&a));
        assert!(master_disabled(&a));
        assert!(can_sign(&a));
    });
}

#[test]
fn disable_master_needs_the_master_key_and_an_alternative() {
    Test::new().account(ALICE).run(|| {
        let a = acc(ALICE);
        // No alternative: refused, the master stays enabled.
        assert_fails(Error::NoAlternativeKey, || {
            call(ALICE, SignedWith::Master, Call::DisableMaster)
        });
        assert!(!master_disabled(&a));
        set_regular(ALICE, hybrid_key(7)).unwrap();
        take_events();
        // Neither the regular key nor the signers may disable the master.
        for by in [SignedWith::Regular, SignedWith::Signers] {
            assert_fails(Error::NeedMasterKey, || {
                call(ALICE, by, Call::DisableMaster)
            });
        }
        call(ALICE, SignedWith::Master, Call::DisableMaster).unwrap();
        assert!(master_disabled(&a));
        assert!(flags(&a).master_disabled);
        assert_eq!(take_events(), vec![Event::MasterKeyDisabled { account: a }]);
        assert_fails(Error::MasterAlreadyDisabled, || {
            call(ALICE, SignedWith::Master, Call::DisableMaster)
        });
    });
}

#[test]
fn disable_master_with_a_signer_list_only() {
    Test::new().account(ALICE).run(|| {
        let a = acc(ALICE);
        one_signer_list(ALICE);
        call(ALICE, SignedWith::Master, Call::DisableMaster).unwrap();
        assert_eq!(take_events(), vec![Event::MasterKeyDisabled { account: a }]);
        assert!(master_disabled(&a) && !RegularKey::contains_key(&a));
    });
}

#[test]
fn enable_master_by_regular_key_or_signers() {
    Test::new().account(ALICE).run(|| {
        let a = acc(ALICE);
        assert_fails(Error::MasterNotDisabled, || {
            call(ALICE, SignedWith::Master, Call::EnableMaster)
        });
        set_regular(ALICE, hybrid_key(7)).unwrap();
        one_signer_list(ALICE);
        for by in [SignedWith::Regular, SignedWith::Signers] {
            call(ALICE, SignedWith::Master, Call::DisableMaster).unwrap();
            take_events();
            call(ALICE, by, Call::EnableMaster).unwrap();
            assert!(!master_disabled(&a));
            // Flags back to default are not stored.
            assert!(!Flags::contains_key(&a));
            assert_eq!(take_events(), vec![Event::MasterKeyEnabled { account: a }]);
        }
    });
}
