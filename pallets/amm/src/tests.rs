//! Unit, table and property tests. Every test runs through [`run`], which
//! checks the invariants of this pallet, the tokens pallet (pool balances
//! equal recorded reserves, supplies equal balances), the accounts pallet
//! and System, and the owner ledger, at the end; every call goes through
//! [`call`], which checks that a refused call wrote nothing and that no
//! call touches more storage than it declares.

use super::*;
use crate::formulas as f;
use pallet_system::testing::take_events_of;
use pallet_tokens::{Call as TCall, Reserves};

const A: AccountId = AccountId([1; 32]);
const B: AccountId = AccountId([2; 32]);
const C: AccountId = AccountId([3; 32]);
/// The issuer of USD and EUR.
const ISSUER: AccountId = AccountId([9; 32]);
const ED: Balance = 1_000;
const FUNDS: Balance = 1_000_000_000_000;

fn numbered(n: u32) -> AccountId {
    let mut id = [0x55; 32];
    id[28..].copy_from_slice(&n.to_le_bytes());
    AccountId(id)
}

fn code(s: &str) -> TokenCode {
    TokenCode::parse(s).expect("code")
}

fn usd() -> AssetId {
    AssetId::Issued {
        issuer: ISSUER,
        code: code("USD"),
    }
}

fn eur() -> AssetId {
    AssetId::Issued {
        issuer: ISSUER,
        code: code("EUR"),
    }
}

const QS: AssetId = AssetId::Native;

// Dispatches signed by `who` as the executive does (the call, then the
// reserve checks, all undone on error).
use pallet_tokens::testing::call;

fn err(e: Error) -> Result<(), DispatchError> {
    Err(e.into())
}

fn terr(e: pallet_tokens::Error) -> Result<(), DispatchError> {
    Err(e.into())
}

fn events() -> Vec<Event> {
    take_events_of::<Pallet>()
}

fn set_time(ms: u64) {
    pallet_system::timestamp::Now::put(&ms);
}

/// State for every test: reserves of `ED` per account and nothing per
/// object, ISSUER's USD and EUR, A, B and C funded with `FUNDS` of QS,
/// USD and EUR. Runs `f`, then every invariant.
fn run(f: impl FnOnce()) {
    run_with(0, f)
}

fn run_with(owner_reserve: Balance, f: impl FnOnce()) {
    pallet_system::testing::Scenario::new()
        .with(move || {
            pallet_tokens::ReserveConfig::put(&Reserves {
                account: ED,
                owner: owner_reserve,
            });
            set_time(1_000_000);
            pallet_tokens::endow(&ISSUER, FUNDS).expect("endow");
            for c in ["USD", "EUR"] {
                call(
                    ISSUER,
                    TCall::Issue {
                        code: code(c),
                        name: c.as_bytes().to_vec(),
                        symbol: c.as_bytes().to_vec(),
                        decimals: 2,
                        max_supply: None,
                    },
                )
                .expect("issue");
            }
            for who in [A, B, C] {
                fund(who);
            }
        })
        .run::<Pallet>(move || {
            f();
            check_all();
        })
}

fn fund(who: AccountId) {
    pallet_tokens::endow(&who, FUNDS).expect("endow");
    for c in ["USD", "EUR"] {
        call(
            ISSUER,
            TCall::Mint {
                code: code(c),
                dest: who,
                amount: FUNDS,
                dest_tag: None,
            },
        )
        .expect("mint");
    }
}

/// Every invariant of the pallets a pool touches, and the owner ledger.
fn check_all() {
    assert_eq!(pool::try_state(), Ok(()));
    assert_eq!(pallet_tokens::try_state(), Ok(()));
    assert_eq!(pallet_accounts::try_state(), Ok(()));
    let mut owned = alloc::collections::BTreeMap::new();
    pallet_tokens::owned_objects(&mut owned);
    pallet_accounts::owned_objects(&mut owned);
    <Pallet as qstack_support::Pallet>::owned_objects(&mut owned);
    owned.retain(|_, n| *n > 0);
    let ledger: alloc::collections::BTreeMap<_, _> =
        pallet_system::owned::ledger().into_iter().collect();
    assert_eq!(owned, ledger, "owner ledger");
}

fn create(
    who: AccountId,
    a: AssetId,
    b: AssetId,
    x: Balance,
    y: Balance,
    fee: u32,
) -> Result<(), DispatchError> {
    call(
        who,
        Call::CreatePool {
            asset_a: a,
            asset_b: b,
            amount_a: x,
            amount_b: y,
            fee,
        },
    )
}

fn info(a: AssetId, b: AssetId) -> PoolInfo {
    pool_info(a, b).expect("pool")
}

fn lp(a: AssetId, b: AssetId, who: AccountId) -> Balance {
    pallet_tokens::balance(&info(a, b).pool.lp_asset(), &who).free
}

fn bal(asset: AssetId, who: AccountId) -> Balance {
    pallet_tokens::balance(&asset, &who).free
}

fn swap_in(
    who: AccountId,
    path: &[AssetId],
    amount: Balance,
    min: Balance,
) -> Result<(), DispatchError> {
    call(
        who,
        Call::SwapExactIn {
            path: path.to_vec(),
            amount_in: amount,
            min_out: min,
        },
    )
}

fn swap_out(
    who: AccountId,
    path: &[AssetId],
    amount: Balance,
    max: Balance,
) -> Result<(), DispatchError> {
    call(
        who,
        Call::SwapExactOut {
            path: path.to_vec(),
            amount_out: amount,
            max_in: max,
        },
    )
}

fn deposit(who: AccountId, a: AssetId, b: AssetId, mode: DepositMode) -> Result<(), DispatchError> {
    call(
        who,
        Call::Deposit {
            asset_a: a,
            asset_b: b,
            mode,
        },
    )
}

