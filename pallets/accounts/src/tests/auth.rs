//! Transaction authorisation: which keys must verify, and every refusal.

use super::*;
use qstack_core::crypto::{FalconSignature, MlDsaSignature, Sr25519Signature};
use qstack_core::Signature;
use qstack_runtime_primitives::{
    ExtrinsicSignature, InvalidTransaction, MultiAddress, SignerKey, SignerSignature,
};

fn sr_sig(b: u8) -> Signature {
    Signature::Sr25519(Sr25519Signature([b; 64]))
}

fn hybrid_sig(b: u8) -> Signature {
    Signature::Hybrid(
        FalconSignature([b; FalconSignature::LEN]),
        MlDsaSignature([b; MlDsaSignature::LEN]),
    )
}

fn by_id(who: u8, sig: ExtrinsicSignature) -> Result<Authorisation, InvalidTransaction> {
    authorise(MultiAddress::Id(acc(who)), sig)
}

fn entry(signer: SignerKey, sig: Signature) -> SignerSignature {
    SignerSignature {
        signer,
        signature: sig,
    }
}

/// Alice's list: Bob 1, Charlie 1, Dave (4) 2; quorum 3.
fn alice_list() {
    call(
        ALICE,
        SignedWith::Master,
        Call::SetSigners {
            quorum: 3,
            signers: vec![
                SignerEntry {
                    account: acc(BOB),
                    weight: 1,
                },
                SignerEntry {
                    account: acc(CHARLIE),
                    weight: 1,
                },
                SignerEntry {
                    account: acc(4),
                    weight: 2,
                },
            ],
        },
    )
    .unwrap();
    take_events();
}

#[test]
fn master_key_by_id_or_inline() {
    Test::new().account(ALICE).run(|| {
        let a = by_id(ALICE, sr_sig(1).into()).unwrap();
        assert_eq!(a.who, acc(ALICE));
        assert_eq!(a.signed_with, SignedWith::Master);
        assert_eq!(a.checks, vec![(sr_sig(1), sr_key(ALICE))]);
        assert!(a.new_keys.is_empty(), "already registered");
        // Unknown account by id: no key to check against.
        assert_eq!(
            by_id(BOB, sr_sig(1).into()),
            Err(InvalidTransaction::BadSigner)
        );
        // Its first transaction carries the key, which is then registered.
        let a = authorise(MultiAddress::Key(sr_key(BOB)), sr_sig(2).into()).unwrap();
        assert_eq!(a.who, acc(BOB));
        assert_eq!(a.new_keys, vec![sr_key(BOB)]);
        // A signature of another scheme than the key's is a bad proof.
        assert_eq!(
            by_id(ALICE, hybrid_sig(1).into()),
            Err(InvalidTransaction::BadProof)
        );
    });
}

#[test]
fn a_disabled_master_key_cannot_sign_and_the_regular_key_can() {
    Test::new().account(ALICE).run(|| {
        assert_eq!(
            by_id(ALICE, ExtrinsicSignature::Regular(hybrid_sig(1))),
            Err(InvalidTransaction::NoRegularKey)
        );
        call(
            ALICE,
            SignedWith::Master,
            Call::SetRegularKey { key: hybrid_key(9) },
        )
        .unwrap();
        call(ALICE, SignedWith::Master, Call::DisableMaster).unwrap();
        take_events();
        assert_eq!(
            by_id(ALICE, sr_sig(1).into()),
            Err(InvalidTransaction::MasterKeyDisabled)
        );
        assert_eq!(
            authorise(MultiAddress::Key(sr_key(ALICE)), sr_sig(1).into()),
            Err(InvalidTransaction::MasterKeyDisabled)
        );
        let a = by_id(ALICE, ExtrinsicSignature::Regular(hybrid_sig(3))).unwrap();
        assert_eq!(a.signed_with, SignedWith::Regular);
        assert_eq!(a.checks, vec![(hybrid_sig(3), hybrid_key(9))]);
        assert_eq!(
            by_id(ALICE, ExtrinsicSignature::Regular(sr_sig(3))),
            Err(InvalidTransaction::BadProof)
        );
    });
}

#[test]
fn quorum_exactly_met_passes_and_one_short_fails() {
    Test::new()
        .account(ALICE)
        .account(BOB)
        .account(CHARLIE)
        .account(4)
        .run(|| {
            alice_list();
            let bob = entry(SignerKey::Master(acc(BOB)), sr_sig(2));
            let charlie = entry(SignerKey::Master(acc(CHARLIE)), sr_sig(3));
            let dave = entry(SignerKey::Master(acc(4)), sr_sig(4));
            // 1 + 1 = 2 < 3.
            assert_eq!(
                by_id(
                    ALICE,
                    ExtrinsicSignature::Multi(vec![bob.clone(), charlie.clone()])
                ),
                Err(InvalidTransaction::QuorumNotMet)
            );
            assert_eq!(
                by_id(ALICE, ExtrinsicSignature::Multi(vec![])),
                Err(InvalidTransaction::QuorumNotMet)
            );
            // 2 + 1 = 3, in either order; every signature is checked.
            for (entries, keys) in [
                (
                    vec![dave.clone(), bob.clone()],
                    vec![sr_key(4), sr_key(BOB)],
                ),
                (
                    vec![bob.clone(), dave.clone()],
                    vec![sr_key(BOB), sr_key(4)],
                ),
            ] {
                let a = by_id(ALICE, ExtrinsicSignature::Multi(entries.clone())).unwrap();
                assert_eq!(a.signed_with, SignedWith::Signers);
                let expected: Vec<_> = entries
                    .iter()
                    .map(|e| e.signature.clone())
                    .zip(keys)
                    .collect();
                assert_eq!(a.checks, expected);
            }
            // All three (more than the quorum) are fine too, each verified.
            let a = by_id(ALICE, ExtrinsicSignature::Multi(vec![charlie, dave, bob])).unwrap();
            assert_eq!(a.checks.len(), 3);
        });
}

