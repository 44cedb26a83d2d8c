//! Native runtime scenarios of the accounts pallet through real, signed
//! extrinsics: key migration to post-quantum signing, multi-signing,
//! tickets, and the deposit rules on transfers.

use crate::scenario_tests::{dev, Chain};
use crate::signing::{
    multi_signed, payload, sign, sign_regular, signer_signature, SignForm, TxOptions,
};
use crate::{accounts, apis, executive, system, tokens, Extrinsic, RuntimeCall, RuntimeEvent};
use codec::Encode;
use qstack_core::{AccountId, Balance, KeyScheme, Pair};
use qstack_runtime_primitives::{
    ApplyExtrinsicResult, AssetId, DepositAuth, DispatchError, InvalidTransaction, SignerEntry,
    SignerKey, TransactionValidityError,
};

pub(crate) const RICH: Balance = 10u128.pow(15);

fn invalid(e: InvalidTransaction) -> ApplyExtrinsicResult {
    Err(TransactionValidityError::Invalid(e))
}

fn failed(e: accounts::Error) -> ApplyExtrinsicResult {
    Ok(Err(e.into()))
}

pub(crate) fn transfer(to: AccountId, value: Balance) -> RuntimeCall {
    RuntimeCall::Tokens(tokens::Call::Transfer {
        dest: to,
        value,
        dest_tag: None,
    })
}

pub(crate) fn acc_call(c: accounts::Call) -> RuntimeCall {
    RuntimeCall::Accounts(c)
}

pub(crate) fn by_id(nonce: u32) -> TxOptions {
    TxOptions {
        include_key: false,
        ..TxOptions::nonce(nonce)
    }
}

pub(crate) fn free(chain: &mut Chain, who: &AccountId) -> Balance {
    chain.with(|| tokens::free_balance(who))
}

#[test]
fn an_sr25519_account_moves_to_a_hybrid_regular_key() {
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let pq = dev(KeyScheme::Hybrid, "AlicePQ");
    let bob = dev(KeyScheme::Sr25519, "Bob").account_id();
    let a = alice.account_id();
    let mut chain = Chain::new(&[(&alice, RICH)]);
    chain.start_block();
    let ctx = chain.ctx();
    let set_key = acc_call(accounts::Call::SetRegularKey { key: pq.public() });
    assert_eq!(
        chain.apply(&sign(&alice, set_key, &ctx, &TxOptions::nonce(0))),
        Ok(Ok(()))
    );
    // The regular key cannot disable the master: only the master can.
    let disable = acc_call(accounts::Call::DisableMaster);
    let xt = sign_regular(&pq, a, disable.clone(), &ctx, &by_id(1));
    assert_eq!(chain.apply(&xt), failed(accounts::Error::NeedMasterKey));
    assert_eq!(
        chain.apply(&sign(&alice, disable, &ctx, &by_id(2))),
        Ok(Ok(()))
    );
    // From now on the sr25519 key is refused and the hybrid key signs.
    let xt = sign(&alice, transfer(bob, 5_000), &ctx, &by_id(3));
    assert_eq!(
        chain.apply(&xt),
        invalid(InvalidTransaction::MasterKeyDisabled)
    );
    let with_key = sign(
        &alice,
        transfer(bob, 5_000),
        &ctx,
        &TxOptions {
            include_key: true,
            ..TxOptions::nonce(3)
        },
    );
    assert_eq!(
        chain.apply(&with_key),
        invalid(InvalidTransaction::MasterKeyDisabled)
    );
    // A regular-key signature by another key is a bad proof.
    let other = dev(KeyScheme::Hybrid, "Mallory");
    let xt = sign_regular(&other, a, transfer(bob, 5_000), &ctx, &by_id(3));
    assert_eq!(chain.apply(&xt), invalid(InvalidTransaction::BadProof));
    for nonce in 3..5 {
        let xt = sign_regular(&pq, a, transfer(bob, 5_000), &ctx, &by_id(nonce));
        assert_eq!(chain.apply(&xt), Ok(Ok(())));
    }
    // The last way to sign stays.
    let remove = acc_call(accounts::Call::RemoveRegularKey);
    let xt = sign_regular(&pq, a, remove, &ctx, &by_id(5));
    assert_eq!(chain.apply(&xt), failed(accounts::Error::NoAlternativeKey));
    chain.finish();
    chain.with(|| {
        assert_eq!(tokens::free_balance(&bob), 10_000);
        assert_eq!(system::account_nonce(&a), 6);
        assert!(accounts::master_disabled(&a));
        assert_eq!(accounts::RegularKey::get(&a), Some(pq.public()));
        // The account id still derives from the sr25519 master key.
        assert_eq!(system::account_key(&a), Some(alice.public()));
    });
    let events = chain.events();
    assert!(events.contains(&RuntimeEvent::Accounts(
        accounts::Event::MasterKeyDisabled { account: a }
    )));
    // The regular key may enable the master again, which then signs.
    chain.start_block();
    let enable = acc_call(accounts::Call::EnableMaster);
    assert_eq!(
        chain.apply(&sign_regular(&pq, a, enable, &ctx, &by_id(6))),
        Ok(Ok(()))
    );
    let xt = sign(&alice, transfer(bob, 1_000), &ctx, &by_id(7));
    assert_eq!(chain.apply(&xt), Ok(Ok(())));
    chain.finish();
}

