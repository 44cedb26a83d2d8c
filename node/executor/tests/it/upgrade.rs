//! Vetting new runtime code before a block that sets it is built or
//! accepted: the real next runtime passes; every other kind of bad code is
//! refused with its own reason.

use super::executor;
use codec::Encode;
use qstack_executor::ExecutorError;
use qstack_runtime::{VERSION, WASM_BINARY};
use qstack_runtime_primitives::{RuntimeVersion, VERSION_SECTION};

fn refused(r: Result<RuntimeVersion, ExecutorError>) -> String {
    match r {
        Err(ExecutorError::UpgradeRefused(why)) => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

/// `code` with a custom section appended (the last version section wins).
fn with_version_section(code: &[u8], version: &RuntimeVersion) -> Vec<u8> {
    let mut body = Vec::new();
    body.push(VERSION_SECTION.len() as u8);
    body.extend_from_slice(VERSION_SECTION.as_bytes());
    body.extend_from_slice(&version.encode());
    let mut out = code.to_vec();
    out.push(0);
    let mut n = body.len();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            break;
        }
        out.push(b | 0x80);
    }
    out.extend_from_slice(&body);
    out
}

#[test]
fn the_next_runtime_passes_and_stays_compiled() {
    let exec = executor();
    let next = qstack_runtime_next::WASM_BINARY;
    assert!(!next.is_empty(), "the next runtime was built");
    let v = exec
        .vet_upgrade(next, &VERSION)
        .expect("the next runtime is vetted");
    assert_eq!(v.spec_version, qstack_runtime_next::SPEC_VERSION);
    assert_eq!(v.spec_name, VERSION.spec_name);
    let cached = exec.cached_runtimes();
    exec.prepare(next).expect("cached");
    assert_eq!(
        exec.cached_runtimes(),
        cached,
        "the vetting compilation is reused"
    );
}

#[test]
fn refusals_name_their_reason() {
    let exec = executor();
    let next = qstack_runtime_next::WASM_BINARY;
    // Not increasing: the running runtime itself, or the next against itself.
    assert!(refused(exec.vet_upgrade(WASM_BINARY, &VERSION)).contains("does not increase"));
    let mut at_next = VERSION;
    at_next.spec_version = qstack_runtime_next::SPEC_VERSION;
    assert!(refused(exec.vet_upgrade(next, &at_next)).contains("does not increase"));
    // Another chain family.
    let mut other = VERSION;
    other.spec_name = "other".into();
    assert!(refused(exec.vet_upgrade(next, &other)).contains("spec_name"));
    // Does not compile.
    assert!(refused(exec.vet_upgrade(b"\0asm\x01\0\0\0\x01\xff", &VERSION)).contains("invalid"));
    assert!(refused(exec.vet_upgrade(&[1, 2, 3], &VERSION)).contains("invalid"));
    // A host function this node lacks.
    let unknown_import = wat::parse_str(
        r#"(module (import "env" "ext_new_thing_v1" (func)) (memory (export "memory") 1))"#,
    )
    .unwrap();
    assert!(refused(exec.vet_upgrade(&unknown_import, &VERSION)).contains("ext_new_thing_v1"));
    // Missing entry points.
    let bare = wat::parse_str(
        r#"(module (memory (export "memory") 1)
             (func (export "alloc") (param i32) (result i32) i32.const 0))"#,
    )
    .unwrap();
    assert!(refused(exec.vet_upgrade(&bare, &VERSION)).contains("Core_version"));
    // Every entry point, but Core_version traps: the dry run fails.
    let mut exports = String::new();
    for name in qstack_executor::REQUIRED_EXPORTS
        .iter()
        .filter(|n| !["memory", "alloc"].contains(n))
    {
        exports.push_str(&format!(
            r#"(func (export "{name}") (param i32 i32) (result i64) unreachable)"#
        ));
    }
    let trapping = wat::parse_str(format!(
        r#"(module (memory (export "memory") 1)
             (func (export "alloc") (param i32) (result i32) i32.const 0) {exports})"#
    ))
    .unwrap();
    let mut next_version = VERSION;
    next_version.spec_version += 1;
    let trapping = with_version_section(&trapping, &next_version);
    assert!(refused(exec.vet_upgrade(&trapping, &VERSION)).contains("dry run"));
    // A version section that lies about what Core_version answers.
    let lying = with_version_section(WASM_BINARY, &next_version);
    assert!(refused(exec.vet_upgrade(&lying, &VERSION)).contains("another version"));
}
