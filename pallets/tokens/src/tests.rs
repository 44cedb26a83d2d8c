//! Unit and property tests. Every test runs through [`Test::run`], which
//! checks `try_state` at the end; every call goes through [`call`], which
//! checks that a refused call wrote nothing at all.

use super::*;
use pallet_system::testing::{dispatch, dispatch_as};
use qstack_io::storage;
use qstack_runtime_primitives::{Digest, DigestItem, AUTHOR_ENGINE_ID};
use qstack_support::Origin;

const A: AccountId = AccountId([1; 32]);
const B: AccountId = AccountId([2; 32]);
const C: AccountId = AccountId([3; 32]);
const D: AccountId = AccountId([4; 32]);

/// The `n`th of a family of accounts distinct from A–D.
fn numbered(family: u8, n: u32) -> AccountId {
    let mut id = [family; 32];
    id[28..].copy_from_slice(&n.to_le_bytes());
    AccountId(id)
}

fn code(s: &str) -> TokenCode {
    TokenCode::parse(s).expect("valid code")
}

fn usd() -> TokenCode {
    code("USD")
}

fn asset(issuer: AccountId, c: TokenCode) -> AssetId {
    AssetId::Issued { issuer, code: c }
}

/// Every key and value in state.
fn snapshot() -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut k = Vec::new();
    while let Some(next) = storage::next_key(&k) {
        if let Some(v) = storage::get(&next) {
            out.push((next.clone(), v));
        }
        k = next;
    }
    out
}

/// The account reserve (existential deposit) these tests run with.
const ED: Balance = 1_000;

/// Native funds an account of a [`Test`] gets to pay its reserves when the
/// test endows it with nothing.
const ISSUER_FUNDS: Balance = 1_000_000;

/// Dispatches `c` signed by `who` as the executive does (the call, then the
/// reserve check of every account whose owner count rose, all undone on
/// error); a refused call must leave state untouched (the pallet checks
/// before it writes, so other pallets can rely on it).
fn call(who: AccountId, c: Call) -> Result<(), DispatchError> {
    let before = snapshot();
    storage::start_transaction();
    let r = dispatch(Origin::Signed(who), c).and_then(|()| settle_reserves());
    if r.is_ok() {
        storage::commit_transaction();
    } else {
        storage::rollback_transaction();
    }
    if r.is_err() {
        assert!(before == snapshot(), "a refused call wrote to state: {r:?}");
    }
    r
}

fn err(e: Error) -> Result<(), DispatchError> {
    Err(e.into())
}

/// This pallet's events since the last call, oldest first; clears them.
fn events() -> Vec<Event> {
    pallet_system::testing::take_events_of::<Pallet>()
}

fn issue_call(c: TokenCode, max_supply: Option<Balance>) -> Call {
    Call::Issue {
        code: c,
        name: b"US Dollar".to_vec(),
        symbol: b"USD".to_vec(),
        decimals: 2,
        max_supply,
    }
}

fn transfer_token(issuer: AccountId, c: TokenCode, dest: AccountId, amount: Balance) -> Call {
    Call::TransferToken {
        issuer,
        code: c,
        dest,
        amount,
        dest_tag: None,
    }
}

fn holding(who: AccountId, issuer: AccountId, c: TokenCode) -> Holding {
    balance(&asset(issuer, c), &who)
}

fn supply(issuer: AccountId, c: TokenCode) -> Balance {
    token(&issuer, &c).map(|t| t.supply).unwrap_or(0)
}

/// A fluent test scenario: genesis-like setup, then the test body, then the
/// invariants.
#[derive(Default)]
struct Test {
    endow: Vec<(AccountId, Balance)>,
    tokens: Vec<(AccountId, TokenCode, Option<Balance>)>,
    mints: Vec<(AccountId, TokenCode, AccountId, Balance)>,
}

impl Test {
    fn new() -> Self {
        Self::default()
    }

    fn endow(mut self, who: AccountId, amount: Balance) -> Self {
        self.endow.push((who, amount));
        self
    }

    /// `issuer` issues `code` (named "US Dollar", 2 decimals).
    fn token(mut self, issuer: AccountId, c: &str, max_supply: Option<Balance>) -> Self {
        self.tokens.push((issuer, code(c), max_supply));
        self
    }

    fn mint(mut self, issuer: AccountId, c: &str, to: AccountId, amount: Balance) -> Self {
        self.mints.push((issuer, code(c), to, amount));
        self
    }

    /// Endows, issues and mints (in that order), then runs `f` and the
    /// invariant checks (System's base builder).
    fn run(self, f: impl FnOnce()) {
        let Test {
            endow: endowed,
            tokens,
            mints,
        } = self;
        pallet_system::testing::Scenario::new()
            .with(move || {
                // Small reserves keep the arithmetic readable; reserve
                // tests set their own.
                ReserveConfig::put(&Reserves {
                    account: ED,
                    owner: 0,
                });
                for (who, amount) in &endowed {
                    endow(who, *amount).expect("endow");
                }
                // A test about issued tokens (one that endows nobody) funds
                // A–D, which pay the reserves of what they create;
                // issuers are funded in every test.
                let funded: Vec<AccountId> = if endowed.is_empty() {
                    vec![A, B, C, D]
                } else {
                    tokens.iter().map(|(issuer, _, _)| *issuer).collect()
                };
                for who in funded {
                    if free_balance(&who) == 0 {
                        endow(&who, ISSUER_FUNDS).expect("endow");
                    }
                }
                for (issuer, c, max) in &tokens {
                    call(*issuer, issue_call(*c, *max)).expect("issue");
                }
                for (issuer, c, to, amount) in &mints {
                    call(
                        *issuer,
                        Call::Mint {
                            code: *c,
                            dest: *to,
                            amount: *amount,
                            dest_tag: None,
                        },
                    )
                    .expect("mint");
                }
            })
            .run::<Pallet>(move || {
                f();
                check_owner_ledger();
            })
    }
}

/// The owner ledger equals the objects this pallet and the accounts pallet
/// store, and no reserve check was left pending.
fn check_owner_ledger() {
    let mut owned = alloc::collections::BTreeMap::new();
    owned_objects(&mut owned);
    pallet_accounts::owned_objects(&mut owned);
    owned.retain(|_, n| *n > 0);
    let ledger: alloc::collections::BTreeMap<_, _> =
        pallet_system::owned::ledger().into_iter().collect();
    assert_eq!(owned, ledger, "owner ledger");
    assert!(
        !pallet_system::ReserveDue::exists(),
        "reserve checks left pending"
    );
}

// ---------- native token ----------

#[test]
fn native_transfer_boundaries() {
    Test::new().endow(A, 10_000).run(|| {
        let t = |dest, value| Call::Transfer {
            dest,
            value,
            dest_tag: None,
        };
        // One over the balance.
        assert_eq!(call(A, t(B, 10_001)), err(Error::InsufficientBalance));
        // Creates B below the existential deposit; leaves A below it.
        assert_eq!(call(A, t(B, ED - 1)), err(Error::ExistentialDeposit));
        assert_eq!(call(A, t(B, 9_500)), err(Error::ExistentialDeposit));
        assert_eq!(call(A, t(B, 0)), err(Error::ZeroAmount));
        assert_eq!(
            dispatch(Origin::None, t(B, 1_000)),
            Err(DispatchError::BadOrigin)
        );
        call(A, t(B, ED)).unwrap();
        call(
            A,
            Call::Transfer {
                dest: B,
                value: 9_000,
                dest_tag: Some(42),
            },
        )
        .unwrap();
        // Exactly the whole balance: the account is removed.
        assert_eq!(free_balance(&A), 0);
        assert!(!pallet_system::Account::contains_key(&A));
        assert_eq!(free_balance(&B), 10_000);
        assert_eq!(total_issuance(), 10_000);
        assert_eq!(
            events(),
            vec![
                Event::Transfer {
                    asset: AssetId::Native,
                    from: A,
                    to: B,
                    amount: 1_000,
                    dest_tag: None
                },
                Event::Transfer {
                    asset: AssetId::Native,
                    from: A,
                    to: B,
                    amount: 9_000,
                    dest_tag: Some(42)
                }
            ]
        );
        // To oneself: allowed, nothing changes.
        call(B, t(B, 10_000)).unwrap();
        assert_eq!(free_balance(&B), 10_000);
    });
}

