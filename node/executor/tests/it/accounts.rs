//! The Wasm runtime and the native one agree on every new way to authorise
//! a transaction: a regular key of another scheme, a disabled master key,
//! tickets, and a multi-signature whose signers' keys ride inline.

use super::{build_in_both, dev, executor, genesis, import_in_wasm, Mode};
use qstack_core::{KeyScheme, H256};
use qstack_runtime::signing::{
    multi_signed, payload, sign, sign_regular, signer_signature, ChainContext, SignForm, TxOptions,
};
use qstack_runtime::{accounts, tokens, RuntimeCall};
use qstack_runtime_primitives::{Header, SignerEntry, SignerKey};

#[test]
fn wasm_and_native_agree_on_regular_keys_tickets_and_multisig() {
    let exec = executor();
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let pq = dev(KeyScheme::Hybrid, "AlicePQ");
    let (sa, sb) = (
        dev(KeyScheme::Hybrid, "SignerA"),
        dev(KeyScheme::Sr25519, "SignerB"),
    );
    let bob = dev(KeyScheme::Sr25519, "Bob").account_id();
    let a = alice.account_id();
    let wasm_state = genesis(&exec, Mode::Wasm, std::slice::from_ref(&alice));
    let mut native_state = genesis(&exec, Mode::Native, std::slice::from_ref(&alice));
    let genesis_hash = Header::genesis(H256(*wasm_state.backend.root())).hash();
    let ctx = ChainContext::new(genesis_hash);
    let by_id = |n| TxOptions {
        include_key: false,
        ..TxOptions::nonce(n)
    };
    let transfer = |value| {
        RuntimeCall::Tokens(tokens::Call::Transfer {
            dest: bob,
            value,
            dest_tag: None,
        })
    };
    let acc = RuntimeCall::Accounts;
    let mut signed = vec![
        sign(
            &alice,
            acc(accounts::Call::SetRegularKey { key: pq.public() }),
            &ctx,
            &TxOptions::nonce(0),
        ),
        sign(
            &alice,
            acc(accounts::Call::SetSigners {
                quorum: 2,
                signers: vec![
                    SignerEntry {
                        account: sa.account_id(),
                        weight: 1,
                    },
                    SignerEntry {
                        account: sb.account_id(),
                        weight: 1,
                    },
                ],
            }),
            &ctx,
            &by_id(1),
        ),
        // Tickets 3 and 4; the nonce moves to 5.
        sign(
            &alice,
            acc(accounts::Call::CreateTickets { count: 2 }),
            &ctx,
            &by_id(2),
        ),
        sign(&alice, acc(accounts::Call::DisableMaster), &ctx, &by_id(5)),
        sign_regular(&pq, a, transfer(7_000), &ctx, &TxOptions::ticket(4)),
    ];
    let (extra, msg) = payload(&transfer(8_000), &ctx, &by_id(6), a, SignForm::Multi);
    signed.push(multi_signed(
        a,
        transfer(8_000),
        extra,
        vec![
            signer_signature(&sb, SignerKey::Key(sb.public()), &msg),
            signer_signature(&sa, SignerKey::Key(sa.public()), &msg),
        ],
    ));

    let wasm_block = build_in_both(
        &exec,
        (&wasm_state, &native_state),
        genesis_hash,
        Default::default(),
        &signed,
    );

    // Import path: re-executes in Wasm on the parent state; roots check.
    import_in_wasm(&exec, &wasm_state, &mut native_state, &wasm_block);
}