/// M (sr25519, endowed) with signers A (hybrid), B (sr25519), C (Falcon), all
/// without balance and never seen by the chain; quorum 2 of weights 1.
struct Multisig {
    chain: Chain,
    m: Pair,
    signers: [Pair; 3],
}

impl Multisig {
    fn new() -> Self {
        let m = dev(KeyScheme::Sr25519, "Multi");
        let signers = [
            dev(KeyScheme::Hybrid, "SignerA"),
            dev(KeyScheme::Sr25519, "SignerB"),
            dev(KeyScheme::Falcon512, "SignerC"),
        ];
        let mut chain = Chain::new(&[(&m, RICH)]);
        chain.start_block();
        let set = acc_call(accounts::Call::SetSigners {
            quorum: 2,
            signers: signers
                .iter()
                .map(|p| SignerEntry {
                    account: p.account_id(),
                    weight: 1,
                })
                .collect(),
        });
        let ctx = chain.ctx();
        assert_eq!(
            chain.apply(&sign(&m, set, &ctx, &TxOptions::nonce(0))),
            Ok(Ok(()))
        );
        Multisig { chain, m, signers }
    }

    /// The multi-signed `call` at `opts`, signed by `who` (indices into the
    /// signers) in that order, each with its master key carried inline.
    fn multi(&self, call: RuntimeCall, opts: &TxOptions, who: &[usize]) -> Extrinsic {
        let ctx = self.chain.ctx();
        let (extra, payload) = payload(&call, &ctx, opts, self.m.account_id(), SignForm::Multi);
        let sigs = who
            .iter()
            .map(|&i| {
                let p = &self.signers[i];
                signer_signature(p, SignerKey::Key(p.public()), &payload)
            })
            .collect();
        multi_signed(self.m.account_id(), call, extra, sigs)
    }
}

