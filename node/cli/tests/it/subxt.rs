//! subxt, Parity's Rust client, on a `qstack --dev` node through
//! `qstack-subxt` (clients/rust) and subxt's dynamic API, with no code
//! generated from metadata: a balance from `System.Account`, the extrinsics
//! and events of the block holding a CLI transfer, and transfers signed with
//! qstack keys followed to finality, over the new JSON-RPC spec (chainHead)
//! and over the legacy methods.

use crate::common::{block_hash_of, free_of, json_line, qstack_ok, Node};
use codec::Encode;
use qstack_core::{KeyScheme, Pair};
use qstack_subxt::subxt::config::substrate::H256;
use qstack_subxt::subxt::config::Hasher;
use qstack_subxt::subxt::dynamic;
use qstack_subxt::subxt::error::EventsError;
use qstack_subxt::subxt::events::Event;
use qstack_subxt::subxt::ext::scale_decode::DecodeAsType;
use qstack_subxt::subxt::storage::DynamicAddress;
use qstack_subxt::subxt::transactions::ValidationResult;
use qstack_subxt::subxt::utils::{AccountId32, MultiAddress};
use qstack_subxt::subxt::OnlineClient;
use qstack_subxt::{connect, with_key_address, BackendKind, PairSigner, QstackConfig};
use serde_json::json;
use std::time::{Duration, Instant};

/// Bound on the whole scenario (each step takes a few blocks at most).
const TIMEOUT: Duration = Duration::from_secs(300);

/// `System.Account`'s value, the fields checked (subxt skips the others).
#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "::qstack_subxt::subxt::ext::scale_decode")]
struct AccountInfo {
    nonce: u32,
    data: AccountData,
}

#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "::qstack_subxt::subxt::ext::scale_decode")]
struct AccountData {
    free: u128,
}

/// The fields of the `Tokens.Transfer` call.
#[derive(Debug, DecodeAsType)]
#[decode_as_type(crate_path = "::qstack_subxt::subxt::ext::scale_decode")]
struct TransferCall {
    dest: AccountId32,
    value: u128,
    dest_tag: Option<u32>,
}

/// The fields of the `Tokens.Transfer` event (its asset left out).
#[derive(Debug, PartialEq, DecodeAsType)]
#[decode_as_type(crate_path = "::qstack_subxt::subxt::ext::scale_decode")]
struct TransferEvent {
    from: AccountId32,
    to: AccountId32,
    amount: u128,
    dest_tag: Option<u32>,
}

/// `suri`'s sr25519 address and account id, as `qstack key inspect` shows
/// them; the id is also what `qstack-core` derives (the key's hash).
fn key(suri: &str) -> (String, AccountId32, Pair) {
    let v = json_line(&qstack_ok(&[
        "key", "inspect", suri, "--scheme", "sr25519", "--output", "json",
    ]));
    let id = hex::decode(v["accountId"].as_str().unwrap().trim_start_matches("0x")).unwrap();
    let pair = Pair::from_suri(KeyScheme::Sr25519, suri).unwrap();
    assert_eq!(
        id,
        pair.account_id().0,
        "{suri}: the CLI and qstack-core agree"
    );
    (
        v["address"].as_str().unwrap().to_string(),
        AccountId32(pair.account_id().0),
        pair,
    )
}

/// The dynamic address of `System.Account`, keyed by account id.
fn account_info() -> DynamicAddress<(AccountId32,), AccountInfo> {
    dynamic::storage("System", "Account")
}

fn h256(hex0x: &str) -> H256 {
    let bytes: [u8; 32] = hex::decode(hex0x.trim_start_matches("0x"))
        .unwrap()
        .try_into()
        .unwrap();
    H256::from(bytes)
}

fn nonce_of(node: &Node, addr: &str) -> u64 {
    node.rpc("account_info", json!([addr]))["nonce"]
        .as_u64()
        .unwrap()
}

/// The one `Tokens.Transfer` event among `events` (an extrinsic's or a
/// block's), decoded.
fn transfer_event<'a>(
    events: impl Iterator<Item = Result<Event<'a, QstackConfig>, EventsError>>,
) -> TransferEvent {
    let found: Vec<TransferEvent> = events
        .map(|e| e.expect("event decodes"))
        .filter(|e| e.pallet_name() == "Tokens" && e.event_name() == "Transfer")
        .map(|e| {
            e.decode_fields_unchecked_as()
                .expect("Tokens.Transfer fields")
        })
        .collect();
    assert_eq!(found.len(), 1, "one Tokens.Transfer event: {found:?}");
    found.into_iter().next().unwrap()
}

