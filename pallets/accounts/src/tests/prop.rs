//! Property: no sequence of account operations, each signed in a way the
//! chain accepts at that moment, leaves an account with no way to sign; and
//! the way that remains really authorises a transaction.

use super::*;
use proptest::prelude::*;
use qstack_core::crypto::{FalconSignature, MlDsaSignature, Sr25519Signature};
use qstack_core::{KeyScheme, Signature};
use qstack_runtime_primitives::{ExtrinsicSignature, MultiAddress, SignerKey, SignerSignature};

/// A signature of `scheme` (its bytes do not matter: `authorise` decides
/// which keys must verify; the executive verifies them).
fn sig(scheme: KeyScheme) -> Signature {
    match scheme {
        KeyScheme::Sr25519 => Signature::Sr25519(Sr25519Signature([1; 64])),
        KeyScheme::Falcon512 => Signature::Falcon512(FalconSignature([1; FalconSignature::LEN])),
        KeyScheme::MlDsa44 => Signature::MlDsa44(MlDsaSignature([1; MlDsaSignature::LEN])),
        KeyScheme::Hybrid => Signature::Hybrid(
            FalconSignature([1; FalconSignature::LEN]),
            MlDsaSignature([1; MlDsaSignature::LEN]),
        ),
    }
}

/// The ways `who` may sign right now, each as the signature `authorise` accepts.
fn accepted_paths(who: &AccountId) -> Vec<(SignedWith, ExtrinsicSignature)> {
    let mut out = Vec::new();
    if let Some(master) = pallet_system::account_key(who) {
        out.push((
            SignedWith::Master,
            ExtrinsicSignature::Master(sig(master.scheme())),
        ));
    }
    if let Some(regular) = RegularKey::get(who) {
        out.push((
            SignedWith::Regular,
            ExtrinsicSignature::Regular(sig(regular.scheme())),
        ));
    }
    if let Some(list) = SignerLists::get(who) {
        let entries = list
            .signers
            .iter()
            .filter_map(|s| {
                let key = pallet_system::account_key(&s.account)?;
                Some(SignerSignature {
                    signer: SignerKey::Master(s.account),
                    signature: sig(key.scheme()),
                })
            })
            .collect();
        out.push((SignedWith::Signers, ExtrinsicSignature::Multi(entries)));
    }
    out.into_iter()
        .filter(|(_, s)| authorise(MultiAddress::Id(*who), s.clone()).is_ok())
        .collect()
}

/// Whether some signature `who` can produce is accepted.
pub(crate) fn some_path_authorises(who: &AccountId) -> bool {
    !accepted_paths(who).is_empty()
}

const SIGNERS: [u8; 4] = [10, 11, 12, 13];

#[derive(Clone, Debug)]
enum Op {
    SetRegularKey(u8),
    RemoveRegularKey,
    DisableMaster,
    EnableMaster,
    SetSigners { n: usize, weight: u16, quorum: u32 },
    RemoveSigners,
    CreateTickets(u32),
}

impl Op {
    fn call(&self) -> Call {
        match self {
            Op::SetRegularKey(k) => Call::SetRegularKey {
                key: if k % 2 == 0 {
                    hybrid_key(*k)
                } else {
                    sr_key(*k)
                },
            },
            Op::RemoveRegularKey => Call::RemoveRegularKey,
            Op::DisableMaster => Call::DisableMaster,
            Op::EnableMaster => Call::EnableMaster,
            Op::SetSigners { n, weight, quorum } => Call::SetSigners {
                quorum: *quorum,
                signers: SIGNERS
                    .iter()
                    .take(*n)
                    .map(|s| SignerEntry {
                        account: acc(*s),
                        weight: *weight,
                    })
                    .collect(),
            },
            Op::RemoveSigners => Call::RemoveSigners,
            Op::CreateTickets(n) => Call::CreateTickets { count: *n },
        }
    }
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        // Key 1 is Alice's own master key: refused as a regular key.
        (1u8..6).prop_map(Op::SetRegularKey),
        Just(Op::RemoveRegularKey),
        Just(Op::DisableMaster),
        Just(Op::EnableMaster),
        (0usize..=4, 0u16..3, 0u32..6).prop_map(|(n, weight, quorum)| Op::SetSigners {
            n,
            weight,
            quorum
        }),
        Just(Op::RemoveSigners),
        (0u32..300).prop_map(Op::CreateTickets),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn an_account_always_keeps_a_way_to_sign(
        ops in proptest::collection::vec((op(), any::<u8>()), 1..40)
    ) {
        let mut test = Test::new().account(ALICE);
        for s in SIGNERS {
            test = test.account(s);
        }
        test.run(|| {
            let a = acc(ALICE);
            for (op, pick) in ops {
                let paths = accepted_paths(&a);
                assert!(!paths.is_empty(), "no way to sign before {op:?}");
                let (signed_with, _) = paths[pick as usize % paths.len()].clone();
                let _ = call_as(a, signed_with, op.call());
                assert!(can_sign(&a), "no way to sign after {op:?} by {signed_with:?}");
                assert!(some_path_authorises(&a), "nothing authorises after {op:?}");
                assert_eq!(try_state(), Ok(()), "after {op:?}");
                take_events();
            }
        });
    }
}
