//! Replay tests in the rippled jtx style (security review H1): one
//! signature must authorise one transaction of one account signed one way.
//! Keys are no longer tied to one account here (regular keys, signer lists,
//! a master key that is another account's regular key), so the signed
//! payload commits to the account and to how it signed; each replay below
//! is refused with its reason and changes nothing.

use crate::scenario_accounts::{acc_call as acc, by_id, free, transfer, RICH};
use crate::scenario_tests::{dev, Chain};
use crate::signing::{
    multi_signed, payload, sign, sign_regular, signer_signature, SignForm, TxOptions,
};
use crate::{accounts, Extrinsic};
use qstack_core::{AccountId, KeyScheme, Pair};
use qstack_runtime_primitives::{
    ApplyExtrinsicResult, ExtrinsicSignature, InvalidTransaction, MultiAddress, SignerEntry,
    SignerKey, TransactionValidityError,
};

fn bad_proof() -> ApplyExtrinsicResult {
    Err(TransactionValidityError::Invalid(
        InvalidTransaction::BadProof,
    ))
}

/// The same extrinsic (signature and all) claimed for `other`.
fn readdressed(xt: &Extrinsic, other: AccountId) -> Extrinsic {
    let mut copy = xt.clone();
    if let Some((address, _, _)) = &mut copy.signature {
        *address = MultiAddress::Id(other);
    }
    copy
}

/// The same signature, claimed as made in another way.
fn resigned(xt: &Extrinsic, other: AccountId, as_regular: bool) -> Extrinsic {
    let mut copy = readdressed(xt, other);
    if let Some((_, signature, _)) = &mut copy.signature {
        let raw = match signature.clone() {
            ExtrinsicSignature::Master(s) | ExtrinsicSignature::Regular(s) => s,
            ExtrinsicSignature::Multi(_) => return copy,
        };
        *signature = if as_regular {
            ExtrinsicSignature::Regular(raw)
        } else {
            ExtrinsicSignature::Master(raw)
        };
    }
    copy
}

/// Alice and Carol, both funded, each setting `shared` as regular key
/// (nonce 0), in a started block.
fn two_accounts_sharing(shared: &Pair) -> (Chain, Pair, Pair) {
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let carol = dev(KeyScheme::Sr25519, "Carol");
    let mut chain = Chain::new(&[(&alice, RICH), (&carol, RICH)]);
    chain.start_block();
    let ctx = chain.ctx();
    for p in [&alice, &carol] {
        let set = acc(accounts::Call::SetRegularKey {
            key: shared.public(),
        });
        assert_eq!(
            chain.apply(&sign(p, set, &ctx, &TxOptions::nonce(0))),
            Ok(Ok(()))
        );
    }
    (chain, alice, carol)
}

#[test]
fn a_regular_key_shared_by_two_accounts_signs_for_one() {
    let shared = dev(KeyScheme::Hybrid, "SharedPQ");
    let bob = dev(KeyScheme::Sr25519, "Bob").account_id();
    let (mut chain, alice, carol) = two_accounts_sharing(&shared);
    let (a, c) = (alice.account_id(), carol.account_id());
    let ctx = chain.ctx();
    let xt = sign_regular(&shared, a, transfer(bob, 5_000), &ctx, &by_id(1));
    let before = free(&mut chain, &c);
    // Carol's nonce is 1 too: the copy would spend from her.
    assert_eq!(chain.apply(&readdressed(&xt, c)), bad_proof());
    assert_eq!(
        free(&mut chain, &c),
        before,
        "the refused replay paid nothing"
    );
    assert_eq!(chain.apply(&xt), Ok(Ok(())));
    assert_eq!(free(&mut chain, &bob), 5_000);
    chain.finish();
}

#[test]
fn tickets_of_two_accounts_with_one_regular_key_do_not_replay() {
    let shared = dev(KeyScheme::Falcon512, "SharedFalcon");
    let bob = dev(KeyScheme::Sr25519, "Bob").account_id();
    let (mut chain, alice, carol) = two_accounts_sharing(&shared);
    let (a, c) = (alice.account_id(), carol.account_id());
    let ctx = chain.ctx();
    for p in [&alice, &carol] {
        let create = acc(accounts::Call::CreateTickets { count: 2 });
        assert_eq!(chain.apply(&sign(p, create, &ctx, &by_id(1))), Ok(Ok(())));
    }
    // Both accounts hold tickets 2 and 3.
    let xt = sign_regular(
        &shared,
        a,
        transfer(bob, 7_000),
        &ctx,
        &TxOptions::ticket(2),
    );
    assert_eq!(chain.apply(&readdressed(&xt, c)), bad_proof());
    assert_eq!(chain.apply(&xt), Ok(Ok(())));
    chain.with(|| assert_eq!(accounts::settings(&c).tickets, vec![2, 3]));
    chain.finish();
}