fn set_author(author: Option<AccountId>) {
    let digest = match author {
        Some(a) => Digest::with_author(&a),
        None => Digest {
            logs: vec![DigestItem::PreRuntime(*b"TEST", vec![1])],
        },
    };
    pallet_system::DigestItems::put(&digest);
}

#[test]
fn fees_go_to_the_treasury_without_an_author() {
    let treasury = fees::default_treasury();
    Test::new().endow(A, 1_000_000).run(|| {
        set_author(None);
        assert_eq!(withdraw_fee(&A, 1_000_001), Err(Error::InsufficientBalance));
        withdraw_fee(&A, 10_000).unwrap();
        assert_eq!(free_balance(&A), 990_000);
        assert_eq!(free_balance(&treasury), 10_000);
        assert_eq!(total_issuance(), 1_000_000);
        assert_eq!(
            events(),
            vec![Event::FeePaid {
                who: A,
                amount: 10_000,
                author: None,
                to_author: 0,
                to_treasury: 10_000,
                burned: 0
            }]
        );
    });
}

#[test]
fn fees_split_between_author_and_treasury() {
    let treasury = AccountId([9; 32]);
    Test::new().endow(A, 1_000_000).endow(B, 5_000).run(|| {
        FeeSplit::put(&FeeConfig {
            author_percent: 30,
            treasury,
        });
        set_author(Some(B));
        withdraw_fee(&A, 10_001).unwrap();
        // 30 % rounded down to the author, the rest to the treasury.
        assert_eq!(free_balance(&B), 5_000 + 3_000);
        assert_eq!(free_balance(&treasury), 7_001);
        assert_eq!(total_issuance(), 1_005_000);
        // A share too small to open the author's account goes to the treasury.
        set_author(Some(C));
        withdraw_fee(&A, 2_000).unwrap();
        assert_eq!(free_balance(&C), 0);
        assert_eq!(free_balance(&treasury), 9_001);
        let last = events().pop();
        assert_eq!(
            last,
            Some(Event::FeePaid {
                who: A,
                amount: 2_000,
                author: Some(C),
                to_author: 0,
                to_treasury: 2_000,
                burned: 0
            })
        );
    });
}

#[test]
fn fee_dust_is_swept_and_unplaceable_shares_burned() {
    Test::new().endow(A, 1_500).run(|| {
        set_author(None);
        // 600 leaves 900, below the existential deposit: all 1 500 are taken;
        // the treasury (empty) takes it since 1 500 reaches the deposit.
        withdraw_fee(&A, 600).unwrap();
        assert_eq!(free_balance(&A), 0);
        assert_eq!(free_balance(&fees::default_treasury()), 1_500);
        assert_eq!(total_issuance(), 1_500);
    });
    Test::new().endow(A, 5_000).run(|| {
        set_author(None);
        // 500 cannot open the treasury's account: burned.
        withdraw_fee(&A, 500).unwrap();
        assert_eq!(free_balance(&A), 4_500);
        assert_eq!(total_issuance(), 4_500);
        assert_eq!(
            events(),
            vec![Event::FeePaid {
                who: A,
                amount: 500,
                author: None,
                to_author: 0,
                to_treasury: 0,
                burned: 500
            }]
        );
    });
}

#[test]
fn the_author_digest_names_an_account_or_no_one() {
    let d = Digest::with_author(&B);
    assert_eq!(d.author(), Some(B));
    let mut bad = Digest::default();
    bad.push(DigestItem::PreRuntime(AUTHOR_ENGINE_ID, vec![1, 2, 3]));
    assert_eq!(bad.author(), None);
    let mut long = B.encode();
    long.push(0);
    let mut trailing = Digest::default();
    trailing.push(DigestItem::PreRuntime(AUTHOR_ENGINE_ID, long));
    assert_eq!(trailing.author(), None);
    assert_eq!(Digest::default().author(), None);
}

// ---------- issue ----------

#[test]
fn issue_validates_everything() {
    Test::new().run(|| {
        let issue = |name: &[u8], symbol: &[u8], decimals, max| Call::Issue {
            code: usd(),
            name: name.to_vec(),
            symbol: symbol.to_vec(),
            decimals,
            max_supply: max,
        };
        assert_eq!(
            call(
                A,
                Call::Issue {
                    code: TokenCode::Standard(*b"a b"),
                    name: b"x".to_vec(),
                    symbol: b"x".to_vec(),
                    decimals: 0,
                    max_supply: None
                }
            ),
            err(Error::BadTokenCode)
        );
        assert_eq!(
            call(
                A,
                Call::Issue {
                    code: TokenCode::Hex([0; 20]),
                    name: b"x".to_vec(),
                    symbol: b"x".to_vec(),
                    decimals: 0,
                    max_supply: None
                }
            ),
            err(Error::BadTokenCode)
        );
        assert_eq!(call(A, issue(b"", b"U", 2, None)), err(Error::BadName));
        assert_eq!(
            call(A, issue(&[b'n'; MAX_NAME_LEN + 1], b"U", 2, None)),
            err(Error::BadName)
        );
        assert_eq!(call(A, issue(b"a\nb", b"U", 2, None)), err(Error::BadName));
        assert_eq!(
            call(A, issue(&[0xff, 0xfe], b"U", 2, None)),
            err(Error::BadName)
        );
        assert_eq!(
            call(A, issue(b"Dollar", b"", 2, None)),
            err(Error::BadSymbol)
        );
        assert_eq!(
            call(A, issue(b"Dollar", b"U S", 2, None)),
            err(Error::BadSymbol)
        );
        assert_eq!(
            call(A, issue(b"Dollar", &[b'S'; MAX_SYMBOL_LEN + 1], 2, None)),
            err(Error::BadSymbol)
        );
        assert_eq!(
            call(A, issue(b"Dollar", b"USD", MAX_DECIMALS + 1, None)),
            err(Error::BadDecimals)
        );
        assert_eq!(
            call(A, issue(b"Dollar", b"USD", 2, Some(0))),
            err(Error::BadMaxSupply)
        );
        // The longest name and symbol, the most decimals, a non-ASCII symbol: fine.
        let name = "é".repeat(MAX_NAME_LEN / 2);
        call(
            A,
            issue(name.as_bytes(), "€€€€".as_bytes(), MAX_DECIMALS, Some(1)),
        )
        .unwrap();
        assert_eq!(
            call(A, issue(b"Again", b"USD", 2, None)),
            err(Error::TokenExists)
        );
        // The same code from another issuer is another asset.
        call(B, issue(b"Other dollar", b"USD", 6, None)).unwrap();
        assert_eq!(token(&B, &usd()).unwrap().decimals, 6);
        assert_eq!(token(&A, &usd()).unwrap().decimals, MAX_DECIMALS);
        assert_eq!(
            events().last(),
            Some(&Event::Issued {
                asset: asset(B, usd()),
                name: b"Other dollar".to_vec(),
                symbol: b"USD".to_vec(),
                decimals: 6,
                max_supply: None
            })
        );
    });
}

#[test]
fn an_issuer_may_issue_up_to_the_cap() {
    Test::new().run(|| {
        for i in 0..MAX_TOKENS_PER_ISSUER {
            let mut h = [0u8; 20];
            h[0] = 1;
            h[19] = i as u8;
            call(A, issue_call(TokenCode::Hex(h), None)).unwrap();
        }
        assert_eq!(call(A, issue_call(usd(), None)), err(Error::TooManyTokens));
        call(B, issue_call(usd(), None)).unwrap();
    });
}

// ---------- mint and burn ----------