/// `who` buys exactly `lp` LP tokens of the QS/USD pool at any price.
fn buy_lp(who: AccountId, lp: Balance) -> Result<(), DispatchError> {
    deposit(
        who,
        QS,
        usd(),
        DepositMode::LpOut {
            lp,
            max_a: u128::MAX,
            max_b: u128::MAX,
        },
    )
}

fn withdraw(
    who: AccountId,
    a: AssetId,
    b: AssetId,
    mode: WithdrawMode,
) -> Result<(), DispatchError> {
    call(
        who,
        Call::Withdraw {
            asset_a: a,
            asset_b: b,
            mode,
        },
    )
}

fn vote(who: AccountId, fee: u32) -> Result<(), DispatchError> {
    call(
        who,
        Call::Vote {
            asset_a: QS,
            asset_b: usd(),
            fee,
        },
    )
}

// ---------- formulas against hand-computed figures ----------

#[test]
fn swap_formulas_match_uniswap_v2() {
    // Uniswap V2 getAmountOut(10_000, 1e6, 1e6) at 0.3%:
    // 10_000·997·1e6 / (1e6·1000 + 10_000·997) = 9871.58… → 9871.
    assert_eq!(f::swap_out(1_000_000, 1_000_000, 10_000, 300), Some(9_871));
    // getAmountIn(9871, 1e6, 1e6) = 1e6·9871·1000 / ((1e6 − 9871)·997) =
    // 9999.41… → 10_000 (rounded up).
    assert_eq!(f::swap_in(1_000_000, 1_000_000, 9_871, 300), Some(10_000));
    // Without a fee: x·y = k exactly, rounded in the pool's favour.
    assert_eq!(f::swap_out(1_000, 1_000, 1_000, 0), Some(500));
    assert_eq!(f::swap_in(1_000, 1_000, 500, 0), Some(1_000));
    // 1%: 1e6 in for 1e6·(99_000·1e6)/(1e11 + 99_000·1e6) = 497_487.4 → 497_487.
    assert_eq!(
        f::swap_out(1_000_000, 1_000_000, 1_000_000, 1_000),
        Some(497_487)
    );
    // The whole other side can never be bought.
    assert_eq!(f::swap_in(1_000, 1_000, 1_000, 0), None);
}

#[test]
fn single_asset_formulas_match_xls30() {
    let (bal, supply, fee) = (1_000_000u128, 1_000_000u128, 1_000u32);
    // Deposit 10_000 at 1%: T·(√(1 + 10_000·0.995/1e6) − 1) = 4962.69 → 4962.
    assert_eq!(
        f::lp_for_single_deposit(bal, 10_000, supply, fee),
        Some(4_962)
    );
    // The LP-out form is its inverse, rounded up: 4962 LP cost
    // B·t·(2T+t)/T² / 0.995 = 9998.6 → 9999 (at most the 10_000 above).
    assert_eq!(
        f::single_deposit_for_lp(bal, 4_962, supply, fee),
        Some(9_999)
    );
    // Withdraw 10_000 at 1%: T·(1 − √(1 − 10_000/(0.995·1e6))) = 5037.8;
    // the gross amount and the root are each rounded for the pool: 5039.
    assert_eq!(
        f::lp_for_single_withdraw(bal, 10_000, supply, fee),
        Some(5_039)
    );
    // Burning 5039 LP pays B·t·(2T−t)/T²·0.995 = 10_002.35; the gross
    // amount is rounded down first (10_052), then the fee: 10_001.
    assert_eq!(
        f::single_withdraw_for_lp(bal, 5_039, supply, fee),
        Some(10_001)
    );
    // Without a fee the deposit is the square-root law: 21% more of one
    // asset is 10% more LP tokens.
    assert_eq!(f::lp_for_single_deposit(100, 21, 100, 0), Some(10));
    // The whole balance cannot leave through one asset.
    assert_eq!(f::lp_for_single_withdraw(bal, bal, supply, 0), None);
    assert_eq!(f::single_withdraw_for_lp(bal, supply, supply, 0), None);
}

#[test]
fn single_asset_formulas_agree_with_real_arithmetic() {
    // Against f64 over a spread of sizes: every rounding is the pool's.
    for (b, t, x, fee) in [
        (1_000_000u128, 1_000_000u128, 10_000u128, 1_000u32),
        (5_000_000, 2_000_000, 1_234_567, 300),
        (10u128.pow(18), 10u128.pow(15), 10u128.pow(16), 0),
        (777_777, 123_456, 1, 999),
    ] {
        let (bf, tf, xf, ff) = (b as f64, t as f64, x as f64, f64::from(fee) / 100_000.0);
        let dep = tf * ((1.0 + xf * (1.0 - ff / 2.0) / bf).sqrt() - 1.0);
        let got = f::lp_for_single_deposit(b, x, t, fee).unwrap() as f64;
        assert!(
            got <= dep + 1e-6 * dep.max(1.0) && got >= dep - 2.0 - 1e-9 * dep,
            "deposit {got} vs {dep}"
        );
        if x < b / 2 {
            let wd = tf * (1.0 - (1.0 - xf / ((1.0 - ff / 2.0) * bf)).sqrt());
            let got = f::lp_for_single_withdraw(b, x, t, fee).unwrap() as f64;
            assert!(
                got >= wd - 1e-6 * wd.max(1.0) && got <= wd + 2.0 + 1e-9 * wd,
                "withdraw {got} vs {wd}"
            );
        }
    }
}