#[test]
fn every_multi_signature_refusal() {
    Test::new()
        .account(ALICE)
        .account(BOB)
        .account(CHARLIE)
        .run(|| {
            let bob = entry(SignerKey::Master(acc(BOB)), sr_sig(2));
            assert_eq!(
                by_id(ALICE, ExtrinsicSignature::Multi(vec![bob.clone()])),
                Err(InvalidTransaction::NoSignerList)
            );
            alice_list();
            assert_eq!(
                by_id(ALICE, ExtrinsicSignature::Multi(vec![bob.clone(); 33])),
                Err(InvalidTransaction::TooManySigners)
            );
            assert_eq!(
                by_id(
                    ALICE,
                    ExtrinsicSignature::Multi(vec![bob.clone(), bob.clone()])
                ),
                Err(InvalidTransaction::DuplicateSigner)
            );
            // Bob once by master key and once by regular key is still Bob twice.
            let bob_regular = entry(SignerKey::Regular(acc(BOB)), sr_sig(2));
            assert_eq!(
                by_id(
                    ALICE,
                    ExtrinsicSignature::Multi(vec![bob.clone(), bob_regular.clone()])
                ),
                Err(InvalidTransaction::DuplicateSigner)
            );
            let stranger = entry(SignerKey::Key(sr_key(50)), sr_sig(50));
            assert_eq!(
                by_id(
                    ALICE,
                    ExtrinsicSignature::Multi(vec![bob.clone(), stranger])
                ),
                Err(InvalidTransaction::UnlistedSigner)
            );
            // Dave (4) is listed but the chain has no key of his.
            let dave = entry(SignerKey::Master(acc(4)), sr_sig(4));
            assert_eq!(
                by_id(ALICE, ExtrinsicSignature::Multi(vec![dave])),
                Err(InvalidTransaction::BadSigner)
            );
            assert_eq!(
                by_id(ALICE, ExtrinsicSignature::Multi(vec![bob_regular])),
                Err(InvalidTransaction::NoRegularKey)
            );
            let wrong_scheme = entry(SignerKey::Master(acc(BOB)), hybrid_sig(2));
            assert_eq!(
                by_id(ALICE, ExtrinsicSignature::Multi(vec![wrong_scheme])),
                Err(InvalidTransaction::BadProof)
            );
        });
}

#[test]
fn signers_use_master_or_regular_keys_and_unseen_signers_carry_theirs() {
    Test::new().account(ALICE).account(BOB).run(|| {
        alice_list();
        // Bob signs with his hybrid regular key, his master disabled.
        call(
            BOB,
            SignedWith::Master,
            Call::SetRegularKey {
                key: hybrid_key(20),
            },
        )
        .unwrap();
        call(BOB, SignedWith::Master, Call::DisableMaster).unwrap();
        take_events();
        let bob_master = entry(SignerKey::Master(acc(BOB)), sr_sig(2));
        let bob_regular = entry(SignerKey::Regular(acc(BOB)), hybrid_sig(2));
        // Dave (4) never transacted (zero balance): his key rides along.
        let dave = entry(SignerKey::Key(sr_key(4)), sr_sig(4));
        assert_eq!(
            by_id(
                ALICE,
                ExtrinsicSignature::Multi(vec![dave.clone(), bob_master])
            ),
            Err(InvalidTransaction::MasterKeyDisabled)
        );
        let a = by_id(ALICE, ExtrinsicSignature::Multi(vec![dave, bob_regular])).unwrap();
        assert_eq!(
            a.checks,
            vec![(sr_sig(4), sr_key(4)), (hybrid_sig(2), hybrid_key(20))]
        );
        assert_eq!(a.new_keys, vec![sr_key(4)]);
    });
}

#[test]
fn every_way_to_sign_is_resolvable_while_the_invariant_holds() {
    // The property test's notion of "can sign", checked against `authorise`.
    Test::new().account(ALICE).account(BOB).run(|| {
        let a = acc(ALICE);
        call(
            ALICE,
            SignedWith::Master,
            Call::SetRegularKey { key: hybrid_key(9) },
        )
        .unwrap();
        call(ALICE, SignedWith::Master, Call::DisableMaster).unwrap();
        assert!(can_sign(&a));
        assert!(super::prop::some_path_authorises(&a));
        take_events();
    });
}
