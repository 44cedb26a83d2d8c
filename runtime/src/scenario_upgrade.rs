//! Runtime upgrades through an authorised hash (whole or in chunks), and
//! the development chain's sudo key: each refusal with its own error and
//! nothing changed.

use crate::scenario_tests::{dev, Chain};
use crate::{sudo, system, RuntimeCall, RuntimeEvent};
use codec::Encode;
use qstack_core::{Address, KeyScheme, Pair, H256};
use qstack_runtime_primitives::{DispatchError, RuntimeVersion, VERSION_SECTION};

/// A Wasm module holding only a version section with `version` and
/// `imports` (function imports of module `env`): what the runtime reads
/// of new code. (The node compiles and dry-runs real code on top.)
pub(crate) fn fake_code(version: &RuntimeVersion, imports: &[&str]) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    fn name(s: &str, out: &mut Vec<u8>) {
        leb(s.len(), out);
        out.extend_from_slice(s.as_bytes());
    }
    let mut code = b"\0asm\x01\0\0\0".to_vec();
    // Type section: one `() -> ()` type, for the imports.
    code.extend_from_slice(&[1, 4, 1, 0x60, 0, 0]);
    if !imports.is_empty() {
        let mut body = Vec::new();
        leb(imports.len(), &mut body);
        for i in imports {
            name("env", &mut body);
            name(i, &mut body);
            body.extend_from_slice(&[0x00, 0]);
        }
        code.push(2);
        leb(body.len(), &mut code);
        code.extend_from_slice(&body);
    }
    let mut body = Vec::new();
    name(VERSION_SECTION, &mut body);
    body.extend_from_slice(&version.encode());
    code.push(0);
    leb(body.len(), &mut code);
    code.extend_from_slice(&body);
    code
}

fn next_version() -> RuntimeVersion {
    let mut v = crate::VERSION;
    v.spec_version += 1;
    v
}

fn hash(code: &[u8]) -> H256 {
    H256(qstack_core::hashing::blake2_256(code))
}

fn sys(call: system::Call) -> RuntimeCall {
    RuntimeCall::System(call)
}

fn as_root(chain: &mut Chain, call: system::Call) -> Result<(), DispatchError> {
    chain.with(|| sys(call).dispatch(system::Origin::Root))
}

fn signed(chain: &mut Chain, who: &Pair, call: system::Call) -> Result<(), DispatchError> {
    chain.with(|| sys(call).dispatch(system::Origin::Signed(who.account_id())))
}

/// Everything an upgrade may touch, to show a refusal changed nothing.
fn upgrade_state(chain: &mut Chain) -> (Option<Vec<u8>>, Option<H256>, Vec<u8>) {
    chain.with(|| {
        (
            qstack_io::storage::get(system::CODE_KEY),
            system::code::authorized_upgrade(),
            system::CodeChunks::iter().encode(),
        )
    })
}

#[test]
fn an_authorised_hash_lets_anyone_install_exactly_that_code() {
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let mut chain = Chain::new(&[(&alice, 10u128.pow(15))]);
    chain.start_block();
    let code = fake_code(&next_version(), &["ext_storage_get_v1"]);
    // Nothing authorised yet; authorising is root's.
    assert_eq!(
        signed(
            &mut chain,
            &alice,
            system::Call::ApplyAuthorizedUpgrade { code: code.clone() }
        ),
        Err(system::Error::NothingAuthorized.into())
    );
    assert_eq!(
        signed(
            &mut chain,
            &alice,
            system::Call::AuthorizeUpgrade {
                code_hash: hash(&code)
            }
        ),
        Err(DispatchError::BadOrigin)
    );
    assert_eq!(
        as_root(
            &mut chain,
            system::Call::AuthorizeUpgrade {
                code_hash: hash(&code)
            }
        ),
        Ok(())
    );
    // Other code than the authorised is refused, changing nothing.
    let mut other = code.clone();
    other.push(0);
    let before = upgrade_state(&mut chain);
    assert_eq!(
        signed(
            &mut chain,
            &alice,
            system::Call::ApplyAuthorizedUpgrade { code: other }
        ),
        Err(system::Error::Unauthorized.into())
    );
    assert_eq!(upgrade_state(&mut chain), before);
    assert_eq!(
        signed(
            &mut chain,
            &alice,
            system::Call::ApplyAuthorizedUpgrade { code: code.clone() }
        ),
        Ok(())
    );
    let (stored, authorised, _) = upgrade_state(&mut chain);
    assert_eq!(stored.as_deref(), Some(&code[..]));
    assert_eq!(authorised, None, "an authorisation is used once");
    chain.finish();
    let events = chain.events();
    assert!(events.contains(&RuntimeEvent::System(system::Event::CodeUpdated)));
    assert!(
        events.contains(&RuntimeEvent::System(system::Event::UpgradeAuthorized {
            code_hash: hash(&code)
        }))
    );
}