#[test]
fn mint_boundaries() {
    Test::new().token(A, "USD", Some(1_000)).run(|| {
        let mint = |dest, amount| Call::Mint {
            code: usd(),
            dest,
            amount,
            dest_tag: Some(7),
        };
        assert_eq!(call(A, mint(B, 0)), err(Error::ZeroAmount));
        // Only the issuer mints: for anyone else the token does not exist.
        assert_eq!(call(B, mint(B, 10)), err(Error::UnknownToken));
        call(A, mint(B, 600)).unwrap();
        call(A, mint(A, 400)).unwrap();
        // Exactly the maximum is in existence; one more is refused.
        assert_eq!(supply(A, usd()), 1_000);
        assert_eq!(call(A, mint(C, 1)), err(Error::ExceedsMaxSupply));
        assert_eq!(token(&A, &usd()).unwrap().holders, 2);
        assert_eq!(
            events(),
            vec![
                Event::Minted {
                    asset: asset(A, usd()),
                    to: B,
                    amount: 600,
                    dest_tag: Some(7)
                },
                Event::Minted {
                    asset: asset(A, usd()),
                    to: A,
                    amount: 400,
                    dest_tag: Some(7)
                }
            ]
        );
        // Burning makes room again.
        call(
            B,
            Call::Burn {
                issuer: A,
                code: usd(),
                amount: 1,
            },
        )
        .unwrap();
        call(A, mint(C, 1)).unwrap();
    });
    Test::new().token(A, "USD", None).run(|| {
        let mint = |amount| Call::Mint {
            code: usd(),
            dest: B,
            amount,
            dest_tag: None,
        };
        call(A, mint(u128::MAX)).unwrap();
        assert_eq!(call(A, mint(1)), err(Error::Overflow));
    });
}

#[test]
fn burn_boundaries() {
    Test::new()
        .token(A, "USD", None)
        .mint(A, "USD", B, 500)
        .run(|| {
            let burn = |amount| Call::Burn {
                issuer: A,
                code: usd(),
                amount,
            };
            call(
                A,
                Call::Freeze {
                    code: usd(),
                    holder: B,
                    amount: Some(100),
                },
            )
            .unwrap();
            // Frozen tokens cannot be burned: 401 is one over the free 400.
            assert_eq!(call(B, burn(401)), err(Error::InsufficientBalance));
            assert_eq!(call(B, burn(0)), err(Error::ZeroAmount));
            assert_eq!(
                call(
                    B,
                    Call::Burn {
                        issuer: B,
                        code: usd(),
                        amount: 1
                    }
                ),
                err(Error::UnknownToken)
            );
            call(B, burn(400)).unwrap();
            assert_eq!(
                holding(B, A, usd()),
                Holding {
                    free: 0,
                    frozen: 100
                }
            );
            assert_eq!(supply(A, usd()), 100);
            // The holding stays while anything is frozen; it goes when empty.
            call(
                A,
                Call::Unfreeze {
                    code: usd(),
                    holder: B,
                    amount: None,
                },
            )
            .unwrap();
            call(B, burn(100)).unwrap();
            assert!(!Holdings::contains_key(&B, &asset(A, usd())));
            assert_eq!(HoldingCount::get(&B), None);
            assert_eq!(token(&A, &usd()).unwrap().holders, 0);
            assert_eq!(
                events().last(),
                Some(&Event::Burned {
                    asset: asset(A, usd()),
                    from: B,
                    amount: 100
                })
            );
        });
}

// ---------- transfers ----------

#[test]
fn token_transfer_boundaries() {
    Test::new()
        .token(A, "USD", None)
        .mint(A, "USD", B, 1_000)
        .run(|| {
            assert_eq!(
                call(B, transfer_token(A, usd(), C, 1_001)),
                err(Error::InsufficientBalance)
            );
            assert_eq!(
                call(B, transfer_token(A, usd(), C, 0)),
                err(Error::ZeroAmount)
            );
            assert_eq!(
                call(B, transfer_token(A, code("EUR"), C, 1)),
                err(Error::UnknownToken)
            );
            assert_eq!(
                call(B, transfer_token(C, usd(), C, 1)),
                err(Error::UnknownToken)
            );
            call(
                B,
                Call::TransferToken {
                    issuer: A,
                    code: usd(),
                    dest: C,
                    amount: 1_000,
                    dest_tag: Some(99),
                },
            )
            .unwrap();
            // Exactly the balance: B's holding is gone, C's created.
            assert!(!Holdings::contains_key(&B, &asset(A, usd())));
            assert_eq!(holding(C, A, usd()).free, 1_000);
            assert_eq!(supply(A, usd()), 1_000);
            assert_eq!(token(&A, &usd()).unwrap().holders, 1);
            assert_eq!(
                events(),
                vec![Event::Transfer {
                    asset: asset(A, usd()),
                    from: B,
                    to: C,
                    amount: 1_000,
                    dest_tag: Some(99)
                }]
            );
            // To oneself: allowed, nothing changes.
            call(C, transfer_token(A, usd(), C, 1_000)).unwrap();
            assert_eq!(holding(C, A, usd()).free, 1_000);
        });
}

#[test]
fn holdings_per_account_are_capped() {
    Test::new().run(|| {
        // B holds MAX tokens from distinct issuers.
        for i in 0..MAX_HOLDINGS_PER_ACCOUNT {
            let issuer = numbered(10, i);
            endow(&issuer, ISSUER_FUNDS).unwrap();
            call(issuer, issue_call(usd(), None)).unwrap();
            call(
                issuer,
                Call::Mint {
                    code: usd(),
                    dest: B,
                    amount: 1,
                    dest_tag: None,
                },
            )
            .unwrap();
        }
        assert_eq!(HoldingCount::get(&B), Some(MAX_HOLDINGS_PER_ACCOUNT));
        call(A, issue_call(usd(), None)).unwrap();
        let mint_to_b = Call::Mint {
            code: usd(),
            dest: B,
            amount: 5,
            dest_tag: None,
        };
        assert_eq!(call(A, mint_to_b.clone()), err(Error::TooManyHoldings));
        call(
            A,
            Call::Mint {
                code: usd(),
                dest: C,
                amount: 5,
                dest_tag: None,
            },
        )
        .unwrap();
        assert_eq!(
            call(C, transfer_token(A, usd(), B, 1)),
            err(Error::TooManyHoldings)
        );
        // Emptying one holding frees its slot.
        let first = numbered(10, 0);
        call(
            B,
            Call::Burn {
                issuer: first,
                code: usd(),
                amount: 1,
            },
        )
        .unwrap();
        call(A, mint_to_b).unwrap();
        // A holding that already exists needs no new slot.
        call(C, transfer_token(A, usd(), B, 1)).unwrap();
    });
}

// ---------- allowances ----------

fn approve(spender: AccountId, amount: Balance) -> Call {
    Call::Approve {
        issuer: A,
        code: usd(),
        spender,
        amount,
    }
}

fn transfer_from(owner: AccountId, dest: AccountId, amount: Balance) -> Call {
    Call::TransferFrom {
        issuer: A,
        code: usd(),
        owner,
        dest,
        amount,
        dest_tag: None,
    }
}

