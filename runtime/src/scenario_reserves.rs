//! Reserves and economics through the executive: every object an account
//! stores locks its owner reserve, a call whose payer cannot cover it fails
//! whole (the fee stays), removing the object releases it; and what filling
//! blocks or state costs at the runtime's constants.

use crate::scenario_tests::{dev, Chain};
use crate::signing::{sign, TxOptions};
use crate::{accounts, executive, system, tokens, RuntimeCall, MAX_BLOCK_LENGTH, MAX_BLOCK_WEIGHT};
use codec::Encode;
use qstack_core::{Balance, KeyScheme, Pair};
use qstack_runtime_primitives::DispatchError;

const QS: Balance = 1_000_000_000_000;

fn tickets(count: u32) -> RuntimeCall {
    RuntimeCall::Accounts(accounts::Call::CreateTickets { count })
}

fn owns(chain: &mut Chain, who: &Pair) -> u32 {
    let id = who.account_id();
    chain.with(|| system::owned::owner_count(&id))
}

fn reserve_error() -> Result<(), DispatchError> {
    Err(tokens::Error::InsufficientReserve.into())
}

/// Alice, on a chain with the default reserves (1 QS + 0.2 QS per
/// object), has enough for fees and exactly `objects` objects.
fn chain_affording(objects: u32) -> (Chain, Pair) {
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let r = tokens::Reserves::default();
    let fees = QS / 10;
    let chain = Chain::from_genesis_json(&format!(
        r#"{{"balances":{{"balances":[["{}", "{}"]]}}}}"#,
        qstack_core::Address::from(alice.account_id()),
        r.account + Balance::from(objects) * r.owner + fees
    ));
    (chain, alice)
}

#[test]
fn objects_of_the_accounts_pallet_lock_the_owner_reserve() {
    let (mut chain, alice) = chain_affording(3);
    chain.start_block();
    let ctx = chain.ctx();
    // Two tickets and a regular key: three objects, all affordable.
    let xt = sign(&alice, tickets(2), &ctx, &TxOptions::nonce(0));
    assert_eq!(chain.apply(&xt), Ok(Ok(())));
    let key = dev(KeyScheme::MlDsa44, "Alice//regular").public();
    let set_key = RuntimeCall::Accounts(accounts::Call::SetRegularKey { key: key.clone() });
    let xt = sign(&alice, set_key.clone(), &ctx, &TxOptions::nonce(3));
    assert_eq!(chain.apply(&xt), Ok(Ok(())));
    assert_eq!(owns(&mut chain, &alice), 3);
    // A fourth object is refused with the reason; the fee is paid, the
    // tickets are not created and the nonce moves on.
    let before = chain.with(|| tokens::free_balance(&alice.account_id()));
    let xt = sign(&alice, tickets(1), &ctx, &TxOptions::nonce(4));
    assert_eq!(chain.apply(&xt), Ok(reserve_error()));
    assert_eq!(owns(&mut chain, &alice), 3);
    assert_eq!(
        chain.with(|| accounts::tickets::ticket_count(&alice.account_id())),
        2
    );
    assert!(chain.with(|| tokens::free_balance(&alice.account_id())) < before);
    // Replacing the key is no new object.
    let xt = sign(&alice, set_key, &ctx, &TxOptions::nonce(5));
    assert_eq!(chain.apply(&xt), Ok(Ok(())));
    // Using a ticket releases its reserve: now one more object fits.
    let remark = RuntimeCall::System(system::Call::Remark { remark: vec![1] });
    let xt = sign(&alice, remark, &ctx, &TxOptions::ticket(1));
    assert_eq!(chain.apply(&xt), Ok(Ok(())));
    assert_eq!(owns(&mut chain, &alice), 2);
    let xt = sign(&alice, tickets(1), &ctx, &TxOptions::nonce(6));
    assert_eq!(chain.apply(&xt), Ok(Ok(())));
    assert_eq!(owns(&mut chain, &alice), 3);
    // Spending into the reserve is refused; the reserve is visible.
    let required = chain.with(|| tokens::required_reserve(&alice.account_id()));
    let r = tokens::Reserves::default();
    assert_eq!(required, r.account + 3 * r.owner);
    let free = chain.with(|| tokens::free_balance(&alice.account_id()));
    let bob = dev(KeyScheme::Sr25519, "Bob");
    let too_much = RuntimeCall::Tokens(tokens::Call::Transfer {
        dest: bob.account_id(),
        value: free - required + 1,
        dest_tag: None,
    });
    // (Nonce 7 became ticket 7.)
    let xt = sign(&alice, too_much, &ctx, &TxOptions::nonce(8));
    assert_eq!(chain.apply(&xt), Ok(reserve_error()));
    chain.finish();
}

/// Bytes a storage entry adds to the trie: key and value (the trie's own
/// nodes come on top, so this under-counts and the cost is a lower bound).
fn entry_bytes(chain: &mut Chain, prefix: &[u8]) -> usize {
    chain.with(|| {
        let mut k = prefix.to_vec();
        let mut total = 0;
        while let Some(next) = qstack_io::storage::next_key(&k) {
            if !next.starts_with(prefix) {
                break;
            }
            total += next.len() + qstack_io::storage::get(&next).map_or(0, |v| v.len());
            k = next;
        }
        total
    })
}

