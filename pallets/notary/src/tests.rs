//! Every test runs through [`Test::run`], which checks `try_state` at the
//! end; every call goes through [`call`], which checks that a refused call
//! wrote nothing.

use super::*;
use pallet_system::testing::{dispatch_checked, take_events_of, Scenario};
use qstack_core::Address;
use qstack_io::TestExternalities;
use qstack_support::{Origin, Pallet as _, SignedWith};

const A: AccountId = AccountId([1; 32]);
const B: AccountId = AccountId([2; 32]);

fn h(n: u8) -> H256 {
    H256([n; 32])
}

fn call(who: AccountId, c: Call) -> Result<(), DispatchError> {
    dispatch_checked(Origin::Signed(who), SignedWith::Master, c)
}

/// A scenario at block 7, on System's base builder (which checks the
/// invariants after the body).
struct Test(Scenario);

impl Test {
    fn new() -> Self {
        Self(Scenario::new().at(7))
    }
    fn genesis(self, json: &'static str) -> Self {
        Self(self.0.genesis::<Pallet>(json))
    }
    fn run(self, f: impl FnOnce()) {
        self.0.run::<Pallet>(f)
    }
}

#[test]
fn a_hash_is_notarised_once_with_owner_and_block() {
    Test::new().run(|| {
        assert_eq!(call(A, Call::Notarise { hash: h(9) }), Ok(()));
        assert_eq!(note(&h(9)), Some(Note::new(A, 7)));
        assert_eq!(
            take_events_of::<Pallet>(),
            vec![Event::Notarised {
                owner: A,
                hash: h(9)
            }]
        );
        assert_eq!(
            call(B, Call::Notarise { hash: h(9) }),
            Err(Error::AlreadyNotarised.into())
        );
        assert_eq!(
            note(&h(9)).map(|n| n.owner),
            Some(A),
            "the first notary keeps it"
        );
        assert_eq!(NoteCount::get(&B), None);
    });
}

#[test]
fn only_signed_origins_notarise() {
    Test::new().run(|| {
        for origin in [Origin::Root, Origin::None] {
            assert_eq!(
                pallet_system::testing::dispatch(origin, Call::Notarise { hash: h(1) }),
                Err(DispatchError::BadOrigin)
            );
        }
    });
}

#[test]
fn an_account_is_bounded() {
    Test::new().run(|| {
        NoteCount::insert(&A, &(MAX_NOTES_PER_ACCOUNT - 1));
        // Keep the invariant honest: fake the owned notes the count claims.
        for i in 0..MAX_NOTES_PER_ACCOUNT - 1 {
            let mut k = [0u8; 32];
            k[..4].copy_from_slice(&i.to_le_bytes());
            k[31] = 0xee;
            Notes::insert(&H256(k), &Note::new(A, 1));
        }
        assert_eq!(call(A, Call::Notarise { hash: h(1) }), Ok(()));
        assert_eq!(
            call(A, Call::Notarise { hash: h(2) }),
            Err(Error::TooManyNotes.into())
        );
        assert_eq!(
            call(B, Call::Notarise { hash: h(2) }),
            Ok(()),
            "others are not"
        );
    });
}

