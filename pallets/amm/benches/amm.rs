//! Weight of each AMM call: the native time of one dispatch on a populated
//! state (committed to an in-memory trie, so reads walk it), events
//! included, beside the tokens pallet's issued-token transfer measured in
//! the same run (a one-hop swap moves two assets, so two transfers are its
//! floor). `Call::weight` declares these figures times three, rounded up
//! (see `pallet_amm::weights`).
#![allow(missing_docs)] // criterion's macros generate undocumented items

use criterion::{criterion_group, criterion_main, Criterion};
use pallet_amm::{AuctionSlot, Call, DepositMode, WithdrawMode};
use pallet_system::Origin;
use pallet_tokens::{endow, Call as TCall};
use qstack_core::AccountId;
use qstack_io::TestExternalities;
use qstack_runtime_primitives::{AssetId, TokenCode};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

const ISSUER: AccountId = AccountId([1; 32]);
const LP: AccountId = AccountId([2; 32]);
const TRADER: AccountId = AccountId([3; 32]);
const BIG: u128 = 1 << 90;
const POOL_SIDE: u128 = 1 << 70;

fn code(s: &[u8; 3]) -> TokenCode {
    TokenCode::Standard(*s)
}

fn asset(c: &[u8; 3]) -> AssetId {
    AssetId::Issued {
        issuer: ISSUER,
        code: code(c),
    }
}

fn numbered(n: u64) -> AccountId {
    let mut id = [9u8; 32];
    id[24..].copy_from_slice(&n.to_le_bytes());
    AccountId(id)
}

/// Set while each benchmark's first, untimed run goes through the test
/// harness, which fails if the call touched more storage than it declares.
static CHECKED: AtomicBool = AtomicBool::new(false);

/// Dispatches as the executive does; timed runs skip the test harness's
/// checks (which format every call and read the environment).
fn ok<C: qstack_support::Dispatch + core::fmt::Debug>(who: AccountId, call: C) {
    if CHECKED.load(Ordering::Relaxed) {
        pallet_system::testing::dispatch(Origin::Signed(who), call)
            .expect("benchmark call succeeds");
        return;
    }
    let ctx = qstack_support::DispatchContext::new(
        Origin::Signed(who),
        &pallet_system::testing::TEST_VERSION,
    );
    if let Err(e) = call.dispatch(&ctx) {
        panic!("benchmark call fails: {e:?}");
    }
}

fn fund(who: AccountId) {
    endow(&who, BIG).expect("endow");
    for c in [b"USD", b"EUR", b"GBP", b"JPY"] {
        ok(
            ISSUER,
            TCall::Mint {
                code: code(c),
                dest: who,
                amount: BIG,
                dest_tag: None,
            },
        );
    }
}

/// Pools native/USD, USD/EUR and EUR/GBP with 2^70 a side, eight LP
/// holders with votes in native/USD and its auction slot sold; 200 more
/// funded accounts. Committed, so reads go through the trie.
fn populated() -> TestExternalities {
    let mut ext = TestExternalities::new();
    ext.execute_with(|| {
        pallet_system::timestamp::Now::put(&1_000_000);
        endow(&ISSUER, BIG).expect("endow");
        for c in [b"USD", b"EUR", b"GBP", b"JPY"] {
            ok(
                ISSUER,
                TCall::Issue {
                    code: code(c),
                    name: c.to_vec(),
                    symbol: c.to_vec(),
                    decimals: 2,
                    max_supply: None,
                },
            );
        }
        for who in [LP, TRADER] {
            fund(who);
        }
        // EUR/GBP trades free: its least slot price is one LP unit, so the
        // bid benchmark can run as long as criterion likes.
        for (a, b, fee) in [
            (AssetId::Native, asset(b"USD"), 300),
            (asset(b"USD"), asset(b"EUR"), 300),
            (asset(b"EUR"), asset(b"GBP"), 0),
        ] {
            ok(
                LP,
                Call::CreatePool {
                    asset_a: a,
                    asset_b: b,
                    amount_a: POOL_SIDE,
                    amount_b: POOL_SIDE,
                    fee,
                },
            );
        }
        for i in 0..200 {
            fund(numbered(i));
        }
        // Seven more voters: the slots are full.
        for i in 0..7 {
            ok(
                numbered(i),
                Call::Deposit {
                    asset_a: AssetId::Native,
                    asset_b: asset(b"USD"),
                    mode: DepositMode::LpOut {
                        lp: 1 << 40,
                        max_a: BIG,
                        max_b: BIG,
                    },
                },
            );
            ok(
                numbered(i),
                Call::Vote {
                    asset_a: AssetId::Native,
                    asset_b: asset(b"USD"),
                    fee: 100 + 10 * i as u32,
                },
            );
        }
        ok(
            LP,
            Call::Bid {
                asset_a: AssetId::Native,
                asset_b: asset(b"USD"),
                min_price: None,
                max_price: None,
            },
        );
    });
    ext.commit_all();
    ext
}

