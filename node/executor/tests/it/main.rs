//! Executor integration tests: the real Wasm runtime against native execution
//! of the same code, and every executor error kind.

mod accounts;
mod amm;
mod did;
mod evidence;
mod upgrade;

use codec::{Decode, Encode};
use qstack_core::{Address, KeyScheme, Pair, H256};
use qstack_executor::{Executor, ExecutorConfig, ExecutorError};
use qstack_io::{OverlayExt, OverlayedChanges, TestExternalities};
use qstack_runtime::signing::{sign, ChainContext, TxOptions};
use qstack_runtime::{executive::BlockError, tokens, Block, Extrinsic, RuntimeCall, WASM_BINARY};
use qstack_runtime_primitives::{ApplyExtrinsicResult, Header, RuntimeVersion};
use std::collections::BTreeMap;

fn executor() -> Executor {
    Executor::new(ExecutorConfig::default()).expect("engine starts")
}

fn dev(scheme: KeyScheme, name: &str) -> Pair {
    Pair::from_suri(scheme, &format!("//{name}")).unwrap()
}

/// Either the Wasm runtime through the executor, or the native runtime.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Mode {
    Wasm,
    Native,
}

fn call(
    exec: &Executor,
    mode: Mode,
    overlay: &mut OverlayedChanges,
    state: &TestExternalities,
    method: &str,
    input: &[u8],
) -> Vec<u8> {
    let mut ext = OverlayExt::new(overlay, &state.backend);
    match mode {
        Mode::Wasm => exec
            .call(WASM_BINARY, &mut ext, method, input)
            .unwrap_or_else(|e| panic!("{method}: {e}")),
        Mode::Native => qstack_io::set_and_run_with_externalities(&mut ext, || {
            qstack_runtime::apis::dispatch(method, input)
        })
        .unwrap_or_else(|e| panic!("{method}: {e:?}")),
    }
}