#[test]
fn genesis_registers_notes_and_names_bad_fields() {
    let a = Address::from(A).to_string();
    let json = Box::leak(
        format!(
            r#"{{"notary":{{"notes":[["0x{}","{a}"]]}}}}"#,
            "ab".repeat(32)
        )
        .into_boxed_str(),
    );
    Test::new().genesis(json).run(|| {
        assert_eq!(note(&H256([0xab; 32])), Some(Note::new(A, 0)));
        assert_eq!(NoteCount::get(&A), Some(1));
    });
    TestExternalities::new().execute_with(|| {
        let build = |json: String| {
            let patch = serde_json::from_str(&json).unwrap();
            qstack_support::genesis::build::<Pallet>(&patch).unwrap_err()
        };
        let e = build(format!(r#"{{"notary":{{"notes":[["ab","{a}"]]}}}}"#));
        assert_eq!(e, "notary.notes[0]: expected a 0x-hex hash");
        let dup = format!("0x{}", "cd".repeat(32));
        let e = build(format!(
            r#"{{"notary":{{"notes":[["{dup}","{a}"],["{dup}","{a}"]]}}}}"#
        ));
        assert!(e.starts_with("notary.notes[1]: AlreadyNotarised"), "{e}");
        let e = build(r#"{"notary":{"note":[]}}"#.into());
        assert!(e.contains("unknown field `note`"), "{e}");
    });
}

#[test]
fn try_state_catches_a_wrong_count() {
    TestExternalities::new().execute_with(|| {
        Notes::insert(&h(1), &Note::new(A, 0));
        assert!(try_state().is_err());
        NoteCount::insert(&A, &1);
        assert!(try_state().is_ok());
        NoteCount::insert(&B, &1);
        assert!(try_state().is_err());
    });
}

#[test]
fn metadata_describes_what_was_declared_once() {
    let storage = Pallet::storage();
    let names: Vec<_> = storage.iter().map(|e| (e.name, e.docs)).collect();
    assert_eq!(
        names,
        vec![
            (
                "Notes",
                "Every registered hash: who registered it and at which block."
            ),
            (
                "NoteCount",
                "Number of hashes each account has registered (at most [`MAX_NOTES_PER_ACCOUNT`])."
            ),
        ]
    );
    let c = Pallet::constants();
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].name, "MaxNotesPerAccount");
    assert_eq!(c[0].value, MAX_NOTES_PER_ACCOUNT.encode());
    qstack_support::testing_support::check_known_calls::<Pallet>().unwrap();
}

#[cfg(feature = "upgrade-demo")]
mod upgrade_demo {
    use super::*;
    use crate::migration::{step, MIGRATION_BATCH};
    use qstack_support::Migration;

    /// Writes `n` notes in the version-0 layout, as the old runtime did.
    fn old_notes(n: u32) {
        for i in 0..n {
            let mut hash = [0u8; 32];
            hash[..4].copy_from_slice(&i.to_le_bytes());
            let key = Notes::key(&H256(hash));
            qstack_io::storage::set(&key, &(A, 3u32).encode());
        }
        NoteCount::insert(&A, &n);
    }

    #[test]
    fn the_migration_translates_every_note_over_several_blocks_once() {
        Test::new().run(|| {
            let n = 2 * MIGRATION_BATCH + 7;
            old_notes(n);
            let mut steps = 0;
            loop {
                steps += 1;
                match step() {
                    Migration::Continue { .. } => assert!(MigrationCursor::exists()),
                    Migration::Done { .. } => break,
                }
            }
            assert_eq!(steps, 3, "{n} notes at {MIGRATION_BATCH} a block");
            assert!(!MigrationCursor::exists());
            let notes = Notes::iter();
            assert_eq!(notes.len() as u32, n);
            assert!(notes
                .iter()
                .all(|(_, note)| note.owner == A && note.block == 3 && note.revoked.is_none()));
            // Idempotent: running it again changes nothing.
            let root = qstack_io::storage::root();
            while let Migration::Continue { .. } = step() {}
            assert_eq!(qstack_io::storage::root(), root);
        });
    }

    #[test]
    fn the_owner_revokes_its_note_once() {
        Test::new().run(|| {
            assert_eq!(call(A, Call::Notarise { hash: h(1) }), Ok(()));
            assert_eq!(
                call(B, Call::Revoke { hash: h(1) }),
                Err(Error::NotOwner.into())
            );
            assert_eq!(
                call(A, Call::Revoke { hash: h(2) }),
                Err(Error::UnknownNote.into())
            );
            assert_eq!(call(A, Call::Revoke { hash: h(1) }), Ok(()));
            assert_eq!(note(&h(1)).and_then(|n| n.revoked), Some(7));
            assert_eq!(
                call(A, Call::Revoke { hash: h(1) }),
                Err(Error::AlreadyRevoked.into())
            );
            let _ = take_events_of::<Pallet>();
        });
    }
}
