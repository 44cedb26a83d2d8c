//! Destination tags, deposit authorisation, deposit requests, token refusal.

use super::*;
use qstack_runtime_primitives::DepositRequest;

fn allowed(
    from: u8,
    to: u8,
    asset: AssetId,
    amount: u128,
    tag: Option<u32>,
) -> Result<(), DispatchError> {
    ensure_deposit_allowed(&acc(from), &acc(to), &asset, amount, tag)
}

fn mode(who: u8, mode: DepositAuth) {
    call(who, SignedWith::Master, Call::SetDepositAuth { mode }).unwrap();
}

fn request(from: u8, to: u8, asset: AssetId, amount: u128) -> Result<(), DispatchError> {
    call(
        from,
        SignedWith::Master,
        Call::RequestDeposit {
            to: acc(to),
            asset,
            amount,
        },
    )
}

fn approve(to: u8, from: u8, asset: AssetId, amount: u128) -> Result<(), DispatchError> {
    call(
        to,
        SignedWith::Master,
        Call::ApproveDeposit {
            from: acc(from),
            asset,
            amount,
        },
    )
}

#[test]
fn open_accounts_take_any_deposit() {
    Test::new().run(|| {
        allowed(ALICE, BOB, AssetId::Native, 5, None).unwrap();
        allowed(ALICE, BOB, token(CHARLIE, "USD"), 5, Some(1)).unwrap();
        assert_eq!(take_events(), vec![]);
    });
}

#[test]
fn destination_tag_required() {
    Test::new().run(|| {
        let b = acc(BOB);
        call(
            BOB,
            SignedWith::Master,
            Call::SetRequireDestTag { required: true },
        )
        .unwrap();
        assert!(flags(&b).require_dest_tag);
        assert_eq!(
            take_events(),
            vec![Event::DestTagRequirementSet {
                account: b,
                required: true
            }]
        );
        assert_fails(Error::DestinationTagRequired, || {
            allowed(ALICE, BOB, AssetId::Native, 5, None)
        });
        allowed(ALICE, BOB, AssetId::Native, 5, Some(0)).unwrap();
        // Into oneself, always.
        allowed(BOB, BOB, AssetId::Native, 5, None).unwrap();
        call(
            BOB,
            SignedWith::Master,
            Call::SetRequireDestTag { required: false },
        )
        .unwrap();
        assert!(!Flags::contains_key(&b));
        allowed(ALICE, BOB, AssetId::Native, 5, None).unwrap();
        take_events();
    });
}

#[test]
fn preauthorized_senders_only() {
    Test::new().run(|| {
        let b = acc(BOB);
        mode(BOB, DepositAuth::Preauthorized);
        assert_eq!(
            take_events(),
            vec![Event::DepositAuthSet {
                account: b,
                mode: DepositAuth::Preauthorized
            }]
        );
        assert_fails(Error::DepositNotAuthorized, || {
            allowed(ALICE, BOB, AssetId::Native, 5, None)
        });
        allowed(BOB, BOB, AssetId::Native, 5, None).unwrap();
        call(
            BOB,
            SignedWith::Master,
            Call::Preauthorize { sender: acc(ALICE) },
        )
        .unwrap();
        assert_eq!(
            take_events(),
            vec![Event::Preauthorized {
                account: b,
                sender: acc(ALICE)
            }]
        );
        allowed(ALICE, BOB, AssetId::Native, 5, None).unwrap();
        allowed(ALICE, BOB, token(CHARLIE, "EUR"), 9, None).unwrap();
        assert_fails(Error::DepositNotAuthorized, || {
            allowed(CHARLIE, BOB, AssetId::Native, 5, None)
        });
        call(
            BOB,
            SignedWith::Master,
            Call::Unauthorize { sender: acc(ALICE) },
        )
        .unwrap();
        assert!(!Preauthorized::contains_key(&b));
        assert_eq!(
            take_events(),
            vec![Event::Unauthorized {
                account: b,
                sender: acc(ALICE)
            }]
        );
        assert_fails(Error::DepositNotAuthorized, || {
            allowed(ALICE, BOB, AssetId::Native, 5, None)
        });
    });
}