static RUNS: AtomicU64 = AtomicU64::new(0);

fn timed(ext: &mut TestExternalities, iters: u64, f: impl Fn(u64)) -> Duration {
    pallet_system::testing::timed_runs(ext, iters, &RUNS, f)
}

fn bench(c: &mut Criterion, name: &str, f: impl Fn(u64) + Copy) {
    let mut ext = populated();
    CHECKED.store(true, Ordering::Relaxed);
    timed(&mut ext, 1, f);
    CHECKED.store(false, Ordering::Relaxed);
    c.bench_function(name, |b| b.iter_custom(|iters| timed(&mut ext, iters, f)));
}

/// Alternating directions keep the pools near their starting price.
fn path(i: u64, assets: &[AssetId]) -> Vec<AssetId> {
    let mut p = assets.to_vec();
    if i % 2 == 1 {
        p.reverse();
    }
    p
}

fn calls(c: &mut Criterion) {
    let (qs, usd, eur, gbp) = (AssetId::Native, asset(b"USD"), asset(b"EUR"), asset(b"GBP"));
    bench(c, "floor: transfer_token", |i| {
        ok(
            TRADER,
            TCall::TransferToken {
                issuer: ISSUER,
                code: code(b"USD"),
                dest: numbered(i % 200),
                amount: 1,
                dest_tag: None,
            },
        )
    });
    bench(c, "swap_exact_in (1 hop)", move |i| {
        ok(
            TRADER,
            Call::SwapExactIn {
                path: path(i, &[qs, usd]),
                amount_in: 1_000_000,
                min_out: 1,
            },
        )
    });
    bench(c, "swap_exact_out (1 hop)", move |i| {
        ok(
            TRADER,
            Call::SwapExactOut {
                path: path(i, &[qs, usd]),
                amount_out: 1_000_000,
                max_in: BIG,
            },
        )
    });
    bench(c, "swap_exact_in (3 hops)", move |i| {
        ok(
            TRADER,
            Call::SwapExactIn {
                path: path(i, &[qs, usd, eur, gbp]),
                amount_in: 1_000_000,
                min_out: 1,
            },
        )
    });
    bench(c, "deposit (proportional)", move |_| {
        ok(
            TRADER,
            Call::Deposit {
                asset_a: qs,
                asset_b: usd,
                mode: DepositMode::Proportional {
                    max_a: 1_000_000,
                    max_b: 1_000_000,
                    min_lp: 0,
                },
            },
        )
    });
    bench(c, "deposit (single asset)", move |_| {
        ok(
            TRADER,
            Call::Deposit {
                asset_a: qs,
                asset_b: usd,
                mode: DepositMode::Single {
                    asset: usd,
                    amount: 1_000_000,
                    min_lp: 0,
                },
            },
        )
    });
    bench(c, "withdraw (proportional)", move |_| {
        ok(
            LP,
            Call::Withdraw {
                asset_a: qs,
                asset_b: usd,
                mode: WithdrawMode::Proportional {
                    lp: 1_000_000,
                    min_a: 0,
                    min_b: 0,
                },
            },
        )
    });
    bench(c, "withdraw (single asset)", move |_| {
        ok(
            LP,
            Call::Withdraw {
                asset_a: qs,
                asset_b: usd,
                mode: WithdrawMode::Single {
                    asset: qs,
                    amount: 1_000_000,
                    max_lp: BIG,
                },
            },
        )
    });
    bench(c, "vote (eight slots)", move |i| {
        ok(
            LP,
            Call::Vote {
                asset_a: qs,
                asset_b: usd,
                fee: (i % 1_000) as u32,
            },
        )
    });
    bench(c, "bid (outbidding, refund paid)", move |_| {
        // TRADER holds the slot halfway through (one read and one write
        // more than the bid itself, counted in the figure).
        let pair = pallet_amm::pair_key(eur, gbp).expect("pair");
        let mut pool = pallet_amm::Pools::get(&pair).expect("pool");
        pool.slot = Some(AuctionSlot {
            owner: TRADER,
            expires: 1_000_000 + pallet_amm::formulas::SLOT_MILLIS / 2,
            price: 1 << 40,
        });
        pallet_amm::Pools::insert(&pair, &pool);
        ok(
            LP,
            Call::Bid {
                asset_a: eur,
                asset_b: gbp,
                min_price: None,
                max_price: None,
            },
        )
    });
    bench(c, "create_pool + withdraw all (two calls)", move |i| {
        let who = numbered(i % 200);
        let jpy = asset(b"JPY");
        ok(
            who,
            Call::CreatePool {
                asset_a: qs,
                asset_b: jpy,
                amount_a: 1_000_000,
                amount_b: 1_000_000,
                fee: 300,
            },
        );
        ok(
            who,
            Call::Withdraw {
                asset_a: qs,
                asset_b: jpy,
                mode: WithdrawMode::All { min_a: 0, min_b: 0 },
            },
        );
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = calls
}
criterion_main!(benches);