/// One dev node: subxt over chainHead alone follows finalized blocks, finds
/// the CLI's transfer and decodes it, reads storage and runtime APIs, and
/// submits Alice's transfer; over the legacy methods alone it reads the
/// same block by hash and number and submits Bob's first transaction (with
/// his key); the combined backend reads a balance.
#[test]
fn subxt_reads_and_submits_over_chain_head_and_legacy_rpc() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path(), &[]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let start = Instant::now();
    rt.block_on(async {
        tokio::time::timeout(TIMEOUT, scenario(&node))
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "subxt scenario timed out; node log: {}",
                    dir.path().join(format!("node-{}.log", node.port)).display()
                )
            })
    });
    println!("subxt scenario: {:?}", start.elapsed());
}

async fn scenario(node: &Node) {
    let ws = node.ws();
    let (alice_addr, alice, alice_pair) = key("//Alice");
    let (bob_addr, bob, bob_pair) = key("//Bob");
    let genesis = h256(node.rpc("chain_getBlockHash", json!([0])).as_str().unwrap());

    // chainHead: follow finalized blocks from before the CLI's transfer
    // (chainHead reads only blocks its subscription reported).
    let api = connect(&ws, BackendKind::ChainHead)
        .await
        .expect("subxt connects over chainHead");
    assert_eq!(api.genesis_hash(), genesis);
    let mut finalized = api.stream_blocks().await.expect("finalized blocks");

    let bob_before = free_of(node, &bob_addr);
    let amount = 1_000_001u128;
    let cli = {
        let (ws, bob_addr) = (ws.clone(), bob_addr.clone());
        tokio::task::spawn_blocking(move || {
            qstack_ok(&[
                "tx",
                "transfer",
                "--from",
                "//Alice",
                "--scheme",
                "sr25519",
                "--to",
                &bob_addr,
                "--amount",
                &amount.to_string(),
                "--rpc",
                &ws,
            ])
        })
        .await
        .unwrap()
    };
    let cli_block = h256(&block_hash_of(&cli));
    let block = loop {
        let block = finalized
            .next()
            .await
            .expect("the finalized stream goes on")
            .expect("a finalized block");
        if block.hash() == cli_block {
            break block;
        }
    };
    let at = block.at().await.expect("subxt at the CLI's block");

    // The CLI's transfer, decoded from metadata: call fields, Alice's key in
    // the address (an account's first transaction carries it), her sr25519
    // signature (scheme 0, 64 bytes), nonce 0, no tip.
    let extrinsics = at.extrinsics().fetch().await.expect("the block's body");
    let transfers: Vec<_> = extrinsics
        .iter()
        .map(|x| x.expect("extrinsic decodes"))
        .filter(|x| x.pallet_name() == "Tokens" && x.call_name() == "Transfer")
        .collect();
    assert_eq!(transfers.len(), 1, "one Tokens.Transfer in the CLI's block");
    let transfer = &transfers[0];
    let call: TransferCall = transfer
        .decode_call_data_fields_unchecked_as()
        .expect("Tokens.Transfer fields");
    assert_eq!(
        (&call.dest, call.value, call.dest_tag),
        (&bob, amount, None)
    );
    let mut raw_key = vec![2u8];
    alice_pair.public().encode().encode_to(&mut raw_key);
    assert_eq!(transfer.address_bytes(), Some(&raw_key[..]));
    let signature = transfer.signature_bytes().expect("signed");
    assert_eq!((signature[0], signature.len()), (0, 65));
    let extensions = transfer.transaction_extensions().expect("signed");
    assert_eq!(extensions.nonce(), Some(0));
    // FRAME's `ChargeTransactionPayment(Compact<Balance>)`, as subxt reads it.
    assert_eq!(extensions.tip(), Some(0));

    let events = transfer.events().await.expect("the transfer's events");
    assert!(events
        .iter()
        .any(|e| e
            .is_ok_and(|e| e.pallet_name() == "System" && e.event_name() == "ExtrinsicSuccess")));
    assert_eq!(
        transfer_event(events.iter()),
        TransferEvent {
            from: alice,
            to: bob,
            amount,
            dest_tag: None
        }
    );
    let block_events = at.events().fetch().await.expect("the block's events");
    assert_eq!(transfer_event(block_events.iter()).amount, amount);

    // Storage and the nonce runtime API agree with the node's own RPC.
    let now = api
        .at_current_block()
        .await
        .expect("subxt at the best block");
    let info = now
        .storage()
        .fetch(account_info(), (alice,))
        .await
        .expect("System.Account of Alice")
        .decode()
        .expect("AccountInfo decodes");
    assert_eq!(info.data.free, free_of(node, &alice_addr));
    assert_eq!(info.nonce, 1);
    let mut tx = now.tx();
    assert_eq!(tx.account_nonce(&alice).await.expect("AccountNonceApi"), 1);

    // A transfer signed in Rust with qstack's //Alice, by account id (her
    // key is on chain now), followed to finality over transactionWatch_v1.
    let signer = PairSigner::new(alice_pair.clone());
    let keep_alive = 2_000_002u128;
    let call = dynamic::tx(
        "Balances",
        "transfer_keep_alive",
        (MultiAddress::<AccountId32, ()>::Id(bob), keep_alive),
    );
    let signed = tx
        .create_signed(&call, &signer, Default::default())
        .await
        .expect("signed");
    assert!(matches!(
        signed.validate().await.expect("TaggedTransactionQueue"),
        ValidationResult::Valid(_)
    ));
    let fee = signed
        .partial_fee_estimate()
        .await
        .expect("TransactionPaymentApi");
    assert!(fee > 0);
    let alice_before = free_of(node, &alice_addr);
    let events = signed
        .submit_and_watch()
        .await
        .expect("chainHead: submitted")
        .wait_for_finalized_success()
        .await
        .expect("chainHead: final and successful");
    assert_eq!(
        transfer_event(events.iter()),
        TransferEvent {
            from: alice,
            to: bob,
            amount: keep_alive,
            dest_tag: None
        }
    );
    assert_eq!(nonce_of(node, &alice_addr), 2);
    assert_eq!(free_of(node, &alice_addr), alice_before - keep_alive - fee);
    assert_eq!(free_of(node, &bob_addr), bob_before + amount + keep_alive);
    drop(finalized);

    legacy(node, &ws, cli_block, alice, (&bob_addr, bob, bob_pair)).await;

    // The combined backend (chainHead here: the dev node is no archive)
    // reads what the node reports.
    let combined = connect(&ws, BackendKind::Combined)
        .await
        .expect("subxt connects with its combined backend");
    let now = combined.at_current_block().await.expect("current block");
    let info = now
        .storage()
        .fetch(account_info(), (bob,))
        .await
        .expect("System.Account of Bob")
        .decode()
        .expect("AccountInfo decodes");
    assert_eq!(info.data.free, free_of(node, &bob_addr));
}