#[test]
fn allowance_spent_exactly_and_one_over() {
    Test::new()
        .token(A, "USD", None)
        .mint(A, "USD", B, 1_000)
        .run(|| {
            let usd_a = asset(A, usd());
            assert_eq!(
                call(
                    B,
                    Call::Approve {
                        issuer: C,
                        code: usd(),
                        spender: C,
                        amount: 1
                    }
                ),
                err(Error::UnknownToken)
            );
            call(B, approve(C, 300)).unwrap();
            assert_eq!(allowance(&usd_a, &B, &C), 300);
            assert_eq!(
                call(C, transfer_from(B, D, 301)),
                err(Error::InsufficientAllowance)
            );
            // Someone without an allowance; a token that does not exist.
            assert_eq!(
                call(D, transfer_from(B, D, 1)),
                err(Error::InsufficientAllowance)
            );
            assert_eq!(
                call(
                    C,
                    Call::TransferFrom {
                        issuer: C,
                        code: usd(),
                        owner: B,
                        dest: C,
                        amount: 1,
                        dest_tag: None
                    }
                ),
                err(Error::UnknownToken)
            );
            call(C, transfer_from(B, D, 200)).unwrap();
            assert_eq!(allowance(&usd_a, &B, &C), 100);
            call(C, transfer_from(B, C, 100)).unwrap();
            // Exactly spent: the allowance entry is gone.
            assert_eq!(allowance(&usd_a, &B, &C), 0);
            assert!(!Allowance::contains_key(&(usd_a, B), &C));
            assert_eq!(AllowanceCount::get(&B), None);
            assert_eq!(
                call(C, transfer_from(B, C, 1)),
                err(Error::InsufficientAllowance)
            );
            assert_eq!(holding(B, A, usd()).free, 700);
            assert_eq!(holding(D, A, usd()).free, 200);
            assert_eq!(holding(C, A, usd()).free, 100);
            assert_eq!(
                events(),
                vec![
                    Event::Approval {
                        asset: usd_a,
                        owner: B,
                        spender: C,
                        amount: 300
                    },
                    Event::Transfer {
                        asset: usd_a,
                        from: B,
                        to: D,
                        amount: 200,
                        dest_tag: None
                    },
                    Event::Approval {
                        asset: usd_a,
                        owner: B,
                        spender: C,
                        amount: 100
                    },
                    Event::Transfer {
                        asset: usd_a,
                        from: B,
                        to: C,
                        amount: 100,
                        dest_tag: None
                    },
                    Event::Approval {
                        asset: usd_a,
                        owner: B,
                        spender: C,
                        amount: 0
                    },
                ]
            );
        });
}

#[test]
fn allowance_adjustments_and_caps() {
    Test::new()
        .token(A, "USD", None)
        .mint(A, "USD", B, 1_000)
        .run(|| {
            let usd_a = asset(A, usd());
            let change = |up: bool, delta| {
                if up {
                    Call::IncreaseAllowance {
                        issuer: A,
                        code: usd(),
                        spender: C,
                        delta,
                    }
                } else {
                    Call::DecreaseAllowance {
                        issuer: A,
                        code: usd(),
                        spender: C,
                        delta,
                    }
                }
            };
            call(B, change(true, 50)).unwrap();
            call(B, change(true, 50)).unwrap();
            assert_eq!(allowance(&usd_a, &B, &C), 100);
            assert_eq!(
                call(B, change(false, 101)),
                err(Error::InsufficientAllowance)
            );
            assert_eq!(call(B, change(false, 0)), err(Error::ZeroAmount));
            assert_eq!(call(B, change(true, 0)), err(Error::ZeroAmount));
            call(B, change(false, 100)).unwrap();
            assert_eq!(AllowanceCount::get(&B), None);
            call(B, approve(C, u128::MAX)).unwrap();
            assert_eq!(call(B, change(true, 1)), err(Error::Overflow));
            // Approving zero removes it.
            call(B, approve(C, 0)).unwrap();
            assert!(!Allowance::contains_key(&(usd_a, B), &C));
            // An allowance may exceed the balance; spending is limited by both.
            call(B, approve(C, 5_000)).unwrap();
            assert_eq!(
                call(C, transfer_from(B, C, 1_001)),
                err(Error::InsufficientBalance)
            );
            assert_eq!(allowance(&usd_a, &B, &C), 5_000);
            // Cap on allowances per owner.
            for i in 1..MAX_ALLOWANCES_PER_OWNER {
                call(B, approve(numbered(100, i), 1)).unwrap();
            }
            assert_eq!(AllowanceCount::get(&B), Some(MAX_ALLOWANCES_PER_OWNER));
            assert_eq!(call(B, approve(D, 1)), err(Error::TooManyAllowances));
            // Changing an existing one needs no new slot.
            call(B, approve(C, 7)).unwrap();
        });
}

// ---------- freezing ----------

fn freeze(holder: AccountId, amount: Option<Balance>) -> Call {
    Call::Freeze {
        code: usd(),
        holder,
        amount,
    }
}

fn unfreeze(holder: AccountId, amount: Option<Balance>) -> Call {
    Call::Unfreeze {
        code: usd(),
        holder,
        amount,
    }
}

#[test]
fn frozen_amount_exactly_the_balance_and_one_over() {
    Test::new()
        .token(A, "USD", None)
        .mint(A, "USD", B, 1_000)
        .run(|| {
            let usd_a = asset(A, usd());
            assert_eq!(
                call(A, freeze(B, Some(1_001))),
                err(Error::FreezeExceedsBalance)
            );
            assert_eq!(call(A, freeze(B, Some(0))), err(Error::ZeroAmount));
            assert_eq!(call(A, freeze(C, None)), err(Error::ZeroAmount));
            // Only the issuer freezes.
            assert_eq!(call(B, freeze(B, Some(1))), err(Error::UnknownToken));
            call(A, freeze(B, Some(1_000))).unwrap();
            assert_eq!(
                holding(B, A, usd()),
                Holding {
                    free: 0,
                    frozen: 1_000
                }
            );
            assert_eq!(frozen_amount(&usd_a, &B), 1_000);
            assert_eq!(reducible(&usd_a, &B), 0);
            // Nothing frozen moves: not by transfer, allowance or burn.
            assert_eq!(
                call(B, transfer_token(A, usd(), C, 1)),
                err(Error::InsufficientBalance)
            );
            call(B, approve(C, 10)).unwrap();
            assert_eq!(
                call(C, transfer_from(B, C, 1)),
                err(Error::InsufficientBalance)
            );
            assert_eq!(
                transfer(&usd_a, &B, &C, 1, None),
                err(Error::InsufficientBalance)
            );
            // Nothing left to freeze.
            assert_eq!(call(A, freeze(B, None)), err(Error::ZeroAmount));
            assert_eq!(
                call(A, unfreeze(B, Some(1_001))),
                err(Error::UnfreezeExceedsFrozen)
            );
            call(A, unfreeze(B, Some(400))).unwrap();
            assert_eq!(
                holding(B, A, usd()),
                Holding {
                    free: 400,
                    frozen: 600
                }
            );
            call(B, transfer_token(A, usd(), C, 400)).unwrap();
            assert_eq!(
                call(B, transfer_token(A, usd(), C, 1)),
                err(Error::InsufficientBalance)
            );
            call(A, unfreeze(B, None)).unwrap();
            assert_eq!(
                holding(B, A, usd()),
                Holding {
                    free: 600,
                    frozen: 0
                }
            );
            assert_eq!(call(A, unfreeze(B, None)), err(Error::ZeroAmount));
            // The whole balance at once.
            call(A, freeze(B, None)).unwrap();
            assert_eq!(
                holding(B, A, usd()),
                Holding {
                    free: 0,
                    frozen: 600
                }
            );
            let ev = events();
            assert_eq!(
                ev.first(),
                Some(&Event::Frozen {
                    asset: usd_a,
                    holder: B,
                    amount: 1_000,
                    frozen: 1_000
                })
            );
            assert!(ev.contains(&Event::Unfrozen {
                asset: usd_a,
                holder: B,
                amount: 400,
                frozen: 600
            }));
            assert_eq!(
                ev.last(),
                Some(&Event::Frozen {
                    asset: usd_a,
                    holder: B,
                    amount: 600,
                    frozen: 600
                })
            );
        });
}