fn genesis(exec: &Executor, mode: Mode, endowed: &[Pair]) -> TestExternalities {
    // Bob, whom the tests pay, exists from genesis: a transfer below the
    // existential deposit (1 QS) could not create his account.
    let bob = dev(KeyScheme::Sr25519, "Bob");
    let list: Vec<String> = endowed
        .iter()
        .chain((!endowed.iter().any(|p| p.account_id() == bob.account_id())).then_some(&bob))
        .map(|p| {
            format!(
                r#"["{}", "1000000000000000"]"#,
                Address::from(p.account_id())
            )
        })
        .collect();
    let json = format!(r#"{{"balances":{{"balances":[{}]}}}}"#, list.join(","));
    genesis_from_json(exec, mode, &json)
}

/// The genesis state the runtime builds from a genesis JSON patch.
fn genesis_from_json(exec: &Executor, mode: Mode, json: &str) -> TestExternalities {
    let mut state = TestExternalities::new();
    let mut overlay = OverlayedChanges::default();
    overlay.set(b":code", Some(WASM_BINARY.to_vec()));
    let out = call(
        exec,
        mode,
        &mut overlay,
        &state,
        "GenesisBuilder_build_state",
        &json.as_bytes().to_vec().encode(),
    );
    assert_eq!(Result::<(), String>::decode(&mut &out[..]).unwrap(), Ok(()));
    state.overlay = overlay;
    state.commit_all();
    state
}

/// One transfer per sender (signatures are randomised, so sign once and apply
/// the same bytes in both modes).
fn transfers(genesis_hash: H256, senders: &[Pair]) -> Vec<Extrinsic> {
    let bob = dev(KeyScheme::Sr25519, "Bob");
    let ctx = ChainContext::new(genesis_hash);
    senders
        .iter()
        .map(|p| {
            sign(
                p,
                RuntimeCall::Tokens(tokens::Call::Transfer {
                    dest: bob.account_id(),
                    value: 7_000,
                    dest_tag: None,
                }),
                &ctx,
                &TxOptions::nonce(0),
            )
        })
        .collect()
}

/// `calls`, each signed by `who` with the next nonce from 0.
fn signed_in_order(who: &Pair, calls: Vec<RuntimeCall>, genesis_hash: H256) -> Vec<Extrinsic> {
    let ctx = ChainContext::new(genesis_hash);
    calls
        .into_iter()
        .enumerate()
        .map(|(n, c)| sign(who, c, &ctx, &TxOptions::nonce(u32::try_from(n).unwrap())))
        .collect()
}

/// Builds block 1 with a timestamp plus `data` and `signed`, in Wasm on
/// `wasm_state` and natively on `native_state`: every extrinsic must apply and
/// both must agree on the results and the header (state root). Returns the
/// Wasm block.
fn build_in_both(
    exec: &Executor,
    (wasm_state, native_state): (&TestExternalities, &TestExternalities),
    genesis_hash: H256,
    data: BTreeMap<[u8; 8], Vec<u8>>,
    signed: &[Extrinsic],
) -> Block {
    let (wasm_block, wasm_results) = build_block_with(
        exec,
        Mode::Wasm,
        wasm_state,
        genesis_hash,
        data.clone(),
        signed,
    );
    let (native_block, native_results) =
        build_block_with(exec, Mode::Native, native_state, genesis_hash, data, signed);
    assert!(
        wasm_results.iter().all(|r| *r == Ok(Ok(()))),
        "{wasm_results:?}"
    );
    assert_eq!(wasm_results, native_results);
    assert_eq!(
        wasm_block.header, native_block.header,
        "Wasm and native headers (state roots) differ"
    );
    wasm_block
}

/// The import path: `block` re-executes in Wasm on `wasm_state` and its
/// roots check; the resulting state is `native_state`'s from then on, and
/// its root is the block's.
fn import_in_wasm(
    exec: &Executor,
    wasm_state: &TestExternalities,
    native_state: &mut TestExternalities,
    block: &Block,
) {
    let mut overlay = OverlayedChanges::default();
    let out = call(
        exec,
        Mode::Wasm,
        &mut overlay,
        wasm_state,
        "Core_execute_block",
        &block.encode(),
    );
    assert_eq!(
        Result::<(), BlockError>::decode(&mut &out[..]).unwrap(),
        Ok(())
    );
    native_state.overlay = overlay;
    assert_eq!(native_state.root(), block.header.state_root.0);
}

/// Builds block 1 from inherent data (a timestamp plus `data`) and `signed`.
fn build_block_with(
    exec: &Executor,
    mode: Mode,
    state: &TestExternalities,
    genesis_hash: H256,
    mut data: BTreeMap<[u8; 8], Vec<u8>>,
    signed: &[Extrinsic],
) -> (Block, Vec<ApplyExtrinsicResult>) {
    let mut overlay = OverlayedChanges::default();
    let header = Header {
        parent_hash: genesis_hash,
        number: 1,
        state_root: H256::zero(),
        extrinsics_root: H256::zero(),
        digest: Default::default(),
    };
    let mut run = |method: &str, input: &[u8]| call(exec, mode, &mut overlay, state, method, input);
    run("Core_initialize_block", &header.encode());
    data.insert(*b"timstap0", 1_700_000_000_000u64.encode());
    let inherents = run("BlockBuilder_inherent_extrinsics", &data.encode());
    let mut extrinsics = Vec::<Extrinsic>::decode(&mut &inherents[..]).unwrap();
    extrinsics.extend_from_slice(signed);
    let results = extrinsics
        .iter()
        .map(|xt| {
            let out = run("BlockBuilder_apply_extrinsic", &xt.encode());
            ApplyExtrinsicResult::decode(&mut &out[..]).unwrap()
        })
        .collect();
    let out = run("BlockBuilder_finalize_block", &[]);
    let header = Result::<Header, BlockError>::decode(&mut &out[..])
        .unwrap()
        .expect("finalises");
    (Block { header, extrinsics }, results)
}

#[test]
fn wasm_and_native_agree_on_a_block_of_every_scheme() {
    assert!(
        !WASM_BINARY.is_empty(),
        "the Wasm runtime was not built (QSTACK_SKIP_WASM_BUILD set?)"
    );
    let exec = executor();
    let senders: Vec<Pair> = KeyScheme::ALL.iter().map(|s| dev(*s, "Alice")).collect();
    let wasm_state = genesis(&exec, Mode::Wasm, &senders);
    let mut native_state = genesis(&exec, Mode::Native, &senders);
    assert_eq!(
        *wasm_state.backend.root(),
        *native_state.backend.root(),
        "genesis roots differ"
    );
    let genesis_hash = Header::genesis(H256(*wasm_state.backend.root())).hash();

    let signed = transfers(genesis_hash, &senders);
    let wasm_block = build_in_both(
        &exec,
        (&wasm_state, &native_state),
        genesis_hash,
        BTreeMap::new(),
        &signed,
    );
    assert_eq!(wasm_block.extrinsics.len(), 1 + KeyScheme::ALL.len());

    // Import path: the block re-executes in Wasm on the parent state and its roots check.
    import_in_wasm(&exec, &wasm_state, &mut native_state, &wasm_block);

    // A tampered state root is caught on import.
    let mut bad = wasm_block.clone();
    bad.header.state_root = H256([1; 32]);
    let mut overlay = OverlayedChanges::default();
    let out = call(
        &exec,
        Mode::Wasm,
        &mut overlay,
        &wasm_state,
        "Core_execute_block",
        &bad.encode(),
    );
    assert_eq!(
        Result::<(), BlockError>::decode(&mut &out[..]).unwrap(),
        Err(BlockError::StateRootMismatch)
    );

    // Compiled once, reused for every call.
    assert_eq!(exec.cached_runtimes(), 1);
}

#[test]
fn version_from_custom_section_matches_core_version() {
    let exec = executor();
    let from_section = exec.runtime_version(WASM_BINARY).unwrap();
    let mut state = TestExternalities::new();
    let mut overlay = OverlayedChanges::default();
    let out = call(&exec, Mode::Wasm, &mut overlay, &state, "Core_version", &[]);
    assert_eq!(RuntimeVersion::decode(&mut &out[..]).unwrap(), from_section);
    assert_eq!(from_section, qstack_runtime::VERSION);
    let _ = state.root();
}

#[test]
fn metadata_is_served_from_wasm() {
    let exec = executor();
    let state = TestExternalities::new();
    let mut overlay = OverlayedChanges::default();
    let out = call(
        &exec,
        Mode::Wasm,
        &mut overlay,
        &state,
        "Metadata_metadata_versions",
        &[],
    );
    assert_eq!(Vec::<u32>::decode(&mut &out[..]).unwrap(), vec![14, 15]);
    let out = call(
        &exec,
        Mode::Wasm,
        &mut overlay,
        &state,
        "Metadata_metadata",
        &[],
    );
    let opaque = Vec::<u8>::decode(&mut &out[..]).unwrap();
    assert_eq!(&opaque[..4], b"meta");
}

fn run_wat(exec: &Executor, wat: &str, method: &str) -> Result<Vec<u8>, ExecutorError> {
    let code = wat::parse_str(wat).unwrap();
    let mut state = TestExternalities::new();
    let mut ext = OverlayExt::new(&mut state.overlay, &state.backend);
    exec.call(&code, &mut ext, method, b"input")
}

const PRELUDE: &str = r#"
  (memory (export "memory") 2)
  (global $next (mut i32) (i32.const 1024))
  (func (export "alloc") (param i32) (result i32)
    (local $p i32) (local.set $p (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get 0))) (local.get $p))