#[test]
fn authorised_code_is_still_checked_and_refusals_change_nothing() {
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let mut chain = Chain::new(&[(&alice, 10u128.pow(15))]);
    chain.start_block();
    let mut renamed = next_version();
    renamed.spec_name = "other".into();
    let cases: Vec<(Vec<u8>, system::Error)> = vec![
        (
            fake_code(&crate::VERSION, &[]),
            system::Error::SpecVersionNeedsToIncrease,
        ),
        (fake_code(&renamed, &[]), system::Error::InvalidSpecName),
        (
            fake_code(&next_version(), &["ext_new_thing_v1"]),
            system::Error::UnknownHostFunction,
        ),
        (b"\0asm\x01\0\0\0".to_vec(), system::Error::InvalidCode),
        (vec![1, 2, 3], system::Error::InvalidCode),
    ];
    for (code, error) in cases {
        assert_eq!(
            as_root(
                &mut chain,
                system::Call::AuthorizeUpgrade {
                    code_hash: hash(&code)
                }
            ),
            Ok(())
        );
        let before = upgrade_state(&mut chain);
        assert_eq!(
            signed(
                &mut chain,
                &alice,
                system::Call::ApplyAuthorizedUpgrade { code }
            ),
            Err(error.into()),
            "{error:?}"
        );
        assert_eq!(
            upgrade_state(&mut chain),
            before,
            "{error:?} changed nothing"
        );
    }
    chain.finish();
}

#[test]
fn code_in_chunks_is_assembled_per_uploader_and_a_wrong_chunk_is_refused() {
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let bob = dev(KeyScheme::Sr25519, "Bob");
    let mut chain = Chain::new(&[(&alice, 10u128.pow(15)), (&bob, 10u128.pow(15))]);
    chain.start_block();
    let code = {
        // Keep it valid Wasm: wrap the padding in a custom section.
        let mut c = fake_code(&next_version(), &["ext_storage_get_v1"]);
        let pad = vec![7u8; 2_000];
        c.push(0);
        c.extend_from_slice(&[0xd5, 0x0f]); // 2005 = 1 + 4 + 2000
        c.push(4);
        c.extend_from_slice(b"pads");
        c.extend_from_slice(&pad);
        assert!(system::code::read_code_info(&c).is_ok());
        c
    };
    let chunks: Vec<Vec<u8>> = code.chunks(700).map(<[u8]>::to_vec).collect();
    let upload = |chain: &mut Chain, who: &Pair, index: u16, chunk: Vec<u8>| {
        signed(chain, who, system::Call::UploadCodeChunk { index, chunk })
    };
    assert_eq!(
        upload(&mut chain, &alice, 0, chunks[0].clone()),
        Err(system::Error::NothingAuthorized.into()),
        "no upload without an authorisation"
    );
    assert_eq!(
        as_root(
            &mut chain,
            system::Call::AuthorizeUpgrade {
                code_hash: hash(&code)
            }
        ),
        Ok(())
    );
    assert_eq!(
        upload(&mut chain, &alice, system::MAX_CODE_CHUNKS, vec![1]),
        Err(system::Error::BadChunk.into())
    );
    assert_eq!(
        upload(&mut chain, &alice, 0, vec![]),
        Err(system::Error::BadChunk.into())
    );
    // Alice uploads every chunk but a corrupted third one; Bob's bytes at
    // the same index cannot spoil her upload.
    for (i, c) in chunks.iter().enumerate() {
        let mut c = c.clone();
        if i == 2 {
            c[10] ^= 1;
        }
        assert_eq!(upload(&mut chain, &alice, i as u16, c), Ok(()));
    }
    assert_eq!(upload(&mut chain, &bob, 0, vec![9; 10]), Ok(()));
    let before = upgrade_state(&mut chain);
    assert_eq!(
        signed(
            &mut chain,
            &alice,
            system::Call::ApplyAuthorizedUpgrade { code: vec![] }
        ),
        Err(system::Error::Unauthorized.into()),
        "a wrong chunk gives other code"
    );
    assert_eq!(upgrade_state(&mut chain), before);
    // A gap is its own error.
    assert_eq!(
        signed(
            &mut chain,
            &bob,
            system::Call::ApplyAuthorizedUpgrade { code: vec![] }
        ),
        Err(system::Error::Unauthorized.into()),
        "Bob's single chunk is not the code"
    );
    assert_eq!(upload(&mut chain, &bob, 2, vec![9; 10]), Ok(()));
    assert_eq!(
        signed(
            &mut chain,
            &bob,
            system::Call::ApplyAuthorizedUpgrade { code: vec![] }
        ),
        Err(system::Error::MissingChunk.into())
    );
    // Re-uploading the right chunk fixes Alice's upload.
    assert_eq!(upload(&mut chain, &alice, 2, chunks[2].clone()), Ok(()));
    assert_eq!(
        signed(
            &mut chain,
            &alice,
            system::Call::ApplyAuthorizedUpgrade { code: vec![] }
        ),
        Ok(())
    );
    let (stored, authorised, left) = upgrade_state(&mut chain);
    assert_eq!(stored.as_deref(), Some(&code[..]));
    assert_eq!(authorised, None);
    assert_eq!(
        left,
        Vec::<(qstack_core::AccountId, u16, Vec<u8>)>::new().encode(),
        "every chunk is gone"
    );
    // One upgrade per block.
    let again = fake_code(&next_version(), &[]);
    assert_eq!(
        as_root(
            &mut chain,
            system::Call::AuthorizeUpgrade {
                code_hash: hash(&again)
            }
        ),
        Ok(())
    );
    assert_eq!(
        signed(
            &mut chain,
            &alice,
            system::Call::ApplyAuthorizedUpgrade { code: again }
        ),
        Err(system::Error::UpgradeInThisBlock.into())
    );
    chain.finish();
}

