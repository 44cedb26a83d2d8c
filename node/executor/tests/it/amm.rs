//! The Wasm runtime and the native one agree on every AMM call: the pool
//! arithmetic (256-bit products, square roots, the auction's decay) gives
//! the same state root in both, and the Wasm import of the block accepts it.

use super::{build_in_both, dev, executor, genesis, import_in_wasm, signed_in_order, Mode};
use qstack_core::{KeyScheme, H256};
use qstack_runtime::amm::{self, DepositMode, WithdrawMode};
use qstack_runtime::{tokens, RuntimeCall};
use qstack_runtime_primitives::{AssetId, Header, TokenCode};

#[test]
fn wasm_and_native_agree_on_every_amm_call() {
    let exec = executor();
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let a = alice.account_id();
    let wasm_state = genesis(&exec, Mode::Wasm, std::slice::from_ref(&alice));
    let mut native_state = genesis(&exec, Mode::Native, std::slice::from_ref(&alice));
    let genesis_hash = Header::genesis(H256(*wasm_state.backend.root())).hash();
    let code = |s: &str| TokenCode::parse(s).unwrap();
    let issued = |s: &str| AssetId::Issued {
        issuer: a,
        code: code(s),
    };
    let (qs, usd, eur) = (AssetId::Native, issued("USD"), issued("EUR"));
    let mut calls = Vec::new();
    for c in ["USD", "EUR"] {
        calls.push(RuntimeCall::Tokens(tokens::Call::Issue {
            code: code(c),
            name: c.into(),
            symbol: c.into(),
            decimals: 2,
            max_supply: None,
        }));
        calls.push(RuntimeCall::Tokens(tokens::Call::Mint {
            code: code(c),
            dest: a,
            amount: 1 << 80,
            dest_tag: None,
        }));
    }
    let amm = RuntimeCall::Amm;
    calls.extend([
        amm(amm::Call::CreatePool {
            asset_a: usd,
            asset_b: qs,
            amount_a: 3_000_000_000,
            amount_b: 70_000_000_000_000,
            fee: 300,
        }),
        amm(amm::Call::CreatePool {
            asset_a: usd,
            asset_b: eur,
            amount_a: 5_000_000_000,
            amount_b: 4_000_000_001,
            fee: 1_000,
        }),
        amm(amm::Call::SwapExactIn {
            path: vec![qs, usd, eur],
            amount_in: 123_456_789_012,
            min_out: 1,
        }),
        amm(amm::Call::SwapExactOut {
            path: vec![eur, usd],
            amount_out: 777_777,
            max_in: u128::MAX,
        }),
        amm(amm::Call::Deposit {
            asset_a: qs,
            asset_b: usd,
            mode: DepositMode::Single {
                asset: usd,
                amount: 12_345_678,
                min_lp: 1,
            },
        }),
        amm(amm::Call::Withdraw {
            asset_a: eur,
            asset_b: usd,
            mode: WithdrawMode::Single {
                asset: eur,
                amount: 1_000_001,
                max_lp: u128::MAX,
            },
        }),
        amm(amm::Call::Vote {
            asset_a: qs,
            asset_b: usd,
            fee: 777,
        }),
        amm(amm::Call::Bid {
            asset_a: qs,
            asset_b: usd,
            min_price: None,
            max_price: None,
        }),
        // Outbidding oneself: the refund stays, the rest is burned.
        amm(amm::Call::Bid {
            asset_a: qs,
            asset_b: usd,
            min_price: None,
            max_price: None,
        }),
        amm(amm::Call::Withdraw {
            asset_a: eur,
            asset_b: usd,
            mode: WithdrawMode::All { min_a: 0, min_b: 0 },
        }),
    ]);
    let signed = signed_in_order(&alice, calls, genesis_hash);

    let wasm_block = build_in_both(
        &exec,
        (&wasm_state, &native_state),
        genesis_hash,
        Default::default(),
        &signed,
    );
    import_in_wasm(&exec, &wasm_state, &mut native_state, &wasm_block);
}
