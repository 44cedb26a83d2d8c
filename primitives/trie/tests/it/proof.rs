//! Read proofs: generation, verification and rejection.

use codec::{Decode, Encode};
use proptest::prelude::*;
use qstack_trie::{empty_root, verify_read_proof, MemoryDB, ProofError, StorageProof, TrieBackend};

use crate::{
    backend::{key_strategy, map_strategy},
    build, h, sample_map,
};

fn backend(n: u32) -> (crate::Map, TrieBackend<MemoryDB>) {
    let map = sample_map(n);
    let (store, root) = build(&map);
    (map, TrieBackend::new(store, root))
}

#[test]
fn proofs_of_present_and_absent_keys_verify() {
    let (map, backend) = backend(500);
    let present: Vec<&[u8]> = map.keys().step_by(37).map(|k| k.as_slice()).collect();
    let absent: Vec<Vec<u8>> = (0u32..10)
        .map(|i| h(i.to_be_bytes()).to_vec())
        .chain([b"pre".to_vec(), b"".to_vec(), vec![0xff; 3]])
        .chain(map.keys().take(5).map(|k| [k.as_slice(), &[0]].concat()))
        .filter(|k| !map.contains_key(k))
        .collect();
    let mut keys = present.clone();
    keys.extend(absent.iter().map(|k| k.as_slice()));

    let proof = backend.read_proof(&keys).expect("prove");
    let mut sorted = proof.nodes.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(proof.nodes, sorted, "proof nodes are sorted and unique");

    let answers = verify_read_proof(backend.root(), &proof, &keys).expect("verifies");
    assert_eq!(answers.len(), keys.len());
    for (key, (proven_key, value)) in keys.iter().zip(&answers) {
        assert_eq!(proven_key.as_slice(), *key);
        assert_eq!(value.as_ref(), map.get(*key));
    }
    assert!(answers.iter().filter(|(_, v)| v.is_none()).count() >= absent.len());

    // The encoding round-trips and is Substrate's: a SCALE Vec of nodes.
    let encoded = proof.encode();
    assert_eq!(encoded, proof.nodes.encode());
    assert_eq!(
        StorageProof::decode(&mut &encoded[..]).expect("decode"),
        proof
    );
}

#[test]
fn empty_trie_proves_absence_with_an_empty_proof() {
    let backend = TrieBackend::new(MemoryDB::default(), empty_root());
    let proof = backend.read_proof(&[b"a", b""]).expect("prove");
    assert!(proof.is_empty());
    let answers = verify_read_proof(&empty_root(), &proof, &[b"a", b""]).expect("verifies");
    assert_eq!(answers, vec![(b"a".to_vec(), None), (Vec::new(), None)]);
}

#[test]
fn asking_for_no_keys_needs_no_nodes() {
    let (_, backend) = backend(10);
    let proof = backend.read_proof(&[]).expect("prove");
    assert!(proof.is_empty());
    assert_eq!(
        verify_read_proof(backend.root(), &proof, &[]),
        Ok(Vec::new())
    );
}

#[test]
fn proof_against_a_different_root_fails() {
    let (map, backend) = backend(200);
    let key = map.keys().next().expect("key").as_slice();
    let proof = backend.read_proof(&[key]).expect("prove");

    let mut other_map = map.clone();
    other_map.insert(b"other".to_vec(), b"state".to_vec());
    let (_, other_root) = build(&other_map);
    let err = verify_read_proof(&other_root, &proof, &[key]).expect_err("wrong root");
    assert_eq!(err, ProofError::RootNotInProof { root: other_root });
    // Nor does the empty root accept a non-empty key's value.
    assert_eq!(
        verify_read_proof(&empty_root(), &proof, &[key]).expect("empty")[0].1,
        None
    );
}