#[test]
fn sudo_dispatches_as_root_only_for_its_key() {
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let bob = dev(KeyScheme::Sr25519, "Bob");
    let json = format!(
        r#"{{"balances":{{"balances":[["{}", "{}"], ["{}", "{}"]]}},
            "sudo":{{"key":"{}"}}}}"#,
        Address::from(alice.account_id()),
        10u128.pow(15),
        Address::from(bob.account_id()),
        10u128.pow(15),
        Address::from(alice.account_id()),
    );
    let mut chain = Chain::from_genesis_json(&json);
    chain.start_block();
    let code = fake_code(&next_version(), &[]);
    let set_code = |code: Vec<u8>| sudo::Call::Sudo {
        call: Box::new(sys(system::Call::SetCode { code })),
    };
    let dispatch = |chain: &mut Chain, who: &Pair, call: sudo::Call| {
        chain.with(|| RuntimeCall::Sudo(call).dispatch(system::Origin::Signed(who.account_id())))
    };
    assert_eq!(
        dispatch(&mut chain, &bob, set_code(code.clone())),
        Err(sudo::Error::RequireSudo.into())
    );
    // A failing inner call: the sudo call succeeds, its event says why,
    // and nothing is written.
    let before = upgrade_state(&mut chain);
    assert_eq!(
        dispatch(&mut chain, &alice, set_code(vec![1, 2, 3])),
        Ok(())
    );
    assert_eq!(upgrade_state(&mut chain), before);
    chain.finish();
    assert!(chain
        .events()
        .contains(&RuntimeEvent::Sudo(sudo::Event::Sudid {
            sudo_result: Err(system::Error::InvalidCode.into())
        })));
    chain.start_block();
    assert_eq!(dispatch(&mut chain, &alice, set_code(code.clone())), Ok(()));
    assert_eq!(upgrade_state(&mut chain).0.as_deref(), Some(&code[..]));
    // The key moves, then goes for good.
    assert_eq!(
        dispatch(
            &mut chain,
            &alice,
            sudo::Call::SetKey {
                new: bob.account_id()
            }
        ),
        Ok(())
    );
    assert_eq!(chain.with(sudo::key), Some(bob.account_id()));
    assert_eq!(
        dispatch(&mut chain, &alice, sudo::Call::RemoveKey),
        Err(sudo::Error::RequireSudo.into())
    );
    assert_eq!(dispatch(&mut chain, &bob, sudo::Call::RemoveKey), Ok(()));
    assert_eq!(chain.with(sudo::key), None);
    chain.finish();
}

