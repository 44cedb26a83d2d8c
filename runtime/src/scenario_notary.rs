//! The example pallet of `docs/add-a-pallet.md`, through the composed
//! runtime: its call in a signed transaction, its event in `System.Events`,
//! its constant and storage in metadata, its runtime API by name, and its
//! genesis section.

use crate::scenario_tests::{dev, Chain};
use crate::signing::{sign, TxOptions};
use crate::{apis, RuntimeCall, RuntimeEvent};
use codec::{Decode, Encode};
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use pallet_notary::{Call, Event, Note};
use qstack_core::{Address, KeyScheme, H256};

#[test]
fn a_document_is_notarised_through_the_runtime() {
    let alice = dev(KeyScheme::Hybrid, "Alice");
    let seeded = H256([0x5e; 32]);
    let json = format!(
        r#"{{"balances":{{"balances":[["{a}", "1000000000000000"]]}},
            "notary":{{"notes":[["0x{h}","{a}"]]}}}}"#,
        a = Address::from(alice.account_id()),
        h = "5e".repeat(32),
    );
    let mut chain = Chain::from_genesis_json(&json);
    let hash = H256([0xd0; 32]);
    chain.start_block();
    let xt = sign(
        &alice,
        RuntimeCall::Notary(Call::Notarise { hash }),
        &chain.ctx(),
        &TxOptions::nonce(0),
    );
    assert_eq!(chain.apply(&xt), Ok(Ok(())));
    // The same hash again is included (fee paid) but refused by the pallet.
    let again = sign(
        &alice,
        RuntimeCall::Notary(Call::Notarise { hash }),
        &chain.ctx(),
        &TxOptions::nonce(1),
    );
    assert_eq!(
        chain.apply(&again),
        Ok(Err(pallet_notary::Error::AlreadyNotarised.into()))
    );
    chain.finish();
    assert!(chain
        .events()
        .contains(&RuntimeEvent::Notary(Event::Notarised {
            owner: alice.account_id(),
            hash
        })));

    // The runtime API, as `state_call("NotaryApi_note", hash)` runs it.
    let mut answer = |h: H256| {
        let out = chain_call(&mut chain, "NotaryApi_note", &h.encode());
        Option::<Note>::decode(&mut &out[..]).expect("answer decodes")
    };
    assert_eq!(
        answer(hash),
        Some(Note {
            owner: alice.account_id(),
            block: 1
        })
    );
    assert_eq!(
        answer(seeded),
        Some(Note {
            owner: alice.account_id(),
            block: 0
        }),
        "from genesis"
    );
    assert_eq!(answer(H256([1; 32])), None);

    // Metadata: the pallet at its index, with its call, event, storage and
    // constant; the API described for clients.
    let out = chain_call(&mut chain, "Metadata_metadata_at_version", &15u32.encode());
    let bytes = Option::<Vec<u8>>::decode(&mut &out[..]).unwrap().unwrap();
    let RuntimeMetadataPrefixed(_, RuntimeMetadata::V15(m)) =
        RuntimeMetadataPrefixed::decode(&mut &bytes[..]).unwrap()
    else {
        panic!("not V15")
    };
    let p = m
        .pallets
        .iter()
        .find(|p| p.name == "Notary")
        .expect("Notary");
    assert_eq!(p.index, pallet_notary::PALLET_INDEX);
    assert!(p.calls.is_some() && p.event.is_some() && p.error.is_some());
    let items: Vec<_> = p
        .storage
        .as_ref()
        .unwrap()
        .entries
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(items, ["Notes", "NoteCount"]);
    assert_eq!(p.constants[0].name, "MaxNotesPerAccount");
    assert_eq!(
        p.constants[0].value,
        pallet_notary::MAX_NOTES_PER_ACCOUNT.encode()
    );
    let api = m
        .apis
        .iter()
        .find(|a| a.name == "NotaryApi")
        .expect("NotaryApi");
    assert_eq!(api.methods[0].name, "note");
}

fn chain_call(chain: &mut Chain, method: &str, input: &[u8]) -> Vec<u8> {
    chain
        .with(|| apis::dispatch(method, input))
        .expect("runtime API answers")
}