#[test]
fn two_of_three_multisig_in_any_order() {
    let mut t = Multisig::new();
    let bob = dev(KeyScheme::Sr25519, "Bob").account_id();
    let m = t.m.account_id();
    let call = transfer(bob, 777_000);
    // One signature is short of the quorum.
    let one = t.multi(call.clone(), &by_id(1), &[0]);
    assert_eq!(
        t.chain.apply(&one),
        invalid(InvalidTransaction::QuorumNotMet)
    );
    // The same signer twice does not count twice.
    let twice = t.multi(call.clone(), &by_id(1), &[1, 1]);
    assert_eq!(
        t.chain.apply(&twice),
        invalid(InvalidTransaction::DuplicateSigner)
    );
    // A signature over another payload is a bad proof.
    let mut forged = t.multi(call.clone(), &by_id(1), &[0, 2]);
    forged.function = transfer(bob, 777_001);
    assert_eq!(
        t.chain.apply(&forged),
        invalid(InvalidTransaction::BadProof)
    );
    // Somebody not on the list.
    let ctx = t.chain.ctx();
    let (extra, p) = payload(&call, &ctx, &by_id(1), m, SignForm::Multi);
    let eve = dev(KeyScheme::Sr25519, "Eve");
    let sigs = vec![
        signer_signature(&t.signers[0], SignerKey::Key(t.signers[0].public()), &p),
        signer_signature(&eve, SignerKey::Key(eve.public()), &p),
    ];
    let xt = multi_signed(m, call.clone(), extra, sigs);
    assert_eq!(
        t.chain.apply(&xt),
        invalid(InvalidTransaction::UnlistedSigner)
    );
    // C then A: listed A, B, C; gathered in another order.
    let before = free(&mut t.chain, &m);
    let ok = t.multi(call.clone(), &by_id(1), &[2, 0]);
    assert_eq!(t.chain.apply(&ok), Ok(Ok(())));
    assert_eq!(t.chain.apply(&ok), invalid(InvalidTransaction::Stale));
    t.chain.finish();
    let (a, c) = (t.signers[0].account_id(), t.signers[2].account_id());
    t.chain.with(|| {
        assert_eq!(tokens::free_balance(&bob), 777_000);
        assert_eq!(system::account_nonce(&m), 2);
        // The signers' keys are stored; they still have no balance.
        assert_eq!(system::account_key(&a), Some(t.signers[0].public()));
        assert_eq!(system::account_key(&c), Some(t.signers[2].public()));
        assert_eq!(tokens::free_balance(&a), 0);
    });
    assert!(before - free(&mut t.chain, &m) > 777_000, "M paid the fee");
    let events = t.chain.events();
    assert!(
        events.contains(&RuntimeEvent::System(system::Event::NewAccount {
            account: a
        }))
    );
    // Later, registered signers sign by id (their keys are not resent).
    t.chain.start_block();
    let ctx = t.chain.ctx();
    let (extra, p) = payload(&call, &ctx, &by_id(2), m, SignForm::Multi);
    let sigs = vec![
        signer_signature(&t.signers[0], SignerKey::Master(a), &p),
        signer_signature(&t.signers[1], SignerKey::Key(t.signers[1].public()), &p),
    ];
    let xt = multi_signed(m, call, extra, sigs);
    assert_eq!(t.chain.apply(&xt), Ok(Ok(())));
    t.chain.finish();
}

#[test]
fn multisig_fees_scale_with_signatures() {
    let t = Multisig::new();
    let bob = dev(KeyScheme::Sr25519, "Bob").account_id();
    let call = transfer(bob, 1_000);
    let two = t.multi(call.clone(), &by_id(1), &[1, 2]).encode();
    let three = t.multi(call.clone(), &by_id(1), &[1, 2, 0]).encode();
    let single = sign(&t.m, call.clone(), &t.chain.ctx(), &by_id(1)).encode();
    let info = |b: &Vec<u8>| executive::query_info(b, b.len() as u32);
    let (w1, _, _) = info(&single);
    let (w2, _, f2) = info(&two);
    let (w3, _, f3) = info(&three);
    let call_weight = call.weight();
    let per = executive::MULTISIG_SIGNER_WEIGHT;
    assert_eq!(
        w1,
        executive::base_weight(Some(KeyScheme::Sr25519)) + call_weight
    );
    // One overhead, and per signer its scheme's check and its share.
    let db = |d| qstack_support::db_weight(d);
    let per = per + db(executive::MULTISIG_SIGNER_DB);
    assert_eq!(
        w2,
        1_000_000
            + executive::SIGNED_OVERHEAD_WEIGHT
            + db(executive::SIGNED_OVERHEAD_DB)
            + executive::verify_weight(KeyScheme::Sr25519)
            + executive::verify_weight(KeyScheme::Falcon512)
            + 2 * per
            + call_weight
    );
    assert_eq!(w3, w2 + executive::verify_weight(KeyScheme::Hybrid) + per);
    assert!(f3 > f2);
    // `query_fee_details`: base, length and weight fees add up to the
    // quote; the tip is reported apart.
    let (parts, tip) = executive::query_fee_details(&three, three.len() as u32);
    let (base, len_fee, weight_fee) = parts.expect("a signed extrinsic pays");
    assert_eq!((base + len_fee + weight_fee, tip), (f3, 0));
    assert_eq!(len_fee, crate::BYTE_FEE * three.len() as u128);
    assert_eq!(base, crate::BASE_FEE);
    let mut tipped = by_id(1);
    tipped.tip = 77;
    let tipped = sign(&t.m, call.clone(), &t.chain.ctx(), &tipped).encode();
    let (parts, tip) = executive::query_fee_details(&tipped, tipped.len() as u32);
    let (_, _, f) = info(&tipped);
    assert_eq!(parts.map(|(b, l, w)| b + l + w), Some(f));
    assert_eq!(tip, 77);
    let unsigned = crate::Extrinsic::new_unsigned(call.clone()).encode();
    assert_eq!(
        executive::query_fee_details(&unsigned, unsigned.len() as u32),
        (None, 0)
    );
    // What applying it costs is what was quoted.
    let mut t = t;
    let m = t.m.account_id();
    let before = free(&mut t.chain, &m);
    let xt = t.multi(call, &by_id(1), &[1, 2, 0]);
    assert_eq!(xt.encode().len(), three.len());
    assert_eq!(t.chain.apply(&xt), Ok(Ok(())));
    assert_eq!(before - free(&mut t.chain, &m), 1_000 + f3);
    t.chain.finish();
}