#[test]
fn preauthorize_errors_and_bound() {
    Test::new().run(|| {
        let b = acc(BOB);
        assert_fails(Error::PreauthorizeSelf, || {
            call(BOB, SignedWith::Master, Call::Preauthorize { sender: b })
        });
        assert_fails(Error::NotPreauthorized, || {
            call(
                BOB,
                SignedWith::Master,
                Call::Unauthorize { sender: acc(ALICE) },
            )
        });
        for i in 0..MAX_PREAUTHORIZED {
            let sender = AccountId([i as u8; 32]);
            call(BOB, SignedWith::Master, Call::Preauthorize { sender }).unwrap();
        }
        assert_eq!(Preauthorized::get(&b).unwrap().len(), 64);
        assert_eq!(take_events().len(), 64);
        assert_fails(Error::AlreadyPreauthorized, || {
            call(
                BOB,
                SignedWith::Master,
                Call::Preauthorize {
                    sender: AccountId([3; 32]),
                },
            )
        });
        assert_fails(Error::TooManyPreauthorized, || {
            call(
                BOB,
                SignedWith::Master,
                Call::Preauthorize {
                    sender: AccountId([200; 32]),
                },
            )
        });
    });
}

#[test]
fn token_refusal_with_an_allow_list() {
    Test::new().run(|| {
        let b = acc(BOB);
        let usd = token(CHARLIE, "USD");
        let set = |assets| call(BOB, SignedWith::Master, Call::SetAllowedAssets { assets });
        set(Some(vec![usd, AssetId::Native])).unwrap();
        assert_eq!(
            AllowedAssets::get(&b).unwrap().as_slice(),
            &[AssetId::Native, usd],
            "stored sorted"
        );
        assert_eq!(
            take_events(),
            vec![Event::AllowedAssetsSet {
                account: b,
                count: Some(2)
            }]
        );
        allowed(ALICE, BOB, usd, 1, None).unwrap();
        allowed(ALICE, BOB, AssetId::Native, 1, None).unwrap();
        // The same code from another issuer is another asset: refused.
        assert_fails(Error::AssetRefused, || {
            allowed(ALICE, BOB, token(ALICE, "USD"), 1, None)
        });
        // An empty list refuses everything but deposits into oneself.
        set(Some(vec![])).unwrap();
        assert_eq!(
            take_events(),
            vec![Event::AllowedAssetsSet {
                account: b,
                count: Some(0)
            }]
        );
        assert_fails(Error::AssetRefused, || {
            allowed(ALICE, BOB, AssetId::Native, 1, None)
        });
        allowed(BOB, BOB, usd, 1, None).unwrap();
        set(None).unwrap();
        assert!(!AllowedAssets::contains_key(&b));
        allowed(ALICE, BOB, token(ALICE, "USD"), 1, None).unwrap();
        assert_eq!(
            take_events(),
            vec![Event::AllowedAssetsSet {
                account: b,
                count: None
            }]
        );
    });
}

#[test]
fn allow_list_errors_and_bound() {
    Test::new().run(|| {
        let set = |assets| call(BOB, SignedWith::Master, Call::SetAllowedAssets { assets });
        let many = |n: u8| -> Vec<AssetId> {
            (0..n)
                .map(|i| AssetId::Issued {
                    issuer: AccountId([i; 32]),
                    code: TokenCode::parse("USD").unwrap(),
                })
                .collect()
        };
        assert_fails(Error::TooManyAllowedAssets, || set(Some(many(33))));
        assert_fails(Error::DuplicateAsset, || {
            set(Some(vec![
                AssetId::Native,
                token(1, "USD"),
                AssetId::Native,
            ]))
        });
        let bad = AssetId::Issued {
            issuer: acc(1),
            code: TokenCode::Standard(*b"a b"),
        };
        assert_fails(Error::InvalidAsset, || set(Some(vec![bad])));
        assert!(!AllowedAssets::contains_key(&acc(BOB)));
        set(Some(many(32))).unwrap();
        assert_eq!(AllowedAssets::get(&acc(BOB)).unwrap().len(), 32);
        take_events();
    });
}

