//! Signer lists.

use super::*;

fn signers(n: u8, weight: u16) -> Vec<SignerEntry> {
    (0..n)
        .map(|i| SignerEntry {
            account: acc(100u8.wrapping_add(i)),
            weight,
        })
        .collect()
}

fn set(quorum: u32, list: Vec<SignerEntry>) -> Result<(), DispatchError> {
    call(
        ALICE,
        SignedWith::Master,
        Call::SetSigners {
            quorum,
            signers: list,
        },
    )
}

#[test]
fn thirty_two_signers_but_not_thirty_three() {
    Test::new().account(ALICE).run(|| {
        let a = acc(ALICE);
        assert_fails(Error::TooManySigners, || set(1, signers(33, 1)));
        assert!(!SignerLists::contains_key(&a));
        set(32, signers(32, 1)).unwrap();
        let list = SignerLists::get(&a).unwrap();
        assert_eq!((list.quorum, list.signers.len()), (32, 32));
        assert_eq!(list.total_weight(), 32);
        assert_eq!(
            take_events(),
            vec![Event::SignerListSet {
                account: a,
                quorum: 32,
                signers: 32
            }]
        );
    });
}

#[test]
fn every_list_rule_has_its_error() {
    Test::new().account(ALICE).run(|| {
        let a = acc(ALICE);
        assert_fails(Error::NoSigners, || set(1, vec![]));
        let mut with_self = signers(2, 1);
        with_self.push(SignerEntry {
            account: a,
            weight: 1,
        });
        assert_fails(Error::SignerIsSelf, || set(1, with_self));
        let mut zero = signers(2, 1);
        zero[1].weight = 0;
        assert_fails(Error::ZeroWeight, || set(1, zero));
        let mut dup = signers(3, 1);
        dup[2].account = dup[0].account;
        assert_fails(Error::DuplicateSigner, || set(1, dup));
        assert_fails(Error::BadQuorum, || set(0, signers(3, 2)));
        // Quorum may equal the total weight, not exceed it.
        assert_fails(Error::BadQuorum, || set(7, signers(3, 2)));
        assert!(!SignerLists::contains_key(&a));
        set(6, signers(3, 2)).unwrap();
        assert_eq!(SignerLists::get(&a).unwrap().quorum, 6);
        take_events();
    });
}

#[test]
fn lists_are_stored_sorted_and_can_be_replaced() {
    Test::new().account(ALICE).run(|| {
        let a = acc(ALICE);
        let mut list = signers(5, 3);
        list.reverse();
        set(4, list.clone()).unwrap();
        let stored = SignerLists::get(&a).unwrap();
        let mut sorted = list.clone();
        sorted.sort();
        assert_eq!(stored.signers.as_slice(), &sorted[..]);
        assert_eq!(stored.weight_of(&list[0].account), Some(3));
        assert_eq!(stored.weight_of(&acc(BOB)), None);
        set(1, signers(1, 1)).unwrap();
        assert_eq!(SignerLists::get(&a).unwrap().signers.len(), 1);
        assert_eq!(
            take_events(),
            vec![
                Event::SignerListSet {
                    account: a,
                    quorum: 4,
                    signers: 5
                },
                Event::SignerListSet {
                    account: a,
                    quorum: 1,
                    signers: 1
                }
            ]
        );
    });
}

#[test]
fn remove_signers() {
    Test::new().account(ALICE).run(|| {
        let a = acc(ALICE);
        assert_fails(Error::NoSignerList, || {
            call(ALICE, SignedWith::Master, Call::RemoveSigners)
        });
        set(1, signers(2, 1)).unwrap();
        take_events();
        call(ALICE, SignedWith::Signers, Call::RemoveSigners).unwrap();
        assert!(!SignerLists::contains_key(&a));
        assert_eq!(take_events(), vec![Event::SignerListRemoved { account: a }]);
    });
}