#[test]
fn fee_vote_mean_and_slot_prices() {
    // Weighted mean: 3 LP at 600 and 1 LP at 200 → 500.
    assert_eq!(f::weighted_fee(&[(3, 600), (1, 200)]), Some(500));
    assert_eq!(f::weighted_fee(&[(1, 1), (1, 2)]), Some(1));
    assert_eq!(f::weighted_fee(&[]), None);
    // XLS-30 least slot price T·fee/25: 1e6 LP at 0.5% → 200.
    assert_eq!(f::min_slot_price(1_000_000, 500), Some(200));
    assert_eq!(f::min_slot_price(10, 1), Some(1));
    // Outbidding in the first interval: 1000·1.05·(1 − 0.05^60) + 200.
    assert_eq!(f::outbid_price(1_000, 0, 200), Some(1_250));
    // In the last interval the decay has taken it all: (1 − 1^60) = 0.
    assert_eq!(f::outbid_price(1_000, 19, 200), Some(200));
    // Halfway, (10/20)^60 is negligible: still 1050 + 200.
    assert_eq!(f::outbid_price(1_000, 9, 200), Some(1_250));
    // Interval 18 (19/20)^60 = 0.0461: 1050·0.9539 = 1001.6 → 1002 + 200.
    assert_eq!(f::outbid_price(1_000, 18, 200), Some(1_202));
    // Refunds: the unused intervals' share.
    assert_eq!(f::slot_refund(1_000, 0), Some(950));
    assert_eq!(f::slot_refund(1_000, 19), Some(0));
}

// ---------- pools ----------

#[test]
fn create_pool_issues_sqrt_lp_to_the_creator() {
    run(|| {
        create(A, QS, usd(), 4_000_000, 1_000_000, 500).unwrap();
        let p = info(usd(), QS);
        // Canonical order: native first.
        assert_eq!(p.assets, [QS, usd()]);
        assert_eq!(p.pool.reserves, [4_000_000, 1_000_000]);
        assert_eq!(p.lp_supply, 2_000_000);
        assert_eq!(lp(QS, usd(), A), 2_000_000);
        assert_eq!(p.pool.fee, 500);
        assert_eq!(
            p.pool.votes,
            vec![VoteSlot {
                account: A,
                fee: 500
            }]
        );
        assert_eq!(bal(QS, p.pool.account), 4_000_000);
        assert_eq!(bal(usd(), p.pool.account), 1_000_000);
        assert_eq!(pool_account(&(QS, usd())), p.pool.account);
        let ev = events();
        assert!(matches!(
            ev.last(),
            Some(Event::PoolCreated { lp: 2_000_000, .. })
        ));
        // One pool per unordered pair.
        assert_eq!(create(B, usd(), QS, 10, 10, 0), err(Error::PoolExists));
        assert_eq!(create(B, QS, QS, 10, 10, 0), err(Error::SameAsset));
        assert_eq!(create(B, QS, eur(), 10, 10, 1_001), err(Error::BadFee));
        assert_eq!(create(B, QS, eur(), 0, 10, 0), err(Error::ZeroAmount));
        assert_eq!(
            create(B, QS, eur(), MAX_AMOUNT + 1, 10, 0),
            err(Error::Overflow)
        );
        let ghost = AssetId::Issued {
            issuer: C,
            code: code("XYZ"),
        };
        assert_eq!(create(B, QS, ghost, 10, 10, 0), err(Error::UnknownAsset));
        // Two issued assets make a pool too.
        create(B, eur(), usd(), 300, 300, 0).unwrap();
        assert_eq!(info(usd(), eur()).lp_supply, 300);
        assert_eq!(pools().len(), 2);
    });
}

#[test]
fn nobody_can_pay_into_a_pool_directly() {
    run(|| {
        create(A, QS, usd(), 1_000_000, 1_000_000, 0).unwrap();
        let pool = info(QS, usd()).pool.account;
        // Neither native nor issued: the pool's balances stay its reserves.
        assert_eq!(
            call(
                B,
                TCall::Transfer {
                    dest: pool,
                    value: 5_000,
                    dest_tag: None
                }
            ),
            Err(pallet_accounts::Error::DepositNotAuthorized.into())
        );
        assert_eq!(
            call(
                B,
                TCall::TransferToken {
                    issuer: ISSUER,
                    code: code("USD"),
                    dest: pool,
                    amount: 5,
                    dest_tag: None
                }
            ),
            Err(pallet_accounts::Error::DepositNotAuthorized.into())
        );
        assert_eq!(
            call(
                ISSUER,
                TCall::Mint {
                    code: code("USD"),
                    dest: pool,
                    amount: 5,
                    dest_tag: None
                }
            ),
            Err(pallet_accounts::Error::DepositNotAuthorized.into())
        );
    });
}

#[test]
fn the_creator_pays_an_owner_reserve_while_the_pool_lives() {
    run_with(50_000, || {
        let before = pallet_system::owned::owner_count(&A);
        create(A, QS, usd(), 1_000_000, 1_000_000, 0).unwrap();
        // The pool and the LP holding are A's objects.
        assert_eq!(pallet_system::owned::owner_count(&A), before + 2);
        // A poor creator cannot afford the reserve.
        let poor = numbered(1);
        pallet_tokens::endow(&poor, ED + 10_000).unwrap();
        call(
            ISSUER,
            TCall::Mint {
                code: code("EUR"),
                dest: poor,
                amount: 100,
                dest_tag: None,
            },
        )
        .unwrap();
        assert_eq!(
            create(poor, QS, eur(), 9_000, 100, 0),
            terr(pallet_tokens::Error::InsufficientReserve)
        );
        // Withdrawing everything deletes the pool and frees the reserve.
        withdraw(A, QS, usd(), WithdrawMode::All { min_a: 0, min_b: 0 }).unwrap();
        assert!(pool_info(QS, usd()).is_none());
        assert_eq!(pallet_system::owned::owner_count(&A), before);
        assert!(matches!(events().last(), Some(Event::PoolDeleted { .. })));
        // The pair can be pooled again (the same account and LP token).
        create(B, usd(), QS, 10_000, 40_000, 10).unwrap();
        assert_eq!(info(QS, usd()).lp_supply, 20_000);
    });
}