#[test]
fn refusal_and_tags_come_before_authorisation() {
    Test::new().run(|| {
        mode(BOB, DepositAuth::Preauthorized);
        call(
            BOB,
            SignedWith::Master,
            Call::SetRequireDestTag { required: true },
        )
        .unwrap();
        call(
            BOB,
            SignedWith::Master,
            Call::SetAllowedAssets {
                assets: Some(vec![AssetId::Native]),
            },
        )
        .unwrap();
        call(
            BOB,
            SignedWith::Master,
            Call::Preauthorize { sender: acc(ALICE) },
        )
        .unwrap();
        take_events();
        assert_fails(Error::DestinationTagRequired, || {
            allowed(ALICE, BOB, token(ALICE, "USD"), 1, None)
        });
        assert_fails(Error::AssetRefused, || {
            allowed(ALICE, BOB, token(ALICE, "USD"), 1, Some(4))
        });
        allowed(ALICE, BOB, AssetId::Native, 1, Some(4)).unwrap();
        assert_fails(Error::DepositNotAuthorized, || {
            allowed(CHARLIE, BOB, AssetId::Native, 1, Some(4))
        });
    });
}

#[test]
fn deposits_by_approved_request_of_the_exact_amount_once() {
    Test::new().run(|| {
        let (a, b) = (acc(ALICE), acc(BOB));
        mode(BOB, DepositAuth::Requests);
        take_events();
        assert_fails(Error::DepositNotAuthorized, || {
            allowed(ALICE, BOB, AssetId::Native, 500, None)
        });
        request(ALICE, BOB, AssetId::Native, 500).unwrap();
        assert_eq!(
            DepositRequests::get(&a).unwrap().as_slice(),
            &[DepositRequest {
                to: b,
                asset: AssetId::Native,
                amount: 500,
                approved: false
            }]
        );
        assert_eq!(
            take_events(),
            vec![Event::DepositRequested {
                from: a,
                to: b,
                asset: AssetId::Native,
                amount: 500
            }]
        );
        // Requested, not yet approved.
        assert_fails(Error::DepositNotAuthorized, || {
            allowed(ALICE, BOB, AssetId::Native, 500, None)
        });
        approve(BOB, ALICE, AssetId::Native, 500).unwrap();
        assert!(DepositRequests::get(&a).unwrap()[0].approved);
        assert_eq!(
            take_events(),
            vec![Event::DepositApproved {
                from: a,
                to: b,
                asset: AssetId::Native,
                amount: 500
            }]
        );
        assert_fails(Error::DepositAmountMismatch, || {
            allowed(ALICE, BOB, AssetId::Native, 499, None)
        });
        assert_fails(Error::DepositNotAuthorized, || {
            allowed(ALICE, BOB, token(CHARLIE, "USD"), 500, None)
        });
        assert_fails(Error::DepositNotAuthorized, || {
            allowed(CHARLIE, BOB, AssetId::Native, 500, None)
        });
        allowed(ALICE, BOB, AssetId::Native, 500, None).unwrap();
        assert!(!DepositRequests::contains_key(&a), "spent");
        assert_eq!(
            take_events(),
            vec![Event::DepositRequestUsed {
                from: a,
                to: b,
                asset: AssetId::Native,
                amount: 500
            }]
        );
        assert_fails(Error::DepositNotAuthorized, || {
            allowed(ALICE, BOB, AssetId::Native, 500, None)
        });
        // Pre-authorised senders need no request in this mode either.
        call(BOB, SignedWith::Master, Call::Preauthorize { sender: a }).unwrap();
        allowed(ALICE, BOB, AssetId::Native, 7, None).unwrap();
        take_events();
    });
}