/// The legacy methods: an old block by hash and by number (subxt's hash of
/// the header it decodes is the node's), and Bob's first transaction,
/// which must carry his key.
async fn legacy(
    node: &Node,
    ws: &str,
    cli_block: H256,
    alice: AccountId32,
    (bob_addr, bob, bob_pair): (&str, AccountId32, Pair),
) {
    let api: OnlineClient<QstackConfig> = connect(ws, BackendKind::Legacy)
        .await
        .expect("subxt connects over the legacy methods");
    let old = api
        .at_block(cli_block)
        .await
        .expect("the CLI's block by hash");
    let header = old.block_header().await.expect("its header");
    assert_eq!(old.hasher().hash(&header.encode()), cli_block);
    let by_number = api.at_block(header.number).await.expect("by number");
    assert_eq!(by_number.block_hash(), cli_block);
    let extrinsics = old.extrinsics().fetch().await.expect("its body");
    assert_eq!(
        extrinsics
            .iter()
            .filter(|x| x
                .as_ref()
                .is_ok_and(|x| x.pallet_name() == "Tokens" && x.call_name() == "Transfer"))
            .count(),
        1
    );

    let signer = PairSigner::new(bob_pair);
    let back = 3_003u128;
    let call = dynamic::tx(
        "Balances",
        "transfer_keep_alive",
        (MultiAddress::<AccountId32, ()>::Id(alice), back),
    );
    let now = api.at_current_block().await.expect("current block");
    let mut tx = now.tx();
    let by_id = tx
        .create_signed(&call, &signer, Default::default())
        .await
        .expect("signed");
    // By account id alone the chain cannot check Bob's signature yet.
    let refused = match by_id.submit_and_watch().await {
        Err(e) => e.to_string(),
        Ok(progress) => match progress.wait_for_finalized_success().await {
            Err(e) => e.to_string(),
            Ok(_) => panic!("a first transaction without its key was accepted"),
        },
    };
    println!("first transaction by account id refused: {refused}");
    assert!(refused.contains("Invalid Transaction"), "{refused}");
    assert_eq!(nonce_of(node, bob_addr), 0);

    let with_key = with_key_address(by_id.encoded(), &signer.public()).expect("rewritten");
    let events = tx
        .from_bytes(with_key)
        .submit_and_watch()
        .await
        .expect("legacy: submitted")
        .wait_for_finalized_success()
        .await
        .expect("legacy: final and successful");
    assert_eq!(
        transfer_event(events.iter()),
        TransferEvent {
            from: bob,
            to: alice,
            amount: back,
            dest_tag: None
        }
    );
    assert_eq!(nonce_of(node, bob_addr), 1);
}