#[test]
fn pause_stops_movement_not_management() {
    Test::new()
        .token(A, "USD", None)
        .mint(A, "USD", B, 1_000)
        .run(|| {
            let usd_a = asset(A, usd());
            let pause = Call::Pause { code: usd() };
            let unpause = Call::Unpause { code: usd() };
            assert_eq!(call(A, unpause.clone()), err(Error::NotPaused));
            assert_eq!(call(B, pause.clone()), err(Error::UnknownToken));
            call(A, pause.clone()).unwrap();
            assert_eq!(call(A, pause.clone()), err(Error::AlreadyPaused));
            assert_eq!(reducible(&usd_a, &B), 0);
            assert_eq!(call(B, transfer_token(A, usd(), C, 1)), err(Error::Paused));
            assert_eq!(call(B, transfer_token(A, usd(), A, 1)), err(Error::Paused));
            assert_eq!(
                call(
                    A,
                    Call::Mint {
                        code: usd(),
                        dest: B,
                        amount: 1,
                        dest_tag: None
                    }
                ),
                err(Error::Paused)
            );
            assert_eq!(
                call(
                    B,
                    Call::Burn {
                        issuer: A,
                        code: usd(),
                        amount: 1
                    }
                ),
                err(Error::Paused)
            );
            // Approvals and freezing still work; spending an allowance does not.
            call(B, approve(C, 10)).unwrap();
            assert_eq!(call(C, transfer_from(B, C, 1)), err(Error::Paused));
            call(A, freeze(B, Some(5))).unwrap();
            call(A, unpause.clone()).unwrap();
            call(B, transfer_token(A, usd(), C, 1)).unwrap();
            let ev = events();
            assert_eq!(ev.first(), Some(&Event::Paused { asset: usd_a }));
            assert!(ev.contains(&Event::Unpaused { asset: usd_a }));
        });
}

#[test]
fn global_freeze_lets_tokens_flow_only_to_and_from_the_issuer() {
    Test::new()
        .token(A, "USD", None)
        .mint(A, "USD", B, 1_000)
        .mint(A, "USD", A, 1_000)
        .run(|| {
            let usd_a = asset(A, usd());
            let on = Call::GlobalFreeze { code: usd() };
            let off = Call::GlobalUnfreeze { code: usd() };
            assert_eq!(call(A, off.clone()), err(Error::NotGloballyFrozen));
            call(A, on.clone()).unwrap();
            assert_eq!(call(A, on.clone()), err(Error::AlreadyGloballyFrozen));
            // To a third party: refused, by transfer and by allowance.
            assert_eq!(
                call(B, transfer_token(A, usd(), C, 1)),
                err(Error::GlobalFrozen)
            );
            call(B, approve(C, 100)).unwrap();
            assert_eq!(call(C, transfer_from(B, C, 1)), err(Error::GlobalFrozen));
            assert_eq!(reducible(&usd_a, &B), 0);
            // To the issuer: allowed (also through an allowance), and back.
            call(B, transfer_token(A, usd(), A, 10)).unwrap();
            call(C, transfer_from(B, A, 10)).unwrap();
            call(A, transfer_token(A, usd(), C, 5)).unwrap();
            call(
                A,
                Call::Mint {
                    code: usd(),
                    dest: D,
                    amount: 5,
                    dest_tag: None,
                },
            )
            .unwrap();
            assert_eq!(holding(B, A, usd()).free, 980);
            assert_eq!(holding(A, A, usd()).free, 1_015);
            call(A, off).unwrap();
            call(B, transfer_token(A, usd(), C, 1)).unwrap();
            let ev = events();
            assert_eq!(ev.first(), Some(&Event::GlobalFreeze { asset: usd_a }));
            assert!(ev.contains(&Event::GlobalFreezeLifted { asset: usd_a }));
        });
}

#[test]
fn operations_after_no_freeze() {
    Test::new()
        .token(A, "USD", None)
        .mint(A, "USD", B, 1_000)
        .run(|| {
            let usd_a = asset(A, usd());
            // Restrictions in force before the declaration can still be lifted.
            call(A, freeze(B, Some(100))).unwrap();
            call(A, Call::Pause { code: usd() }).unwrap();
            call(A, Call::GlobalFreeze { code: usd() }).unwrap();
            assert_eq!(
                call(B, Call::NoFreeze { code: usd() }),
                err(Error::UnknownToken)
            );
            // Only the issuer's master key gives up freezing.
            for by in [
                pallet_accounts::SignedWith::Regular,
                pallet_accounts::SignedWith::Signers,
            ] {
                let before = snapshot();
                assert_eq!(
                    dispatch_as(Origin::Signed(A), by, Call::NoFreeze { code: usd() }),
                    err(Error::MasterKeyRequired)
                );
                assert!(before == snapshot());
            }
            call(A, Call::NoFreeze { code: usd() }).unwrap();
            assert!(token(&A, &usd()).unwrap().no_freeze);
            assert_eq!(
                call(A, Call::NoFreeze { code: usd() }),
                err(Error::AlreadyNoFreeze)
            );
            assert_eq!(call(A, freeze(B, Some(1))), err(Error::NoFreezeDeclared));
            assert_eq!(call(A, freeze(B, None)), err(Error::NoFreezeDeclared));
            call(A, Call::Unpause { code: usd() }).unwrap();
            assert_eq!(
                call(A, Call::Pause { code: usd() }),
                err(Error::NoFreezeDeclared)
            );
            call(A, Call::GlobalUnfreeze { code: usd() }).unwrap();
            assert_eq!(
                call(A, Call::GlobalFreeze { code: usd() }),
                err(Error::NoFreezeDeclared)
            );
            call(A, unfreeze(B, Some(100))).unwrap();
            // Everything else works as before.
            call(B, transfer_token(A, usd(), C, 1_000)).unwrap();
            call(
                A,
                Call::Mint {
                    code: usd(),
                    dest: C,
                    amount: 1,
                    dest_tag: None,
                },
            )
            .unwrap();
            assert_eq!(reducible(&usd_a, &C), 1_001);
            assert!(events().contains(&Event::NoFreeze { asset: usd_a }));
        });
}

// ---------- public API ----------

#[test]
fn public_api_for_other_pallets() {
    Test::new()
        .endow(A, 10_000)
        .token(A, "USD", None)
        .mint(A, "USD", B, 1_000)
        .run(|| {
            let usd_a = asset(A, usd());
            transfer(&AssetId::Native, &A, &B, 2_000, Some(1)).unwrap();
            assert_eq!(balance(&AssetId::Native, &B).free, 2_000);
            assert_eq!(reducible(&AssetId::Native, &B), 2_000);
            assert_eq!(
                transfer(&AssetId::Native, &A, &B, 8_001, None),
                err(Error::InsufficientBalance)
            );
            transfer(&usd_a, &B, &C, 300, None).unwrap();
            call(A, freeze(B, Some(200))).unwrap();
            assert_eq!(reducible(&usd_a, &B), 500);
            assert_eq!(reducible(&asset(C, usd()), &B), 0);
            let list = balances_of(&B);
            assert_eq!(
                list,
                vec![
                    TokenBalance {
                        asset: AssetId::Native,
                        holding: Holding {
                            free: 2_000,
                            frozen: 0
                        },
                        display: None
                    },
                    TokenBalance {
                        asset: usd_a,
                        holding: Holding {
                            free: 500,
                            frozen: 200
                        },
                        display: Some((b"USD".to_vec(), 2))
                    }
                ]
            );
            assert_eq!(balances_of(&D).len(), 1);
        });
}