#[test]
fn multisig_signers_by_id_after_carrying_their_keys_in_the_same_block() {
    let mut t = Multisig::new();
    let bob = dev(KeyScheme::Sr25519, "Bob").account_id();
    t.chain.finish();
    // Block 2: a 3-signature multisig whose signers carry their keys, then
    // one where two of them sign by id: their keys are not in the parent
    // state, but the first extrinsic registered them.
    let xt = t.multi(transfer(bob, 5_000), &by_id(1), &[0, 1, 2]);
    let (extra, p) = payload(
        &transfer(bob, 6_000),
        &t.chain.ctx(),
        &by_id(2),
        t.m.account_id(),
        SignForm::Multi,
    );
    let by_ids = multi_signed(
        t.m.account_id(),
        transfer(bob, 6_000),
        extra,
        vec![
            signer_signature(
                &t.signers[2],
                SignerKey::Master(t.signers[2].account_id()),
                &p,
            ),
            signer_signature(
                &t.signers[0],
                SignerKey::Master(t.signers[0].account_id()),
                &p,
            ),
        ],
    );
    t.chain.start_block();
    assert_eq!(t.chain.apply(&xt), Ok(Ok(())));
    assert_eq!(t.chain.apply(&by_ids), Ok(Ok(())));
    t.chain.finish();
}

#[test]
fn tickets_in_any_order_each_once() {
    let alice = dev(KeyScheme::MlDsa44, "Alice");
    let bob = dev(KeyScheme::Sr25519, "Bob").account_id();
    let a = alice.account_id();
    let mut chain = Chain::new(&[(&alice, RICH)]);
    chain.start_block();
    let ctx = chain.ctx();
    let create = acc_call(accounts::Call::CreateTickets { count: 3 });
    assert_eq!(
        chain.apply(&sign(&alice, create, &ctx, &TxOptions::nonce(0))),
        Ok(Ok(()))
    );
    // Nonce 0 was the create; tickets 1, 2, 3; the nonce is now 4.
    chain.with(|| {
        assert_eq!(accounts::settings(&a).tickets, vec![1, 2, 3]);
        assert_eq!(system::account_nonce(&a), 4);
    });
    for t in [3, 1] {
        let xt = sign(&alice, transfer(bob, 1_000), &ctx, &TxOptions::ticket(t));
        assert_eq!(chain.apply(&xt), Ok(Ok(())), "ticket {t}");
    }
    let reuse = sign(&alice, transfer(bob, 1_000), &ctx, &TxOptions::ticket(3));
    assert_eq!(chain.apply(&reuse), invalid(InvalidTransaction::NoTicket));
    let never = sign(&alice, transfer(bob, 1_000), &ctx, &TxOptions::ticket(9));
    assert_eq!(chain.apply(&never), invalid(InvalidTransaction::NoTicket));
    // A ticket travels in the nonce's place (flagged), so a transaction
    // cannot carry both: a nonce set beside a ticket is not sent.
    let with_nonce = sign(
        &alice,
        transfer(bob, 1_000),
        &ctx,
        &TxOptions {
            nonce: 4,
            ..TxOptions::ticket(2)
        },
    );
    let (_, _, extra) = with_nonce.signature.clone().unwrap();
    let sent: qstack_runtime_primitives::SignedExtra =
        codec::Decode::decode(&mut &codec::Encode::encode(&extra)[..]).unwrap();
    assert_eq!((sent.nonce, sent.ticket), (0, Some(2)));
    // The nonce path goes on beside the tickets.
    let xt = sign(&alice, transfer(bob, 1_000), &ctx, &by_id(4));
    assert_eq!(chain.apply(&xt), Ok(Ok(())));
    chain.finish();
    chain.with(|| {
        assert_eq!(accounts::settings(&a).tickets, vec![2]);
        assert_eq!(system::account_nonce(&a), 5);
        assert_eq!(tokens::free_balance(&bob), 3_000);
    });
    let events = chain.events();
    assert!(
        events.contains(&RuntimeEvent::Accounts(accounts::Event::TicketUsed {
            account: a,
            ticket: 1
        }))
    );
}