#[test]
fn proof_missing_a_node_fails_for_keys_that_need_it() {
    let (map, backend) = backend(500);
    let keys: Vec<&[u8]> = map.keys().step_by(50).map(|k| k.as_slice()).collect();
    let proof = backend.read_proof(&keys).expect("prove");
    let root_node = proof
        .nodes
        .iter()
        .position(|n| qstack_core::hashing::blake2_256(n) == *backend.root())
        .expect("root node in proof");

    let mut failures = 0;
    for removed in 0..proof.nodes.len() {
        let mut cut = proof.clone();
        let gone = cut.nodes.remove(removed);
        let gone_hash = qstack_core::hashing::blake2_256(&gone);
        for key in &keys {
            // Does this key's own proof use the removed node?
            let own = backend.read_proof(&[key]).expect("prove");
            let needed = own.nodes.contains(&gone);
            match verify_read_proof(backend.root(), &cut, &[key]) {
                Ok(answer) => {
                    assert!(!needed, "answered without a needed node");
                    assert_eq!(answer[0].1.as_ref(), map.get(*key));
                }
                Err(ProofError::RootNotInProof { .. }) => assert_eq!(removed, root_node),
                Err(ProofError::Incomplete { key: k, missing }) => {
                    assert!(needed);
                    assert_eq!(k.as_slice(), *key);
                    assert_eq!(missing, gone_hash);
                    failures += 1;
                }
                Err(other) => panic!("unexpected {other}"),
            }
        }
        // Verifying all keys at once fails as soon as one needs the node.
        assert!(verify_read_proof(backend.root(), &cut, &keys).is_err());
    }
    assert!(failures > 0);
}

#[test]
fn tampered_node_bytes_fail() {
    let (map, backend) = backend(300);
    let keys: Vec<&[u8]> = map.keys().step_by(30).map(|k| k.as_slice()).collect();
    let proof = backend.read_proof(&keys).expect("prove");
    for node in 0..proof.nodes.len() {
        for at in [0, proof.nodes[node].len() / 2, proof.nodes[node].len() - 1] {
            let mut tampered = proof.clone();
            tampered.nodes[node][at] ^= 0x01;
            assert!(
                verify_read_proof(backend.root(), &tampered, &keys).is_err(),
                "tampered byte {at} of node {node} accepted"
            );
        }
    }
}

#[test]
fn a_proof_for_one_key_does_not_answer_for_another() {
    let (map, backend) = backend(500);
    let mut keys = map.keys();
    let (a, b) = (keys.next().expect("a"), keys.last().expect("b"));
    let proof = backend.read_proof(&[a]).expect("prove");
    assert!(matches!(
        verify_read_proof(backend.root(), &proof, &[b]),
        Err(ProofError::Incomplete { .. })
    ));
}

#[test]
fn errors_display_what_failed() {
    let err = ProofError::Incomplete {
        key: vec![0xab],
        missing: [0x11; 32],
    };
    let text = err.to_string();
    assert!(
        text.contains("0xab") && text.contains(&"11".repeat(32)),
        "{text}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_present_and_absent_keys_verify(
        map in map_strategy(),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        others in prop::collection::vec(key_strategy(), 0..10),
    ) {
        let (store, root) = build(&map);
        let backend = TrieBackend::new(store, root);
        let mut keys: Vec<Vec<u8>> = others;
        if !map.is_empty() {
            let all: Vec<&Vec<u8>> = map.keys().collect();
            keys.extend(picks.iter().map(|i| (*i.get(&all)).clone()));
        }
        let keys: Vec<&[u8]> = keys.iter().map(|k| k.as_slice()).collect();
        let proof = backend.read_proof(&keys).expect("prove");
        let answers = verify_read_proof(&root, &proof, &keys).expect("verifies");
        for (key, value) in answers {
            prop_assert_eq!(value.as_ref(), map.get(&key));
        }
    }

    /// Garbage and mutated proofs never panic the verifier, and whatever it
    /// answers is the truth.
    #[test]
    fn verifier_survives_hostile_proofs(
        map in map_strategy(),
        key in key_strategy(),
        junk in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 0..5),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(), 1u8..), 0..3),
    ) {
        let (store, root) = build(&map);
        let backend = TrieBackend::new(store, root);
        let mut proof = backend.read_proof(&[&key]).expect("prove");
        for (node, at, mask) in flips {
            if proof.nodes.is_empty() { break; }
            let n = node.index(proof.nodes.len());
            if proof.nodes[n].is_empty() { continue; }
            let i = at.index(proof.nodes[n].len());
            proof.nodes[n][i] ^= mask;
        }
        proof.nodes.extend(junk);
        if let Ok(answers) = verify_read_proof(&root, &proof, &[&key]) {
            prop_assert_eq!(answers[0].1.as_ref(), map.get(&key));
        }
    }
}