#[test]
fn try_state_catches_broken_books() {
    Test::new()
        .token(A, "USD", None)
        .mint(A, "USD", B, 1_000)
        .run(|| {
            let usd_a = asset(A, usd());
            Holdings::insert(
                &B,
                &usd_a,
                &Holding {
                    free: 999,
                    frozen: 0,
                },
            );
            assert!(try_state().unwrap_err().contains("supply"));
            Holdings::insert(
                &B,
                &usd_a,
                &Holding {
                    free: 1_000,
                    frozen: 0,
                },
            );
            HoldingCount::insert(&C, &1);
            assert!(try_state().is_err());
            HoldingCount::remove(&C);
            let dust = numbered(20, 1);
            let info = |consumers, free, frozen| pallet_system::AccountInfo {
                consumers,
                providers: u32::from(free > 0),
                data: AccountData {
                    free,
                    frozen,
                    ..Default::default()
                },
                ..Default::default()
            };
            pallet_system::Account::insert(&dust, &info(0, 5, 0));
            assert!(try_state().is_err());
            pallet_system::Account::remove(&dust);
            // An owner of objects without a native account.
            pallet_system::Account::insert(&dust, &info(1, 0, ED));
            assert!(try_state().unwrap_err().contains("native account"));
            // An owner of objects without a lock, and a lock without objects.
            // (The reserve books alone: the balance is not in the issuance.)
            pallet_system::Account::insert(&dust, &info(1, 2 * ED, 0));
            assert!(crate::reserve::try_state()
                .unwrap_err()
                .contains("no reserve lock"));
            pallet_system::Account::insert(&dust, &info(0, 2 * ED, ED));
            assert!(crate::reserve::try_state()
                .unwrap_err()
                .contains("reserve lock on an account"));
            pallet_system::Account::remove(&dust);
            // A sponsor for a holding that does not exist.
            HoldingSponsor::insert(&C, &usd_a, &A);
            assert!(try_state().unwrap_err().contains("sponsor"));
            HoldingSponsor::remove(&C, &usd_a);
            Allowance::insert(&(usd_a, B), &C, &0);
            assert!(try_state().is_err());
            Allowance::remove(&(usd_a, B), &C);
        });
}

// ---------- wire formats ----------

#[test]
fn error_discriminants_are_their_codec_indices() {
    use scale_info::{TypeDef, TypeInfo};
    let TypeDef::Variant(v) = Error::type_info().type_def else {
        panic!("Error is an enum")
    };
    for variant in v.variants {
        let e = Error::decode(&mut &[variant.index][..]).expect("decodes");
        assert_eq!(e as u8, variant.index, "{}", variant.name);
        assert_eq!(
            DispatchError::from(e),
            DispatchError::module(PALLET_INDEX, variant.index)
        );
    }
}

#[test]
fn call_and_event_encodings_are_fixed() {
    // Golden bytes: changing them breaks every signed transaction and every
    // client; do it only deliberately (with a transaction_version bump).
    let t = Call::Transfer {
        dest: B,
        value: 5,
        dest_tag: Some(1),
    };
    assert_eq!(
        hex(&t.encode()),
        format!("00{}140101000000", "02".repeat(32))
    );
    let tt = transfer_token(A, usd(), C, 1);
    assert_eq!(
        hex(&tt.encode()),
        format!("04{}00555344{}0400", "01".repeat(32), "03".repeat(32))
    );
    assert_eq!(hex(&Call::NoFreeze { code: usd() }.encode()), "0f00555344");
    let e = Event::Frozen {
        asset: asset(A, usd()),
        holder: B,
        amount: 1,
        frozen: 1,
    };
    assert_eq!(hex(&e.encode()[..1]), "02");
    assert_eq!(
        hex(&Event::FeePaid {
            who: A,
            amount: 0,
            author: None,
            to_author: 0,
            to_treasury: 0,
            burned: 0
        }
        .encode()[..1]),
        "0c"
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ---------- reserves ----------

/// Owner reserve in the reserve tests.
const OWNER: Balance = 10_000;

fn with_reserves(owner: Balance) {
    ReserveConfig::put(&Reserves { account: ED, owner });
}

fn owns(who: AccountId) -> u32 {
    pallet_system::owned::owner_count(&who)
}

fn native(dest: AccountId, value: Balance) -> Call {
    Call::Transfer {
        dest,
        value,
        dest_tag: None,
    }
}

#[test]
fn every_object_locks_the_owner_reserve_until_removed() {
    // A can afford exactly two objects beyond its account reserve.
    Test::new().endow(A, ED + 2 * OWNER).run(|| {
        with_reserves(OWNER);
        call(A, issue_call(usd(), None)).unwrap();
        assert_eq!(owns(A), 1);
        assert_eq!(required_reserve(&A), ED + OWNER);
        call(A, approve(B, 5)).unwrap();
        assert_eq!(owns(A), 2);
        // A third object is refused, and nothing of the call stays.
        assert_eq!(call(A, approve(C, 5)), err(Error::InsufficientReserve));
        assert_eq!(owns(A), 2);
        assert_eq!(allowance(&asset(A, usd()), &A, &C), 0);
        // The reserve cannot be sent away, nor the account emptied.
        assert_eq!(call(A, native(B, 1)), err(Error::InsufficientReserve));
        assert_eq!(call(A, native(B, ED + 2 * OWNER)), err(Error::OwnsObjects));
        // Removing an object releases its share at once.
        call(A, approve(B, 0)).unwrap();
        assert_eq!(owns(A), 1);
        call(A, native(B, OWNER)).unwrap();
        assert_eq!(free_balance(&A), ED + OWNER);
    });
}

#[test]
fn fees_may_use_the_owner_reserve_but_never_remove_an_owner() {
    Test::new().endow(A, ED + OWNER).run(|| {
        with_reserves(OWNER);
        call(A, issue_call(usd(), None)).unwrap();
        // A fee may be paid out of the owner reserve...
        withdraw_fee(&A, OWNER).unwrap();
        assert_eq!(free_balance(&A), ED);
        // ...but not out of the account reserve of an account that owns
        // objects: that would remove the account under its objects.
        let before = snapshot();
        assert_eq!(withdraw_fee(&A, 1), Err(Error::InsufficientBalance));
        assert!(before == snapshot());
        // The account is below its reserve: it can create nothing more.
        assert_eq!(call(A, approve(B, 1)), err(Error::InsufficientReserve));
    });
}

#[test]
fn an_unsolicited_holding_is_paid_for_by_its_creator() {
    Test::new()
        .endow(A, ED + 10 * OWNER)
        .endow(B, ED + OWNER)
        .run(|| {
            with_reserves(OWNER);
            call(A, issue_call(usd(), None)).unwrap();
            let mint = |dest, amount| Call::Mint {
                code: usd(),
                dest,
                amount,
                dest_tag: None,
            };
            // The issuer pays for the holding it creates in B's account;
            // B, which asked for nothing, pays nothing.
            call(A, mint(B, 100)).unwrap();
            assert_eq!((owns(A), owns(B)), (2, 0));
            assert_eq!(HoldingSponsor::get(&B, &asset(A, usd())), Some(A));
            // C has no native account: minting to it still works (A pays).
            call(A, mint(C, 1)).unwrap();
            assert_eq!((owns(A), owns(C)), (3, 0));
            // B passes part of its holding to D: B creates D's holding and
            // pays for it.
            call(B, transfer_token(A, usd(), D, 40)).unwrap();
            assert_eq!((owns(B), owns(A)), (1, 3));
            // B sends the rest: its own holding goes, releasing A's reserve.
            call(B, transfer_token(A, usd(), D, 60)).unwrap();
            assert_eq!((owns(A), owns(B)), (2, 1));
            // D empties its holding into C's (which exists): B is released.
            call(D, transfer_token(A, usd(), C, 100)).unwrap();
            assert_eq!(owns(B), 0);
            assert_eq!(HoldingSponsor::get(&D, &asset(A, usd())), None);
            // C holds with nothing native: it cannot create a holding for
            // anyone (it could not pay its reserve).
            assert_eq!(
                call(C, transfer_token(A, usd(), B, 1)),
                err(Error::InsufficientReserve)
            );
        });
}

#[test]
fn frozen_dust_costs_the_issuer_and_the_holder_can_give_it_back() {
    // The review's attack (M3): an issuer fills a victim's holding slots
    // with frozen dust. Each slot now locks the issuer's owner reserve, and
    // the victim gives the dust back, freeing the slot.
    let victim = D;
    Test::new()
        .endow(A, ED + (MAX_HOLDINGS_PER_ACCOUNT as Balance + 64) * OWNER)
        .run(|| {
            with_reserves(OWNER);
            let codes: Vec<TokenCode> = (0..MAX_HOLDINGS_PER_ACCOUNT / 2)
                .map(|i| code(&format!("T{i:02}")))
                .collect();
            // Two issuers so that 128 slots fill (64 tokens each).
            endow(&B, ED + (MAX_HOLDINGS_PER_ACCOUNT as Balance + 64) * OWNER).unwrap();
            for issuer in [A, B] {
                for c in &codes {
                    call(issuer, issue_call(*c, None)).unwrap();
                    call(
                        issuer,
                        Call::Mint {
                            code: *c,
                            dest: victim,
                            amount: 1,
                            dest_tag: None,
                        },
                    )
                    .unwrap();
                    call(
                        issuer,
                        Call::Freeze {
                            code: *c,
                            holder: victim,
                            amount: None,
                        },
                    )
                    .unwrap();
                }
            }
            let half = MAX_HOLDINGS_PER_ACCOUNT / 2;
            // The attack cost each issuer a reserve per slot it filled.
            assert_eq!(owns(A), 2 * half);
            assert_eq!(owns(victim), 0);
            assert_eq!(HoldingCount::get(&victim), Some(MAX_HOLDINGS_PER_ACCOUNT));
            // Pausing and globally freezing cannot keep it there.
            let first = codes[0];
            call(A, Call::Pause { code: first }).unwrap();
            call(A, Call::GlobalFreeze { code: first }).unwrap();
            call(
                victim,
                Call::GiveBack {
                    issuer: A,
                    code: first,
                },
            )
            .unwrap();
            assert_eq!(holding(victim, A, first), Holding::default());
            assert_eq!(supply(A, first), 0);
            assert_eq!(owns(A), 2 * half - 1);
            assert_eq!(
                HoldingCount::get(&victim),
                Some(MAX_HOLDINGS_PER_ACCOUNT - 1)
            );
            assert!(events().contains(&Event::GivenBack {
                asset: asset(A, first),
                holder: victim,
                free: 0,
                frozen: 1,
            }));
            // The slot is free for a token the victim wants.
            endow(&C, ED + 2 * OWNER).unwrap();
            call(C, issue_call(usd(), None)).unwrap();
            call(
                C,
                Call::Mint {
                    code: usd(),
                    dest: victim,
                    amount: 5,
                    dest_tag: None,
                },
            )
            .unwrap();
            // Nothing to give back twice.
            assert_eq!(
                call(
                    victim,
                    Call::GiveBack {
                        issuer: A,
                        code: first
                    }
                ),
                err(Error::NothingHeld)
            );
        });
}

#[test]
fn reserves_come_from_genesis() {
    let alice = qstack_core::Address::from(A).to_string();
    pallet_system::testing::Scenario::new()
        .genesis::<Pallet>(&format!(
            r#"{{"balances": {{"balances": [["{alice}", "5000"]]}},
                "tokens": {{"reserves": {{"account": "5000", "owner": "7"}}}}}}"#
        ))
        .run::<Pallet>(|| {
            assert_eq!(
                reserves(),
                Reserves {
                    account: 5_000,
                    owner: 7
                }
            );
            assert_eq!(required_reserve(&A), 5_000);
        });
    // A genesis issuer must be endowed with the reserve of what it owns.
    qstack_io::TestExternalities::new().execute_with(|| {
        let patch = qstack_support::genesis::parse_patch(&format!(
            r#"{{"balances": {{"balances": [["{alice}", "5000"]]}},
                "tokens": {{"reserves": {{"account": "5000", "owner": "7"}},
                           "issued": [{{"issuer": "{alice}", "code": "USD", "name": "US Dollar",
                                        "symbol": "USD", "decimals": 2,
                                        "holders": [["{alice}", "10"]]}}]}}}}"#
        ))
        .unwrap();
        let e = qstack_support::genesis::build::<Pallet>(&patch).unwrap_err();
        assert!(e.contains("needs a native balance of 5014"), "{e}");
        let zero = qstack_support::genesis::parse_patch(
            r#"{"tokens": {"reserves": {"account": "0", "owner": "7"}}}"#,
        )
        .unwrap();
        let e = qstack_support::genesis::build::<Pallet>(&zero).unwrap_err();
        assert!(e.contains("tokens.reserves.account"), "{e}");
    });
}