#[test]
fn ticket_transactions_get_their_own_pool_tags() {
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let bob = dev(KeyScheme::Sr25519, "Bob").account_id();
    let a = alice.account_id();
    let mut chain = Chain::new(&[(&alice, RICH)]);
    chain.start_block();
    let ctx = chain.ctx();
    let create = acc_call(accounts::Call::CreateTickets { count: 2 });
    assert_eq!(
        chain.apply(&sign(&alice, create, &ctx, &TxOptions::nonce(0))),
        Ok(Ok(()))
    );
    chain.finish();
    let parent = chain.parent;
    let validate = |chain: &mut Chain, xt: &Extrinsic| {
        let mut raw = qstack_runtime_primitives::TransactionSource::External.encode();
        raw.extend_from_slice(&xt.encode());
        raw.extend_from_slice(&parent.encode());
        let mut overlay = chain.ext.overlay.clone();
        let out = {
            let mut oe = qstack_io::OverlayExt::new(&mut overlay, &chain.ext.backend);
            qstack_io::set_and_run_with_externalities(&mut oe, || {
                apis::dispatch("TaggedTransactionQueue_validate_transaction", &raw)
            })
        };
        <qstack_runtime_primitives::TransactionValidity as codec::Decode>::decode(
            &mut &out.unwrap()[..],
        )
        .unwrap()
    };
    let xt = sign(&alice, transfer(bob, 1_000), &ctx, &TxOptions::ticket(2));
    let v = validate(&mut chain, &xt).expect("valid");
    assert!(v.requires.is_empty());
    assert_eq!(v.provides, vec![executive::ticket_tag(&a, 2)]);
    let xt = sign(&alice, transfer(bob, 1_000), &ctx, &TxOptions::ticket(5));
    assert_eq!(
        validate(&mut chain, &xt),
        Err(TransactionValidityError::Invalid(
            InvalidTransaction::NoTicket
        ))
    );
    // Nonce 3 creating 2 tickets provides nonces 3, 4 and 5 (4 and 5 become
    // tickets), so a transaction with nonce 6 can follow it in the pool.
    let create = acc_call(accounts::Call::CreateTickets { count: 2 });
    let v = validate(&mut chain, &sign(&alice, create, &ctx, &by_id(3))).expect("valid");
    assert!(v.requires.is_empty());
    let tag = |n: u32| (a, n).encode();
    assert_eq!(v.provides, vec![tag(3), tag(4), tag(5)]);
    let next = sign(&alice, transfer(bob, 1), &ctx, &by_id(6));
    assert_eq!(
        validate(&mut chain, &next).expect("future").requires,
        vec![tag(5)]
    );
    // Created with a ticket, they are the account's next nonces.
    let create = acc_call(accounts::Call::CreateTickets { count: 2 });
    let v = validate(
        &mut chain,
        &sign(&alice, create, &ctx, &TxOptions::ticket(1)),
    )
    .expect("valid");
    assert_eq!(
        v.provides,
        vec![executive::ticket_tag(&a, 1), tag(3), tag(4)]
    );
}