#[test]
fn request_errors_and_bound() {
    Test::new().run(|| {
        let a = acc(ALICE);
        assert_fails(Error::RequestToSelf, || {
            request(ALICE, ALICE, AssetId::Native, 1)
        });
        assert_fails(Error::ZeroAmount, || {
            request(ALICE, BOB, AssetId::Native, 0)
        });
        let bad = AssetId::Issued {
            issuer: acc(1),
            code: TokenCode::Hex([0; 20]),
        };
        assert_fails(Error::InvalidAsset, || request(ALICE, BOB, bad, 1));
        // Bob's account is open: nothing to request.
        assert_fails(Error::RequestsNotAccepted, || {
            request(ALICE, BOB, AssetId::Native, 1)
        });
        for to in 10..10 + MAX_DEPOSIT_REQUESTS as u8 + 1 {
            mode(to, DepositAuth::Requests);
        }
        take_events();
        for to in 10..10 + MAX_DEPOSIT_REQUESTS as u8 {
            request(ALICE, to, AssetId::Native, 1).unwrap();
        }
        assert_eq!(take_events().len(), 16);
        assert_fails(Error::RequestExists, || {
            request(ALICE, 10, AssetId::Native, 2)
        });
        assert_fails(Error::TooManyRequests, || {
            request(ALICE, 10 + MAX_DEPOSIT_REQUESTS as u8, AssetId::Native, 1)
        });
        assert_eq!(DepositRequests::get(&a).unwrap().len(), 16);
        // Another asset for the same recipient is another request (room permitting).
        call(
            ALICE,
            SignedWith::Master,
            Call::CancelDepositRequest {
                to: acc(11),
                asset: AssetId::Native,
            },
        )
        .unwrap();
        request(ALICE, 10, token(BOB, "USD"), 2).unwrap();
        assert_eq!(DepositRequests::get(&a).unwrap().len(), 16);
        take_events();
    });
}

#[test]
fn approve_cancel_and_reject_errors() {
    Test::new().run(|| {
        let (a, b) = (acc(ALICE), acc(BOB));
        mode(BOB, DepositAuth::Requests);
        take_events();
        let cancel = || {
            call(
                ALICE,
                SignedWith::Master,
                Call::CancelDepositRequest {
                    to: b,
                    asset: AssetId::Native,
                },
            )
        };
        let reject = || {
            call(
                BOB,
                SignedWith::Master,
                Call::RejectDepositRequest {
                    from: a,
                    asset: AssetId::Native,
                },
            )
        };
        assert_fails(Error::NoSuchRequest, cancel);
        assert_fails(Error::NoSuchRequest, reject);
        assert_fails(Error::NoSuchRequest, || {
            approve(BOB, ALICE, AssetId::Native, 5)
        });
        request(ALICE, BOB, AssetId::Native, 5).unwrap();
        take_events();
        // Only the recipient can approve: Charlie finds no request to him.
        assert_fails(Error::NoSuchRequest, || {
            approve(CHARLIE, ALICE, AssetId::Native, 5)
        });
        assert_fails(Error::RequestMismatch, || {
            approve(BOB, ALICE, AssetId::Native, 6)
        });
        approve(BOB, ALICE, AssetId::Native, 5).unwrap();
        take_events();
        assert_fails(Error::AlreadyApproved, || {
            approve(BOB, ALICE, AssetId::Native, 5)
        });
        reject().unwrap();
        assert!(!DepositRequests::contains_key(&a));
        assert_eq!(
            take_events(),
            vec![Event::DepositRequestRejected {
                from: a,
                to: b,
                asset: AssetId::Native
            }]
        );
        request(ALICE, BOB, AssetId::Native, 5).unwrap();
        take_events();
        cancel().unwrap();
        assert!(!DepositRequests::contains_key(&a));
        assert_eq!(
            take_events(),
            vec![Event::DepositRequestCancelled {
                from: a,
                to: b,
                asset: AssetId::Native
            }]
        );
    });
}

#[test]
fn a_spent_request_comes_back_when_the_transfer_fails() {
    Test::new().run(|| {
        let a = acc(ALICE);
        mode(BOB, DepositAuth::Requests);
        request(ALICE, BOB, AssetId::Native, 5).unwrap();
        approve(BOB, ALICE, AssetId::Native, 5).unwrap();
        take_events();
        // The token pallet checks inside the dispatch's transaction; a later
        // failure rolls the spend back.
        qstack_io::storage::start_transaction();
        allowed(ALICE, BOB, AssetId::Native, 5, None).unwrap();
        assert!(!DepositRequests::contains_key(&a));
        qstack_io::storage::rollback_transaction();
        assert!(DepositRequests::get(&a).unwrap()[0].approved);
        take_events();
    });
}