#[test]
fn swaps_pay_exactly_what_the_quote_says() {
    run(|| {
        create(A, QS, usd(), 1_000_000, 1_000_000, 300).unwrap();
        let q = quote(&[QS, usd()], 10_000, true, Some(B)).unwrap();
        assert_eq!(q, 9_871);
        // A limit above the quote fails and moves nothing.
        assert_eq!(
            swap_in(B, &[QS, usd()], 10_000, 9_872),
            err(Error::Slippage)
        );
        let (qs0, usd0) = (bal(QS, B), bal(usd(), B));
        swap_in(B, &[QS, usd()], 10_000, 9_871).unwrap();
        assert_eq!(bal(QS, B), qs0 - 10_000);
        assert_eq!(bal(usd(), B), usd0 + 9_871);
        assert_eq!(info(QS, usd()).pool.reserves, [1_010_000, 990_129]);
        // Back the other way, exact out.
        let cost = quote(&[usd(), QS], 5_000, false, Some(B)).unwrap();
        assert_eq!(
            swap_out(B, &[usd(), QS], 5_000, cost - 1),
            err(Error::Slippage)
        );
        let usd1 = bal(usd(), B);
        swap_out(B, &[usd(), QS], 5_000, cost).unwrap();
        assert_eq!(bal(usd(), B), usd1 - cost);
        // The pool's product never shrank.
        let [x, y] = info(QS, usd()).pool.reserves;
        assert!(x * y >= 1_000_000 * 1_000_000);
        // A pool cannot be emptied of one side.
        assert_eq!(
            swap_out(B, &[usd(), QS], x, u128::MAX),
            err(Error::InsufficientLiquidity)
        );
        assert_eq!(swap_in(B, &[QS, eur()], 10, 0), err(Error::NoPool));
        assert_eq!(swap_in(B, &[QS], 10, 0), err(Error::BadPath));
        assert_eq!(swap_in(B, &[QS, usd()], 0, 0), err(Error::ZeroAmount));
    });
}

#[test]
fn multi_hop_swaps_pass_through_each_pool() {
    run(|| {
        create(A, QS, usd(), 1_000_000, 2_000_000, 300).unwrap();
        create(A, usd(), eur(), 2_000_000, 1_000_000, 300).unwrap();
        let path = [QS, usd(), eur()];
        let mid = f::swap_out(1_000_000, 2_000_000, 50_000, 300).unwrap();
        let end = f::swap_out(2_000_000, 1_000_000, mid, 300).unwrap();
        assert_eq!(quote(&path, 50_000, true, None).unwrap(), end);
        let eur0 = bal(eur(), B);
        swap_in(B, &path, 50_000, end).unwrap();
        assert_eq!(bal(eur(), B), eur0 + end);
        assert_eq!(
            events()
                .iter()
                .filter(|e| matches!(e, Event::Swapped { .. }))
                .count(),
            2
        );
        // Exact out, backwards through the same pools.
        let cost = quote(&[eur(), usd(), QS], 1_000, false, Some(B)).unwrap();
        let qs0 = bal(QS, B);
        swap_out(B, &[eur(), usd(), QS], 1_000, cost).unwrap();
        assert_eq!(bal(QS, B), qs0 + 1_000);
        // A path may not reuse a pool or exceed three hops.
        assert_eq!(swap_in(B, &[QS, usd(), QS], 10, 0), err(Error::BadPath));
        assert_eq!(
            swap_in(B, &[QS, usd(), eur(), QS, usd()], 10, 0),
            err(Error::BadPath)
        );
    });
}

#[test]
fn deposits_take_only_the_proportional_part() {
    run(|| {
        create(A, QS, usd(), 4_000_000, 1_000_000, 0).unwrap();
        // B offers 100_000 QS and 100_000 USD: only 25_000 USD is taken.
        let (qs0, usd0) = (bal(QS, B), bal(usd(), B));
        deposit(
            B,
            usd(),
            QS,
            DepositMode::Proportional {
                max_a: 100_000,
                max_b: 100_000,
                min_lp: 0,
            },
        )
        .unwrap();
        assert_eq!(bal(QS, B), qs0 - 100_000);
        assert_eq!(bal(usd(), B), usd0 - 25_000);
        assert_eq!(lp(QS, usd(), B), 50_000);
        assert_eq!(
            deposit(
                B,
                QS,
                usd(),
                DepositMode::Proportional {
                    max_a: 4,
                    max_b: 1,
                    min_lp: 3
                }
            ),
            err(Error::Slippage)
        );
        // LP-out: 1 LP costs ⌈1·4.1e6/2.05e6⌉ = 2 QS and ⌈1·1.025e6/2.05e6⌉ = 1 USD.
        deposit(
            C,
            QS,
            usd(),
            DepositMode::LpOut {
                lp: 1,
                max_a: 2,
                max_b: 1,
            },
        )
        .unwrap();
        assert_eq!(info(QS, usd()).pool.reserves, [4_100_002, 1_025_001]);
        assert_eq!(
            deposit(
                C,
                QS,
                usd(),
                DepositMode::LpOut {
                    lp: 1_000,
                    max_a: 1_999,
                    max_b: 1_000
                }
            ),
            err(Error::Slippage)
        );
        // Single asset: matches the formula, with the fee on half.
        let p = info(QS, usd());
        let want = f::lp_for_single_deposit(p.pool.reserves[1], 10_000, p.lp_supply, 0).unwrap();
        deposit(
            C,
            QS,
            usd(),
            DepositMode::Single {
                asset: usd(),
                amount: 10_000,
                min_lp: want,
            },
        )
        .unwrap();
        assert_eq!(lp(QS, usd(), C), 1 + want);
        assert_eq!(
            deposit(
                C,
                QS,
                usd(),
                DepositMode::Single {
                    asset: eur(),
                    amount: 10,
                    min_lp: 0
                }
            ),
            err(Error::NotInPool)
        );
        let p = info(QS, usd());
        let cost = f::single_deposit_for_lp(p.pool.reserves[0], 777, p.lp_supply, 0).unwrap();
        assert_eq!(
            deposit(
                C,
                QS,
                usd(),
                DepositMode::SingleLpOut {
                    asset: QS,
                    lp: 777,
                    max_in: cost - 1
                }
            ),
            err(Error::Slippage)
        );
        deposit(
            C,
            QS,
            usd(),
            DepositMode::SingleLpOut {
                asset: QS,
                lp: 777,
                max_in: cost,
            },
        )
        .unwrap();
        assert_eq!(lp(QS, usd(), C), 1 + want + 777);
    });
}