mod prop {
    //! Any sequence of token operations keeps every supply equal to the sum
    //! of its balances, changes a supply only by what is minted or burned,
    //! never moves a frozen amount, and writes nothing when refused.
    use super::*;
    use proptest::prelude::*;

    const ACCOUNTS: [AccountId; 4] = [A, B, C, D];

    #[derive(Clone, Debug)]
    enum Op {
        Native {
            from: usize,
            to: usize,
            amount: Balance,
        },
        Mint {
            token: usize,
            to: usize,
            amount: Balance,
        },
        Burn {
            token: usize,
            who: usize,
            amount: Balance,
        },
        Transfer {
            token: usize,
            from: usize,
            to: usize,
            amount: Balance,
        },
        Approve {
            token: usize,
            owner: usize,
            spender: usize,
            amount: Balance,
        },
        TransferFrom {
            token: usize,
            spender: usize,
            owner: usize,
            to: usize,
            amount: Balance,
        },
        Freeze {
            token: usize,
            holder: usize,
            amount: Option<Balance>,
        },
        Unfreeze {
            token: usize,
            holder: usize,
            amount: Option<Balance>,
        },
        Flag {
            token: usize,
            which: u8,
        },
        Fee {
            who: usize,
            amount: Balance,
        },
        GiveBack {
            token: usize,
            who: usize,
        },
    }

    fn amount() -> impl Strategy<Value = Balance> {
        prop_oneof![
            4 => 1u128..=60,
            2 => 0u128..=500,
            1 => Just(1_000u128),
            1 => Just(u128::MAX),
        ]
    }

    fn op() -> impl Strategy<Value = Op> {
        let i = || 0usize..4;
        let t = || 0usize..2;
        prop_oneof![
            1 => (i(), i(), prop_oneof![0u128..5_000, Just(1_000u128)])
                .prop_map(|(from, to, amount)| Op::Native { from, to, amount }),
            3 => (t(), i(), amount()).prop_map(|(token, to, amount)| Op::Mint { token, to, amount }),
            1 => (t(), i(), amount()).prop_map(|(token, who, amount)| Op::Burn { token, who, amount }),
            4 => (t(), i(), i(), amount())
                .prop_map(|(token, from, to, amount)| Op::Transfer { token, from, to, amount }),
            // The spender is the owner's neighbour, so that transfer_from
            // often finds an allowance.
            3 => (t(), i(), prop_oneof![3 => amount(), 1 => Just(u128::MAX)]).prop_map(
                |(token, owner, amount)| Op::Approve {
                    token,
                    owner,
                    spender: owner + 1,
                    amount
                }
            ),
            4 => (t(), i(), i(), amount()).prop_map(|(token, owner, to, amount)| {
                Op::TransferFrom {
                    token,
                    spender: owner + 1,
                    owner,
                    to,
                    amount,
                }
            }),
            2 => (t(), i(), proptest::option::of(amount()))
                .prop_map(|(token, holder, amount)| Op::Freeze { token, holder, amount }),
            2 => (t(), i(), proptest::option::weighted(0.3, amount()))
                .prop_map(|(token, holder, amount)| Op::Unfreeze { token, holder, amount }),
            1 => (t(), prop_oneof![2 => Just(0u8), 4 => Just(1), 2 => Just(2), 4 => Just(3), 1 => Just(4)])
                .prop_map(|(token, which)| Op::Flag { token, which }),
            1 => (i(), 0u128..3_000).prop_map(|(who, amount)| Op::Fee { who, amount }),
            1 => (t(), i()).prop_map(|(token, who)| Op::GiveBack { token, who }),
        ]
    }

    /// Tokens: A's USD (capped) and B's EUR (uncapped).
    fn tok(i: usize) -> (AccountId, TokenCode) {
        if i == 0 {
            (A, usd())
        } else {
            (B, code("EUR"))
        }
    }

    fn acc(i: usize) -> AccountId {
        ACCOUNTS[i % 4]
    }