"#;

#[test]
fn every_failure_has_its_own_error() {
    let exec = executor();
    // Not Wasm.
    let mut state = TestExternalities::new();
    let mut ext = OverlayExt::new(&mut state.overlay, &state.backend);
    assert!(matches!(
        exec.call(b"garbage", &mut ext, "Core_version", &[]),
        Err(ExecutorError::InvalidCode(_))
    ));
    // Missing host function.
    let e = run_wat(
        &exec,
        &format!(r#"(module (import "env" "ext_teleport_v1" (func)) {PRELUDE})"#),
        "x",
    )
    .unwrap_err();
    assert_eq!(
        e,
        ExecutorError::MissingHostFunction {
            module: "env".into(),
            name: "ext_teleport_v1".into()
        }
    );
    // Missing export.
    let e = run_wat(&exec, &format!("(module {PRELUDE})"), "Core_version").unwrap_err();
    assert_eq!(e, ExecutorError::MissingExport("Core_version".into()));
    // Trap.
    let e = run_wat(
        &exec,
        &format!(
            r#"(module {PRELUDE} (func (export "f") (param i32 i32) (result i64) unreachable))"#
        ),
        "f",
    )
    .unwrap_err();
    assert!(matches!(e, ExecutorError::Trap { .. }), "{e:?}");
    // Out of fuel (a small cap keeps the test fast; the default is 5e10).
    let small = Executor::new(ExecutorConfig {
        fuel_per_call: 10_000_000,
        ..Default::default()
    })
    .unwrap();
    let e = run_wat(&small, &format!(r#"(module {PRELUDE} (func (export "f") (param i32 i32) (result i64) (loop $l (br $l)) (i64.const 0)))"#), "f").unwrap_err();
    assert!(matches!(e, ExecutorError::OutOfFuel { .. }), "{e:?}");
    // Output outside memory.
    let e = run_wat(&exec, &format!(r#"(module {PRELUDE} (func (export "f") (param i32 i32) (result i64) (i64.const 0x0000100000fffff0)))"#), "f").unwrap_err();
    assert!(matches!(e, ExecutorError::BadOutput { .. }), "{e:?}");
    // A host function given a pointer outside memory traps the call, not the node.
    let e = run_wat(&exec, &format!(r#"(module (import "env" "ext_storage_clear_v1" (func $c (param i64))) {PRELUDE}
        (func (export "f") (param i32 i32) (result i64) (call $c (i64.const 0x7fffffff00000010)) (i64.const 0)))"#), "f").unwrap_err();
    assert!(
        matches!(e, ExecutorError::Trap { ref reason, .. } if reason.contains("outside memory")),
        "{e:?}"
    );
    // The real runtime with undecodable input.
    let mut state = TestExternalities::new();
    let mut ext = OverlayExt::new(&mut state.overlay, &state.backend);
    assert_eq!(
        exec.call(
            WASM_BINARY,
            &mut ext,
            "AccountNonceApi_account_nonce",
            &[1, 2]
        ),
        Err(ExecutorError::BadInput(
            "AccountNonceApi_account_nonce".into()
        ))
    );
    assert_eq!(
        exec.call(WASM_BINARY, &mut ext, "No_such_method", &[]),
        Err(ExecutorError::MissingExport("No_such_method".into()))
    );
}