#[test]
fn chains_without_the_field_have_no_sudo() {
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let mut chain = Chain::new(&[(&alice, 10u128.pow(15))]);
    chain.start_block();
    assert_eq!(chain.with(sudo::key), None);
    let call = sudo::Call::Sudo {
        call: Box::new(sys(system::Call::Remark { remark: vec![1] })),
    };
    assert_eq!(
        chain.with(|| RuntimeCall::Sudo(call).dispatch(system::Origin::Signed(alice.account_id()))),
        Err(sudo::Error::RequireSudo.into())
    );
    chain.finish();
}

#[test]
fn deeply_nested_calls_do_not_decode() {
    // sudo(sudo(…(remark)…)) beyond the decoder's depth bound is malformed,
    // not a stack overflow.
    let mut call = sys(system::Call::Remark { remark: vec![] });
    for _ in 0..200 {
        call = RuntimeCall::Sudo(sudo::Call::Sudo {
            call: Box::new(call),
        });
    }
    let xt = crate::Extrinsic::new_unsigned(call);
    let bytes = xt.encode();
    assert!(crate::Extrinsic::decode_strict(&bytes, RuntimeCall::is_known).is_err());
    let mut shallow = sys(system::Call::Remark { remark: vec![] });
    for _ in 0..3 {
        shallow = RuntimeCall::Sudo(sudo::Call::Sudo {
            call: Box::new(shallow),
        });
    }
    let bytes = crate::Extrinsic::new_unsigned(shallow).encode();
    assert!(crate::Extrinsic::decode_strict(&bytes, RuntimeCall::is_known).is_ok());
}

#[test]
fn signed_transactions_wait_while_a_migration_continues() {
    use crate::signing::{sign, TxOptions};
    use qstack_runtime_primitives::{InvalidTransaction, TransactionValidityError};
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let mut chain = Chain::new(&[(&alice, 10u128.pow(15))]);
    chain.start_block();
    let remark = sys(system::Call::Remark { remark: vec![1] });
    let xt = sign(&alice, remark, &chain.ctx(), &TxOptions::nonce(0));
    chain.with(|| system::MigrationsOngoing::put(&1));
    assert_eq!(
        chain.apply(&xt),
        Err(TransactionValidityError::Invalid(
            InvalidTransaction::Migrating
        ))
    );
    chain.with(system::MigrationsOngoing::kill);
    assert_eq!(chain.apply(&xt), Ok(Ok(())));
    chain.finish();
}

#[test]
fn a_parameter_change_carries_only_parameter_setters_and_is_enacted_as_root() {
    use crate::{governance, tokens};
    let alice = dev(KeyScheme::Sr25519, "Alice");
    let bob = dev(KeyScheme::Sr25519, "Bob");
    let mut chain = Chain::new(&[(&alice, 10u128.pow(18))]);
    chain.start_block();
    let submit = |call: Vec<u8>| {
        RuntimeCall::Governance(governance::Call::Submit {
            title: b"change".to_vec(),
            description: Vec::new(),
            kind: governance::ProposalKind::ParameterChange { call },
            deposit: 10u128.pow(15),
        })
    };
    // An upgrade cannot ride on an important-level proposal, nor can
    // bytes that are no call at all.
    for call in [
        sys(system::Call::SetCode { code: vec![1] }).encode(),
        sys(system::Call::AuthorizeUpgrade {
            code_hash: H256([1; 32]),
        })
        .encode(),
        RuntimeCall::Sudo(sudo::Call::RemoveKey).encode(),
        vec![0xff, 0xff],
    ] {
        let before = chain.with(qstack_io::storage::root);
        assert_eq!(
            chain.with(|| submit(call).dispatch(system::Origin::Signed(alice.account_id()))),
            Err(governance::Error::NotAParameterChange.into())
        );
        assert_eq!(chain.with(qstack_io::storage::root), before);
    }
    // An accepted change (queued as a passed proposal queues it) is
    // dispatched as root when the next block starts.
    let split = tokens::FeeConfig {
        author_percent: 50,
        treasury: bob.account_id(),
    };
    let call = RuntimeCall::Tokens(tokens::Call::SetFeeSplit { config: split }).encode();
    assert!(crate::enact::parameter_call(&call).is_ok());
    chain.with(|| {
        governance::Enactments::insert(&7, &call);
        governance::EnactmentQueue::put(&vec![7]);
    });
    chain.finish();
    chain.start_block();
    assert_eq!(chain.with(tokens::FeeSplit::get), Some(split));
    chain.finish();
    assert!(chain
        .events()
        .contains(&RuntimeEvent::Governance(governance::Event::Enacted {
            id: 7,
            ok: true,
            error: None
        })));
}