    /// Returns (signer, call) for dispatched ops; `None` for the fee.
    fn to_call(op: &Op) -> Option<(AccountId, Call)> {
        Some(match *op {
            Op::Native { from, to, amount } => (
                acc(from),
                Call::Transfer {
                    dest: acc(to),
                    value: amount,
                    dest_tag: None,
                },
            ),
            Op::Mint { token, to, amount } => {
                let (issuer, code) = tok(token);
                (
                    issuer,
                    Call::Mint {
                        code,
                        dest: acc(to),
                        amount,
                        dest_tag: None,
                    },
                )
            }
            Op::Burn { token, who, amount } => {
                let (issuer, code) = tok(token);
                (
                    acc(who),
                    Call::Burn {
                        issuer,
                        code,
                        amount,
                    },
                )
            }
            Op::Transfer {
                token,
                from,
                to,
                amount,
            } => {
                let (issuer, code) = tok(token);
                (acc(from), transfer_token(issuer, code, acc(to), amount))
            }
            Op::Approve {
                token,
                owner,
                spender,
                amount,
            } => {
                let (issuer, code) = tok(token);
                (
                    acc(owner),
                    Call::Approve {
                        issuer,
                        code,
                        spender: acc(spender),
                        amount,
                    },
                )
            }
            Op::TransferFrom {
                token,
                spender,
                owner,
                to,
                amount,
            } => {
                let (issuer, code) = tok(token);
                (
                    acc(spender),
                    Call::TransferFrom {
                        issuer,
                        code,
                        owner: acc(owner),
                        dest: acc(to),
                        amount,
                        dest_tag: None,
                    },
                )
            }
            Op::Freeze {
                token,
                holder,
                amount,
            } => {
                let (issuer, code) = tok(token);
                (
                    issuer,
                    Call::Freeze {
                        code,
                        holder: acc(holder),
                        amount,
                    },
                )
            }
            Op::Unfreeze {
                token,
                holder,
                amount,
            } => {
                let (issuer, code) = tok(token);
                (
                    issuer,
                    Call::Unfreeze {
                        code,
                        holder: acc(holder),
                        amount,
                    },
                )
            }
            Op::Flag { token, which } => {
                let (issuer, code) = tok(token);
                let c = match which {
                    0 => Call::Pause { code },
                    1 => Call::Unpause { code },
                    2 => Call::GlobalFreeze { code },
                    3 => Call::GlobalUnfreeze { code },
                    _ => Call::NoFreeze { code },
                };
                (issuer, c)
            }
            Op::GiveBack { token, who } => {
                let (issuer, code) = tok(token);
                (acc(who), Call::GiveBack { issuer, code })
            }
            Op::Fee { .. } => return None,
        })
    }

    type Books = Vec<(AssetId, AccountId, Holding)>;

    fn books() -> Books {
        let mut out = Vec::new();
        for t in 0..2 {
            let (issuer, code) = tok(t);
            for who in ACCOUNTS {
                out.push((asset(issuer, code), who, holding(who, issuer, code)));
            }
        }
        out
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
        #[test]
        fn random_operations_keep_the_books(ops in proptest::collection::vec(op(), 1..60)) {
            Test::new()
                .endow(A, 20_000)
                .endow(B, 20_000)
                .endow(C, 5_000)
                .token(A, "USD", Some(2_000))
                .token(B, "EUR", None)
                .mint(A, "USD", C, 500)
                .mint(B, "EUR", D, 500)
                .run(|| {
                    pallet_system::DigestItems::put(&Digest::with_author(&D));
                    // Every object locks 100: reserves bind within these balances.
                    ReserveConfig::put(&Reserves { account: ED, owner: 100 });
                    for op in &ops {
                        let before = books();
                        let supplies: Vec<Balance> =
                            (0..2).map(|t| { let (i, c) = tok(t); supply(i, c) }).collect();
                        let issuance = total_issuance();
                        let ok = match to_call(op) {
                            Some((who, c)) => call(who, c).is_ok(),
                            None => {
                                let Op::Fee { who, amount } = *op else { unreachable!() };
                                let snap = snapshot();
                                let r = withdraw_fee(&acc(who), amount);
                                if r.is_err() {
                                    assert!(snap == snapshot(), "a refused fee wrote to state");
                                }
                                r.is_ok()
                            }
                        };
                        try_state().unwrap_or_else(|e| panic!("{e} after {op:?}"));
                        let after = books();
                        // Frozen amounts change only by the issuer's freeze and
                        // unfreeze of that very holding, and never leave it.
                        for ((asset_b, who, h0), (_, _, h1)) in before.iter().zip(&after) {
                            let targeted = |token: usize, holder: usize| {
                                let (i, c) = tok(token);
                                ok && asset(i, c) == *asset_b && acc(holder) == *who
                            };
                            let expected_frozen = match *op {
                                Op::Freeze { token, holder, amount } if targeted(token, holder) =>
                                    h0.frozen + amount.unwrap_or(h0.free),
                                Op::Unfreeze { token, holder, amount } if targeted(token, holder) =>
                                    h0.frozen - amount.unwrap_or(h0.frozen),
                                // The whole holding goes back to the issuer.
                                Op::GiveBack { token, who } if targeted(token, who) => 0,
                                _ => h0.frozen,
                            };
                            assert_eq!(h1.frozen, expected_frozen, "{:?}", op);
                            if !matches!(op, Op::Unfreeze { .. } | Op::GiveBack { .. }) {
                                assert!(h1.total() >= h0.frozen, "frozen amount moved: {:?}", op);
                            }
                        }
                        // Supplies change only by mint, burn and give-back, by
                        // their amount.
                        for (t, s0) in supplies.iter().enumerate() {
                            let (i, c) = tok(t);
                            let given_back = |who: usize| {
                                before.iter().find(|(a, w, _)| *a == asset(i, c) && *w == acc(who))
                                    .map_or(0, |(_, _, h)| h.total())
                            };
                            let expected = match *op {
                                Op::Mint { token, amount, .. } if ok && token == t => s0 + amount,
                                Op::Burn { token, amount, .. } if ok && token == t => s0 - amount,
                                Op::GiveBack { token, who } if ok && token == t => s0 - given_back(who),
                                _ => *s0,
                            };
                            assert_eq!(supply(i, c), expected, "{:?}", op);
                        }
                        // Native issuance changes only by burned fee shares.
                        let burned: Balance = events().iter().map(|e| match e {
                            Event::FeePaid { burned, .. } => *burned,
                            _ => 0,
                        }).sum();
                        assert_eq!(total_issuance(), issuance - burned);
                    }
                });
        }
    }
}

#[test]
fn root_sets_the_fee_split_and_the_reserves_within_range() {
    Test::new().endow(A, 10 * ED).run(|| {
        let split = FeeConfig {
            author_percent: 50,
            treasury: B,
        };
        assert_eq!(
            call(A, Call::SetFeeSplit { config: split }),
            Err(DispatchError::BadOrigin)
        );
        let before = snapshot();
        assert_eq!(
            dispatch(
                Origin::Root,
                Call::SetFeeSplit {
                    config: FeeConfig {
                        author_percent: 101,
                        treasury: B
                    }
                }
            ),
            Err(Error::BadParameter.into())
        );
        assert_eq!(
            dispatch(
                Origin::Root,
                Call::SetReserves {
                    reserves: Reserves {
                        account: 0,
                        owner: 5
                    }
                }
            ),
            Err(Error::BadParameter.into())
        );
        assert_eq!(snapshot(), before, "refused changes write nothing");
        assert_eq!(
            dispatch(Origin::Root, Call::SetFeeSplit { config: split }),
            Ok(())
        );
        assert_eq!(FeeSplit::get(), Some(split));
        let r = Reserves {
            account: 2 * ED,
            owner: 7,
        };
        assert_eq!(
            dispatch(Origin::Root, Call::SetReserves { reserves: r }),
            Ok(())
        );
        assert_eq!(reserves(), r);
    });
}