#[test]
fn what_a_day_of_full_blocks_and_a_gigabyte_of_state_cost() {
    let (mut chain, alice) = chain_affording(10);
    chain.start_block();
    let ctx = chain.ctx();
    // The cheapest transaction that fills a block by weight: a one-byte
    // remark, sr25519, key already registered.
    let remark = RuntimeCall::System(system::Call::Remark { remark: vec![0] });
    let xt = sign(&alice, remark.clone(), &ctx, &TxOptions::nonce(1));
    let len = xt.encode().len() as u32;
    let weight = executive::base_weight(Some(KeyScheme::Sr25519)) + remark.weight();
    let fee = executive::compute_fee(len, weight);
    let per_block = (MAX_BLOCK_WEIGHT / weight).min(u64::from(MAX_BLOCK_LENGTH / len));
    let cheapest_block = fee * Balance::from(per_block as u32);
    // Filling a block by length: one big remark per 4 MiB extrinsic.
    let length_block = executive::compute_fee(MAX_BLOCK_LENGTH, 0);
    let day = 86_400u128;
    eprintln!(
        "economics: a {len}-byte remark pays {fee} ({} QS); {per_block} fill a block by weight: \
         {} QS a block, {} QS a day of 1 s blocks; a block full by length pays {} QS, {} QS a day",
        fee as f64 / QS as f64,
        cheapest_block as f64 / QS as f64,
        (cheapest_block * day) as f64 / QS as f64,
        length_block as f64 / QS as f64,
        (length_block * day) as f64 / QS as f64,
    );
    assert!(
        cheapest_block * day >= 100_000 * QS,
        "a day of full blocks is too cheap"
    );
    assert!(
        length_block * day >= 1_000_000 * QS,
        "a day of long blocks is too cheap"
    );
    // A gigabyte of state in tickets (the smallest object per reserve: a
    // ticket adds its nonce to the account's ticket list) and in new
    // accounts (balance + nonce entries, key registration at the byte fee).
    let before = entry_bytes(&mut chain, &[]);
    let xt = sign(&alice, tickets(10), &ctx, &TxOptions::nonce(0));
    assert_eq!(chain.apply(&xt), Ok(Ok(())));
    let ticket_bytes = (entry_bytes(&mut chain, &[]) - before) / 10;
    let r = tokens::Reserves::default();
    let gb = 1_000_000_000u128;
    let tickets_gb = gb / ticket_bytes.max(1) as u128 * r.owner;
    // A new sr25519 account: System.Account (nonce, counts and balance:
    // 4 + 3 * 4 + 4 * 16 bytes) and System.AccountKey (33 bytes), each under
    // a 32 + 16 + 32-byte key.
    let account_bytes = 2 * (32 + 16 + 32) + 80 + 33;
    let accounts_gb = gb / account_bytes as u128 * r.account;
    eprintln!(
        "economics: a ticket adds {ticket_bytes} bytes: a GB of tickets locks {} QS; \
         a GB of new sr25519 accounts ({account_bytes} bytes each) locks {} QS",
        tickets_gb as f64 / QS as f64,
        accounts_gb as f64 / QS as f64,
    );
    assert!(tickets_gb >= 1_000_000 * QS, "a GB of state is too cheap");
    assert!(
        accounts_gb >= 1_000_000 * QS,
        "a GB of accounts is too cheap"
    );
    chain.finish();
}

#[test]
fn a_blocks_weight_is_a_third_of_the_chains_block_time() {
    // A 3 ms block time: at most 1 ms of weight per block, however much the
    // runtime's own limit would allow.
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let mut chain = Chain::from_genesis_json(&format!(
        r#"{{"balances":{{"balances":[["{}", "{}"]]}}, "system": {{"blockTimeMs": 3}}}}"#,
        qstack_core::Address::from(alice.account_id()),
        1_000 * QS
    ));
    let limit = chain.with(|| system::max_block_weight(MAX_BLOCK_WEIGHT));
    assert_eq!(limit, system::weight_limit_for(3));
    assert_eq!(limit, 1_000_000_000);
    chain.start_block();
    let ctx = chain.ctx();
    let mut applied = 0u32;
    let refused = loop {
        let remark = RuntimeCall::System(system::Call::Remark { remark: vec![0] });
        let xt = sign(&alice, remark, &ctx, &TxOptions::nonce(applied));
        match chain.apply(&xt) {
            Ok(Ok(())) => applied += 1,
            other => break other,
        }
        assert!(applied < 100, "the limit never bound");
    };
    assert_eq!(
        refused,
        Err(
            qstack_runtime_primitives::TransactionValidityError::Invalid(
                qstack_runtime_primitives::InvalidTransaction::ExhaustsResources
            )
        )
    );
    let used = chain.with(|| system::BlockWeight::get().unwrap_or(0));
    assert!(
        used <= limit && applied >= 1,
        "{applied} remarks, {used} ps"
    );
    chain.finish();
}