#[test]
fn withdrawals_in_every_form() {
    run(|| {
        create(A, QS, usd(), 4_000_000, 1_000_000, 1_000).unwrap();
        buy_lp(B, 100_000).unwrap();
        // Proportional: 1_000 of 2_100_000 LP → ⌊1000·4.2e6/2.1e6⌋ = 2000 QS, 500 USD.
        let (qs0, usd0) = (bal(QS, B), bal(usd(), B));
        withdraw(
            B,
            QS,
            usd(),
            WithdrawMode::Proportional {
                lp: 1_000,
                min_a: 2_000,
                min_b: 500,
            },
        )
        .unwrap();
        assert_eq!((bal(QS, B) - qs0, bal(usd(), B) - usd0), (2_000, 500));
        assert_eq!(
            withdraw(
                B,
                QS,
                usd(),
                WithdrawMode::Proportional {
                    lp: 1_000,
                    min_a: 2_001,
                    min_b: 0
                }
            ),
            err(Error::Slippage)
        );
        assert_eq!(
            withdraw(
                B,
                QS,
                usd(),
                WithdrawMode::Proportional {
                    lp: 10_000_000,
                    min_a: 0,
                    min_b: 0
                }
            ),
            err(Error::InsufficientLp)
        );
        // Single asset, exact amount out.
        let p = info(QS, usd());
        let burn =
            f::lp_for_single_withdraw(p.pool.reserves[1], 1_000, p.lp_supply, 1_000).unwrap();
        assert_eq!(
            withdraw(
                B,
                QS,
                usd(),
                WithdrawMode::Single {
                    asset: usd(),
                    amount: 1_000,
                    max_lp: burn - 1
                }
            ),
            err(Error::Slippage)
        );
        let lp0 = lp(QS, usd(), B);
        withdraw(
            B,
            QS,
            usd(),
            WithdrawMode::Single {
                asset: usd(),
                amount: 1_000,
                max_lp: burn,
            },
        )
        .unwrap();
        assert_eq!(lp(QS, usd(), B), lp0 - burn);
        // Single asset, exact LP in.
        let p = info(QS, usd());
        let out = f::single_withdraw_for_lp(p.pool.reserves[0], 500, p.lp_supply, 1_000).unwrap();
        let qs1 = bal(QS, B);
        withdraw(
            B,
            usd(),
            QS,
            WithdrawMode::SingleLpIn {
                asset: QS,
                lp: 500,
                min_out: out,
            },
        )
        .unwrap();
        assert_eq!(bal(QS, B), qs1 + out);
        // One asset can never take the whole pool.
        let all_qs = info(QS, usd()).pool.reserves[0];
        assert_eq!(
            withdraw(
                A,
                QS,
                usd(),
                WithdrawMode::Single {
                    asset: QS,
                    amount: all_qs,
                    max_lp: u128::MAX
                }
            ),
            err(Error::InsufficientLiquidity)
        );
        // Everyone withdraws all; the last one deletes the pool.
        withdraw(B, QS, usd(), WithdrawMode::All { min_a: 0, min_b: 0 }).unwrap();
        assert_eq!(lp(QS, usd(), B), 0);
        withdraw(A, QS, usd(), WithdrawMode::All { min_a: 0, min_b: 0 }).unwrap();
        assert!(pool_info(QS, usd()).is_none());
        assert_eq!(
            withdraw(A, QS, usd(), WithdrawMode::All { min_a: 0, min_b: 0 }),
            err(Error::NoPool)
        );
    });
}

#[test]
fn frozen_or_paused_assets_stay_out_of_pools() {
    run(|| {
        create(A, QS, usd(), 1_000_000, 1_000_000, 0).unwrap();
        buy_lp(B, 1_000).unwrap();
        // The issuer freezes some of B's USD: B can neither trade nor
        // deposit nor withdraw, and B's LP token cannot move.
        call(
            ISSUER,
            TCall::Freeze {
                code: code("USD"),
                holder: B,
                amount: Some(1),
            },
        )
        .unwrap();
        let frozen = terr(pallet_tokens::Error::Frozen);
        assert_eq!(swap_in(B, &[QS, usd()], 100, 0), frozen);
        assert_eq!(swap_in(B, &[usd(), QS], 100, 0), frozen);
        assert_eq!(
            deposit(
                B,
                QS,
                usd(),
                DepositMode::Single {
                    asset: QS,
                    amount: 100,
                    min_lp: 0
                }
            ),
            frozen
        );
        assert_eq!(
            withdraw(B, QS, usd(), WithdrawMode::All { min_a: 0, min_b: 0 }),
            frozen
        );
        let lpt = info(QS, usd()).pool;
        assert_eq!(
            call(
                B,
                TCall::TransferToken {
                    issuer: lpt.account,
                    code: lpt.lp_code,
                    dest: C,
                    amount: 10,
                    dest_tag: None
                }
            ),
            terr(pallet_tokens::Error::BackingFrozen)
        );
        // Others still trade.
        swap_in(C, &[QS, usd()], 100, 0).unwrap();
        call(
            ISSUER,
            TCall::Unfreeze {
                code: code("USD"),
                holder: B,
                amount: Some(1),
            },
        )
        .unwrap();
        swap_in(B, &[QS, usd()], 100, 0).unwrap();
        // Paused or globally frozen: nobody.
        call(ISSUER, TCall::Pause { code: code("USD") }).unwrap();
        assert_eq!(
            swap_in(C, &[QS, usd()], 100, 0),
            terr(pallet_tokens::Error::Paused)
        );
        assert_eq!(
            call(
                A,
                TCall::TransferToken {
                    issuer: lpt.account,
                    code: lpt.lp_code,
                    dest: C,
                    amount: 10,
                    dest_tag: None
                }
            ),
            terr(pallet_tokens::Error::BackingFrozen)
        );
        call(ISSUER, TCall::Unpause { code: code("USD") }).unwrap();
        call(ISSUER, TCall::GlobalFreeze { code: code("USD") }).unwrap();
        assert_eq!(buy_lp(C, 10), terr(pallet_tokens::Error::GlobalFrozen));
        call(ISSUER, TCall::GlobalUnfreeze { code: code("USD") }).unwrap();
        // LP tokens move freely again.
        call(
            A,
            TCall::TransferToken {
                issuer: lpt.account,
                code: lpt.lp_code,
                dest: C,
                amount: 10,
                dest_tag: None,
            },
        )
        .unwrap();
        assert_eq!(lp(QS, usd(), C), 10);
        // A frozen amount of the pool's own holding freezes the pool.
        call(
            ISSUER,
            TCall::Freeze {
                code: code("USD"),
                holder: lpt.account,
                amount: Some(1),
            },
        )
        .unwrap();
        assert_eq!(swap_in(C, &[QS, usd()], 100, 0), frozen);
    });
}