#[test]
fn transfers_obey_the_recipients_deposit_rules() {
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let bob = dev(KeyScheme::Sr25519, "Bob");
    let (a, b) = (alice.account_id(), bob.account_id());
    let mut chain = Chain::new(&[(&alice, RICH), (&bob, RICH)]);
    chain.start_block();
    let ctx = chain.ctx();
    let mut bob_nonce = 0;
    let mut bob_does = |chain: &mut Chain, c: accounts::Call| {
        let xt = sign(&bob, acc_call(c), &ctx, &TxOptions::nonce(bob_nonce));
        bob_nonce += 1;
        assert_eq!(chain.apply(&xt), Ok(Ok(())));
    };
    let module = |e: accounts::Error| -> ApplyExtrinsicResult { Ok(Err(DispatchError::from(e))) };
    bob_does(
        &mut chain,
        accounts::Call::SetDepositAuth {
            mode: DepositAuth::Preauthorized,
        },
    );
    let mut alice_nonce = 0;
    let mut alice_pays = |chain: &mut Chain| {
        let xt = sign(
            &alice,
            transfer(b, 5_000),
            &ctx,
            &TxOptions::nonce(alice_nonce),
        );
        alice_nonce += 1;
        chain.apply(&xt)
    };
    // Included (the fee is kept) but the credit is refused.
    assert_eq!(
        alice_pays(&mut chain),
        module(accounts::Error::DepositNotAuthorized)
    );
    bob_does(&mut chain, accounts::Call::Preauthorize { sender: a });
    assert_eq!(alice_pays(&mut chain), Ok(Ok(())));
    bob_does(
        &mut chain,
        accounts::Call::SetAllowedAssets {
            assets: Some(vec![]),
        },
    );
    assert_eq!(
        alice_pays(&mut chain),
        module(accounts::Error::AssetRefused)
    );
    bob_does(
        &mut chain,
        accounts::Call::SetAllowedAssets {
            assets: Some(vec![AssetId::Native]),
        },
    );
    bob_does(
        &mut chain,
        accounts::Call::SetRequireDestTag { required: true },
    );
    assert_eq!(
        alice_pays(&mut chain),
        module(accounts::Error::DestinationTagRequired)
    );
    chain.finish();
    // Exactly one credit went through: the pre-authorised one.
    let credits = chain
        .events()
        .into_iter()
        .filter(|e| {
            matches!(e, RuntimeEvent::Tokens(tokens::Event::Transfer { from, to, amount: 5_000, .. }) if *from == a && *to == b)
        })
        .count();
    assert_eq!(credits, 1);
}

#[test]
fn account_info_reports_the_settings() {
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let pq = dev(KeyScheme::Hybrid, "AlicePQ");
    let a = alice.account_id();
    let mut chain = Chain::new(&[(&alice, RICH)]);
    chain.start_block();
    let ctx = chain.ctx();
    let calls = [
        accounts::Call::SetRegularKey { key: pq.public() },
        accounts::Call::CreateTickets { count: 2 },
    ];
    for (n, c) in calls.into_iter().enumerate() {
        let xt = sign(&alice, acc_call(c), &ctx, &TxOptions::nonce(n as u32));
        assert_eq!(chain.apply(&xt), Ok(Ok(())));
    }
    chain.finish();
    let view = chain.with(|| {
        let out = apis::dispatch("QstackAccountApi_account_info", &a.encode()).unwrap();
        <apis::AccountView as codec::Decode>::decode(&mut &out[..]).unwrap()
    });
    assert_eq!(view.nonce, 4);
    assert_eq!(view.key, Some(alice.public()));
    assert_eq!(view.settings.regular_key, Some(pq.public()));
    assert_eq!(view.settings.tickets, vec![2, 3]);
    assert!(!view.settings.master_disabled);
}