#[test]
fn a_master_key_that_is_another_accounts_regular_key_signs_for_its_own() {
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let carol = dev(KeyScheme::Sr25519, "Carol");
    let bob = dev(KeyScheme::Sr25519, "Bob").account_id();
    let (a, c) = (alice.account_id(), carol.account_id());
    let mut chain = Chain::new(&[(&alice, RICH), (&carol, RICH)]);
    chain.start_block();
    let ctx = chain.ctx();
    // Carol makes Alice's master key her regular key.
    let set = acc(accounts::Call::SetRegularKey {
        key: alice.public(),
    });
    assert_eq!(
        chain.apply(&sign(&carol, set, &ctx, &TxOptions::nonce(0))),
        Ok(Ok(()))
    );
    let xt = sign(&alice, transfer(bob, 9_000), &ctx, &TxOptions::nonce(0));
    // Alice's master signature (nonce 0) as Carol's regular (her nonce is 1)…
    let xt1 = sign(&alice, transfer(bob, 9_000), &ctx, &by_id(1));
    assert_eq!(chain.apply(&xt), Ok(Ok(())));
    assert_eq!(chain.apply(&resigned(&xt1, c, true)), bad_proof());
    // …and a regular signature for Carol is not a master one for Alice.
    let as_carol = sign_regular(&alice, c, transfer(bob, 1), &ctx, &by_id(1));
    assert_eq!(chain.apply(&resigned(&as_carol, a, false)), bad_proof());
    assert_eq!(chain.apply(&as_carol), Ok(Ok(())));
    chain.finish();
}

#[test]
fn a_signer_list_shared_by_two_multisig_accounts_signs_for_one() {
    let m1 = dev(KeyScheme::Sr25519, "Treasury1");
    let m2 = dev(KeyScheme::Sr25519, "Treasury2");
    let s = dev(KeyScheme::MlDsa44, "Officer");
    let bob = dev(KeyScheme::Sr25519, "Bob").account_id();
    let mut chain = Chain::new(&[(&m1, RICH), (&m2, RICH)]);
    chain.start_block();
    let ctx = chain.ctx();
    for m in [&m1, &m2] {
        let set = acc(accounts::Call::SetSigners {
            quorum: 1,
            signers: vec![SignerEntry {
                account: s.account_id(),
                weight: 1,
            }],
        });
        assert_eq!(
            chain.apply(&sign(m, set, &ctx, &TxOptions::nonce(0))),
            Ok(Ok(()))
        );
    }
    let call = transfer(bob, 3_000);
    let (extra, p) = payload(&call, &ctx, &by_id(1), m1.account_id(), SignForm::Multi);
    let sig = signer_signature(&s, SignerKey::Key(s.public()), &p);
    let xt = multi_signed(
        m1.account_id(),
        call.clone(),
        extra.clone(),
        vec![sig.clone()],
    );
    let before = free(&mut chain, &m2.account_id());
    let copy = multi_signed(m2.account_id(), call, extra, vec![sig]);
    assert_eq!(chain.apply(&copy), bad_proof());
    assert_eq!(free(&mut chain, &m2.account_id()), before);
    assert_eq!(chain.apply(&xt), Ok(Ok(())));
    chain.finish();
}

#[test]
fn one_signers_signature_counts_for_one_listed_account() {
    // Signer accounts A and B are both on the list (weight 1 each, quorum
    // 2), and B's regular key is A's master key: one signature by that key
    // must not count as both A's and B's.
    let m = dev(KeyScheme::Sr25519, "Treasury");
    let a = dev(KeyScheme::Sr25519, "OfficerA");
    let b = dev(KeyScheme::Sr25519, "OfficerB");
    let bob = dev(KeyScheme::Sr25519, "Bob").account_id();
    let mut chain = Chain::new(&[(&m, RICH), (&b, RICH)]);
    chain.start_block();
    let ctx = chain.ctx();
    let set = acc(accounts::Call::SetRegularKey { key: a.public() });
    assert_eq!(
        chain.apply(&sign(&b, set, &ctx, &TxOptions::nonce(0))),
        Ok(Ok(()))
    );
    let list = acc(accounts::Call::SetSigners {
        quorum: 2,
        signers: [&a, &b]
            .iter()
            .map(|p| SignerEntry {
                account: p.account_id(),
                weight: 1,
            })
            .collect(),
    });
    assert_eq!(
        chain.apply(&sign(&m, list, &ctx, &TxOptions::nonce(0))),
        Ok(Ok(()))
    );
    let call = transfer(bob, 4_000);
    let (extra, p) = payload(&call, &ctx, &by_id(1), m.account_id(), SignForm::Multi);
    let as_a = signer_signature(&a, SignerKey::Key(a.public()), &p);
    let mut as_b = as_a.clone();
    as_b.signer = SignerKey::Regular(b.account_id());
    let xt = multi_signed(m.account_id(), call, extra, vec![as_a, as_b]);
    assert_eq!(chain.apply(&xt), bad_proof());
    chain.finish();
}

#[test]
fn an_unfunded_account_costs_no_signature_check() {
    // Security review H3: the balance check now runs before the signatures,
    // so junk signed for an account that cannot pay is refused as Payment
    // without a (post-quantum) verification; a funded account with a bad
    // signature is still a bad proof.
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let broke = dev(KeyScheme::Hybrid, "Broke");
    let bob = dev(KeyScheme::Sr25519, "Bob").account_id();
    let mut chain = Chain::new(&[(&alice, RICH)]);
    chain.start_block();
    let ctx = chain.ctx();
    let forged = |signer: &qstack_core::Pair, claimed: &qstack_core::Pair| {
        let xt = sign(signer, transfer(bob, 1), &ctx, &TxOptions::nonce(0));
        let mut copy = xt.clone();
        if let Some((address, _, _)) = &mut copy.signature {
            *address = MultiAddress::Key(claimed.public());
        }
        copy
    };
    let mallory = dev(KeyScheme::Hybrid, "Mallory");
    assert_eq!(
        chain.apply(&forged(&mallory, &broke)),
        Err(TransactionValidityError::Invalid(
            InvalidTransaction::Payment
        ))
    );
    let mallory_sr = dev(KeyScheme::Sr25519, "MallorySr");
    assert_eq!(chain.apply(&forged(&mallory_sr, &alice)), bad_proof());
    chain.finish();
}