#[test]
fn fee_vote_weights_slots_and_replaces_the_smallest() {
    run(|| {
        create(A, QS, usd(), 10_000_000, 10_000_000, 1_000).unwrap();
        // Seven more holders with 1_000·k LP each.
        for k in 1..=7u32 {
            let who = numbered(k);
            fund(who);
            buy_lp(who, 1_000 * u128::from(k)).unwrap();
            vote(who, 100 * k).unwrap();
        }
        let p = info(QS, usd()).pool;
        assert_eq!(p.votes.len(), 8);
        // Mean by current holdings: A 1e7 at 1000, k at 100k.
        let mut w: Vec<(u128, u32)> = vec![(10_000_000, 1_000)];
        w.extend((1..=7u32).map(|k| (1_000 * u128::from(k), 100 * k)));
        assert_eq!(p.fee, f::weighted_fee(&w).unwrap());
        // A ninth holder with as much as the smallest is not admitted…
        let ninth = numbered(9);
        fund(ninth);
        buy_lp(ninth, 1_000).unwrap();
        assert_eq!(vote(ninth, 0), err(Error::VoteNotAdmitted));
        // …with one more LP unit it displaces the smallest (holder 1).
        buy_lp(ninth, 1).unwrap();
        vote(ninth, 0).unwrap();
        let p = info(QS, usd()).pool;
        assert!(p.votes.iter().all(|v| v.account != numbered(1)));
        assert!(p.votes.contains(&VoteSlot {
            account: ninth,
            fee: 0
        }));
        // Re-voting replaces one's own slot.
        vote(A, 500).unwrap();
        let p = info(QS, usd()).pool;
        assert_eq!(p.votes.iter().filter(|v| v.account == A).count(), 1);
        assert!(matches!(
            events().last(),
            Some(Event::FeeVoted { vote: 500, .. })
        ));
        assert_eq!(vote(A, 1_001), err(Error::BadFee));
        assert_eq!(vote(numbered(20), 10), err(Error::InsufficientLp));
    });
}

#[test]
fn fee_vote_ties_go_to_the_lower_fee_then_the_lower_account() {
    run(|| {
        create(A, QS, usd(), 10_000_000, 10_000_000, 0).unwrap();
        // Seven holders of 500 LP each: two tie at the smallest weight.
        for k in 1..=7u32 {
            let who = numbered(k);
            fund(who);
            buy_lp(who, 500).unwrap();
            // Fees: 1 and 2 vote 300, the rest 700.
            vote(who, if k <= 2 { 300 } else { 700 }).unwrap();
        }
        let newcomer = numbered(30);
        fund(newcomer);
        buy_lp(newcomer, 501).unwrap();
        vote(newcomer, 10).unwrap();
        // Lowest fee first among equals, then the lower account id: 1.
        let v = info(QS, usd()).pool.votes;
        assert!(v.iter().all(|s| s.account != numbered(1)), "{v:?}");
        assert!(v.iter().any(|s| s.account == numbered(2)));
        // A holder who sold out drops from the slots at the next vote.
        let p = info(QS, usd()).pool;
        call(
            numbered(3),
            TCall::TransferToken {
                issuer: p.account,
                code: p.lp_code,
                dest: A,
                amount: 500,
                dest_tag: None,
            },
        )
        .unwrap();
        vote(A, 0).unwrap();
        assert!(info(QS, usd())
            .pool
            .votes
            .iter()
            .all(|s| s.account != numbered(3)));
    });
}

#[test]
fn the_auction_slot_discounts_and_refunds() {
    run(|| {
        create(A, QS, usd(), 1_000_000, 1_000_000, 1_000).unwrap();
        buy_lp(B, 100_000).unwrap();
        let supply = info(QS, usd()).lp_supply;
        let floor = f::min_slot_price(supply, 1_000).unwrap();
        let bid = |who, min_price, max_price| {
            call(
                who,
                Call::Bid {
                    asset_a: QS,
                    asset_b: usd(),
                    min_price,
                    max_price,
                },
            )
        };
        assert_eq!(bid(B, None, Some(floor - 1)), err(Error::Slippage));
        bid(B, Some(1_000), None).unwrap();
        assert_eq!(lp(QS, usd(), B), 100_000 - 1_000);
        assert_eq!(info(QS, usd()).lp_supply, supply - 1_000);
        // B trades at a tenth of the fee; others at the full fee.
        assert_eq!(
            quote(&[QS, usd()], 10_000, true, Some(B)).unwrap(),
            f::swap_out(1_100_000, 1_100_000, 10_000, 100).unwrap()
        );
        assert_eq!(
            quote(&[QS, usd()], 10_000, true, Some(C)).unwrap(),
            f::swap_out(1_100_000, 1_100_000, 10_000, 1_000).unwrap()
        );
        // A outbids in interval 2 (2h30 in): pays 1000·1.05·(1 − 0.15^60) + floor,
        // B gets back 1000·17/20 = 850.
        set_time(1_000_000 + 9_000_000);
        let supply = info(QS, usd()).lp_supply;
        let floor = f::min_slot_price(supply, 1_000).unwrap();
        let price = f::outbid_price(1_000, 2, floor).unwrap();
        // B has sold all its LP tokens: the refund makes it a new holding
        // (the most storage a bid touches).
        let p = info(QS, usd()).pool;
        let all = lp(QS, usd(), B);
        call(
            B,
            pallet_tokens::Call::TransferToken {
                issuer: p.account,
                code: p.lp_code,
                dest: C,
                amount: all,
                dest_tag: None,
            },
        )
        .unwrap();
        let a0 = lp(QS, usd(), A);
        bid(A, None, Some(price)).unwrap();
        assert_eq!(lp(QS, usd(), A), a0 - price);
        assert_eq!(lp(QS, usd(), B), 850);
        assert!(matches!(
            events().last(),
            Some(Event::SlotBought { refund: 850, .. })
        ));
        assert_eq!(info(QS, usd()).pool.slot.unwrap().owner, A);
        // After expiry the slot sells at the floor again, with no refund.
        set_time(1_000_000 + 9_000_000 + f::SLOT_MILLIS);
        let supply = info(QS, usd()).lp_supply;
        let floor = f::min_slot_price(supply, 1_000).unwrap();
        bid(numbered(5), None, None).unwrap_err();
        bid(B, None, Some(floor)).unwrap();
        assert!(matches!(
            events().last(),
            Some(Event::SlotBought { refund: 0, .. })
        ));
    });
}

#[test]
fn the_price_oracle_accumulates_price_times_time() {
    run(|| {
        create(A, QS, usd(), 1_000_000, 4_000_000, 0).unwrap();
        set_time(1_000_000 + 6_000);
        swap_in(B, &[QS, usd()], 1_000, 0).unwrap();
        let p = info(QS, usd()).pool;
        // 6 s at 4 USD per QS and 0.25 QS per USD, in 64.64.
        assert_eq!(
            p.price_cumulative,
            [4u128 << 64, 1u128 << 62].map(|x| x * 6_000)
        );
        assert_eq!(p.last_update, 1_006_000);
        // A second trade in the same block adds nothing.
        swap_in(B, &[QS, usd()], 1_000, 0).unwrap();
        assert_eq!(info(QS, usd()).pool.price_cumulative, p.price_cumulative);
    });
}

#[test]
fn the_pool_account_never_signs() {
    run(|| {
        create(A, QS, usd(), 1_000_000, 1_000_000, 0).unwrap();
        let pool = info(QS, usd()).pool.account;
        // No key derives the id, and the tokens pallet knows it is a pool's.
        assert!(pallet_tokens::pseudo::is_pseudo(&pool));
        assert_eq!(
            pallet_accounts::flags(&pool).deposit_auth,
            qstack_runtime_primitives::DepositAuth::Preauthorized
        );
    });
}

// ---------- random sequences ----------

mod prop {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Op {
        Swap {
            who: u8,
            dir: bool,
            amount: u128,
            exact_in: bool,
        },
        Deposit {
            who: u8,
            form: u8,
            x: u128,
            y: u128,
        },
        Withdraw {
            who: u8,
            form: u8,
            x: u128,
        },
        Vote {
            who: u8,
            fee: u32,
        },
        Bid {
            who: u8,
        },
        Wait {
            ms: u64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0u8..3, any::<bool>(), 1u128..2_000_000, any::<bool>()).prop_map(
                |(who, dir, amount, exact_in)| Op::Swap {
                    who,
                    dir,
                    amount,
                    exact_in
                }
            ),
            (0u8..3, 0u8..4, 1u128..2_000_000, 1u128..2_000_000)
                .prop_map(|(who, form, x, y)| Op::Deposit { who, form, x, y }),
            (0u8..3, 0u8..4, 1u128..2_000_000).prop_map(|(who, form, x)| Op::Withdraw {
                who,
                form,
                x
            }),
            (0u8..3, 0u32..=1_000).prop_map(|(who, fee)| Op::Vote { who, fee }),
            (0u8..3).prop_map(|who| Op::Bid { who }),
            (1u64..10_000_000).prop_map(|ms| Op::Wait { ms }),
        ]
    }

    fn who(i: u8) -> AccountId {
        [A, B, C][usize::from(i % 3)]
    }

    /// What an account owns of both assets, LP tokens valued at their
    /// share of the reserves.
    fn worth(w: AccountId) -> (u128, u128) {
        let (q, u) = (bal(QS, w), bal(usd(), w));
        match pool_info(QS, usd()) {
            Some(p) => {
                let l = pallet_tokens::balance(&p.pool.lp_asset(), &w).free;
                (
                    q + l * p.pool.reserves[0] / p.lp_supply,
                    u + l * p.pool.reserves[1] / p.lp_supply,
                )
            }
            None => (q, u),
        }
    }

    fn apply(op: &Op) {
        let (a, b) = (QS, usd());
        let _ = match *op {
            Op::Swap {
                who: w,
                dir,
                amount,
                exact_in,
            } => {
                let path = if dir { [a, b] } else { [b, a] };
                let before = pool_info(a, b).map(|p| p.pool.reserves);
                let r = if exact_in {
                    let q = quote(&path, amount, true, Some(who(w)));
                    let r = swap_in(who(w), &path, amount, 0);
                    if let (Ok(q), Ok(())) = (&q, &r) {
                        // The quote is what the call did.
                        let ev = events();
                        assert!(
                            matches!(ev.last(), Some(Event::Swapped { amount_out, .. }) if amount_out == q)
                        );
                    }
                    r
                } else {
                    swap_out(who(w), &path, amount, u128::MAX)
                };
                if r.is_ok() {
                    let (x0, y0) = before.map(|[x, y]| (x, y)).unwrap();
                    let [x1, y1] = pool_info(a, b).unwrap().pool.reserves;
                    assert!(
                        math::U256::mul(x1, y1).halves() >= math::U256::mul(x0, y0).halves(),
                        "a swap shrank the product"
                    );
                }
                r
            }
            Op::Deposit { who: w, form, x, y } => {
                let mode = match form {
                    0 => DepositMode::Proportional {
                        max_a: x,
                        max_b: y,
                        min_lp: 0,
                    },
                    1 => DepositMode::LpOut {
                        lp: x,
                        max_a: u128::MAX,
                        max_b: u128::MAX,
                    },
                    2 => DepositMode::Single {
                        asset: if y.is_multiple_of(2) { a } else { b },
                        amount: x,
                        min_lp: 0,
                    },
                    _ => DepositMode::SingleLpOut {
                        asset: if y.is_multiple_of(2) { a } else { b },
                        lp: x,
                        max_in: u128::MAX,
                    },
                };
                deposit(who(w), a, b, mode)
            }
            Op::Withdraw { who: w, form, x } => {
                let mode = match form {
                    0 => WithdrawMode::Proportional {
                        lp: x,
                        min_a: 0,
                        min_b: 0,
                    },
                    1 => WithdrawMode::Single {
                        asset: if x.is_multiple_of(2) { a } else { b },
                        amount: x,
                        max_lp: u128::MAX,
                    },
                    2 => WithdrawMode::SingleLpIn {
                        asset: if x.is_multiple_of(2) { a } else { b },
                        lp: x,
                        min_out: 0,
                    },
                    _ => WithdrawMode::All { min_a: 0, min_b: 0 },
                };
                withdraw(who(w), a, b, mode)
            }
            Op::Vote { who: w, fee } => vote(who(w), fee),
            Op::Bid { who: w } => call(
                who(w),
                Call::Bid {
                    asset_a: a,
                    asset_b: b,
                    min_price: None,
                    max_price: None,
                },
            ),
            Op::Wait { ms } => {
                set_time(pallet_system::timestamp::now() + ms);
                Ok(())
            }
        };
        events();
        // √(r0·r1) ≥ LP supply, balances = reserves, after every step.
        assert_eq!(pool::try_state(), Ok(()));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Whatever decodes as a call re-encodes to the same bytes, and no
        /// input panics the decoder.
        #[test]
        fn call_decoding_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            use codec::DecodeAll;
            if let Ok(c) = Call::decode_all(&mut &bytes[..]) {
                prop_assert_eq!(c.encode(), bytes);
            }
        }

        /// Structured calls survive an encode/decode round trip.
        #[test]
        fn structured_calls_round_trip(amount in any::<u128>(), fee in any::<u32>(), n in 0usize..6) {
            use codec::DecodeAll;
            let path: Vec<AssetId> = (0..n).map(|i| if i.is_multiple_of(2) { QS } else { usd() }).collect();
            for c in [
                Call::SwapExactIn { path: path.clone(), amount_in: amount, min_out: amount / 2 },
                Call::Deposit { asset_a: QS, asset_b: usd(), mode: DepositMode::Single { asset: usd(), amount, min_lp: 1 } },
                Call::Withdraw { asset_a: usd(), asset_b: QS, mode: WithdrawMode::All { min_a: amount, min_b: 0 } },
                Call::Vote { asset_a: QS, asset_b: usd(), fee },
                Call::Bid { asset_a: QS, asset_b: usd(), min_price: Some(amount), max_price: None },
            ] {
                let bytes = c.encode();
                prop_assert_eq!(Call::decode_all(&mut &bytes[..]).ok(), Some(c));
            }
        }

        #[test]
        fn random_operations_keep_every_invariant(ops in proptest::collection::vec(op(), 1..40)) {
            run(|| {
                create(A, QS, usd(), 5_000_000, 3_000_000, 300).unwrap();
                for op in &ops {
                    apply(op);
                }
            });
        }

        /// Nobody ends up with more of both assets than it started with
        /// (LP tokens counted at their share): deposits, withdrawals and
        /// round-trip swaps never pay out a free lunch.
        #[test]
        fn no_sequence_extracts_value(ops in proptest::collection::vec(op(), 1..30)) {
            run(|| {
                create(A, QS, usd(), 5_000_000, 3_000_000, 300).unwrap();
                // C only trades with the pool; its loss or gain is measured.
                let start = worth(C);
                for op in &ops {
                    let op = match op.clone() {
                        Op::Swap { dir, amount, exact_in, .. } => Op::Swap { who: 2, dir, amount, exact_in },
                        Op::Deposit { form, x, y, .. } => Op::Deposit { who: 2, form, x, y },
                        Op::Withdraw { form, x, .. } => Op::Withdraw { who: 2, form, x },
                        // Bids burn the bidder's LP tokens (a gift to the
                        // other holders): only C bids here.
                        Op::Bid { .. } => Op::Bid { who: 2 },
                        other => other,
                    };
                    apply(&op);
                }
                // Close out: withdraw everything C holds.
                let _ = withdraw(C, QS, usd(), WithdrawMode::All { min_a: 0, min_b: 0 });
                let end = worth(C);
                // C cannot have gained in one asset without losing in the
                // other (x·y never shrinks, every rounding is the pool's).
                let gained = (end.0 > start.0 && end.1 >= start.1) || (end.1 > start.1 && end.0 >= start.0);
                assert!(!gained, "{start:?} → {end:?}");
            });
        }
    }
}
