//! The node codec: golden encodings and hostile input.

use proptest::prelude::*;
use qstack_trie::{trie_root, NodeCodec, TrieBackend};
use trie_db::{
    node::{Node, NodeHandle},
    ChildReference, NodeCodec as _,
};

use crate::{backend::map_strategy, build};

/// The single node of a small trie, read out of its proof.
fn root_node(pairs: &[(&[u8], &[u8])]) -> Vec<u8> {
    let map = pairs
        .iter()
        .map(|(k, v)| (k.to_vec(), v.to_vec()))
        .collect();
    let (store, root) = build(&map);
    let backend = TrieBackend::new(store, root);
    let proof = backend.read_proof(&[pairs[0].0]).expect("prove");
    assert_eq!(proof.nodes.len(), 1, "children are inline");
    assert_eq!(
        qstack_core::hashing::blake2_256(&proof.nodes[0]),
        trie_root(pairs.iter().copied())
    );
    proof.nodes[0].clone()
}

/// Golden encodings derived by hand from the format (module docs of
/// `node_codec`), which is Substrate's V0 node format.
#[test]
fn golden_branch_encodings() {
    // Branch without value, partial key nibble 1 (padded to 0x01), children
    // at nibbles 2 and 3 (bitmap 0x000c little-endian), each an inline leaf
    // with no partial key: 0x40, Compact(1), value.
    assert_eq!(
        root_node(&[(&[0x12], &[0xaa]), (&[0x13], &[0xbb])]),
        [0x81, 0x01, 0x0c, 0x00, 0x0c, 0x40, 0x04, 0xaa, 0x0c, 0x40, 0x04, 0xbb]
    );
    // Branch with value at key 0x12 (partial 0x12), child at nibble 3: an
    // inline leaf of partial nibble 4, value 0xbb.
    assert_eq!(
        root_node(&[(&[0x12], &[0xaa]), (&[0x12, 0x34], &[0xbb])]),
        [0xc2, 0x12, 0x08, 0x00, 0x04, 0xaa, 0x10, 0x41, 0x04, 0x04, 0xbb]
    );
    // An empty value is stored as a value of length 0, not as absence.
    assert_eq!(root_node(&[(&[0x12], &[])]), [0x42, 0x12, 0x00]);
}

/// Re-encodes a decoded node with the codec's own encoder.
fn re_encode(node: Node<'_>) -> Option<Vec<u8>> {
    Some(match node {
        Node::Empty => NodeCodec::empty_node().to_vec(),
        Node::Leaf(partial, value) => {
            NodeCodec::leaf_node(partial.right_iter(), partial.len(), value)
        }
        Node::NibbledBranch(partial, children, value) => {
            let children = children.map(|child| {
                child.map(|child| match child {
                    NodeHandle::Hash(h) => ChildReference::Hash(h.try_into().expect("32 bytes")),
                    NodeHandle::Inline(d) => {
                        let mut buf = [0u8; 32];
                        buf[..d.len()].copy_from_slice(d);
                        ChildReference::Inline(buf, d.len())
                    }
                })
            });
            NodeCodec::branch_node_nibbled(
                partial.right_iter(),
                partial.len(),
                children.iter(),
                value,
            )
        }
        Node::Extension(..) | Node::Branch(..) => return None,
    })
}

/// Whatever decodes is canonical: it re-encodes to the same bytes.
fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(node) = NodeCodec::decode(bytes) {
        let again = re_encode(node);
        prop_assert_eq!(
            again.as_deref(),
            Some(bytes),
            "accepted a non-canonical node"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        check(&bytes)?;
    }

    /// Bytes that start like a node, to get past the header more often.
    #[test]
    fn decoding_node_like_bytes_never_panics(
        header in prop_oneof![Just(0x40u8), Just(0x80), Just(0xc0)],
        count in 0u8..64,
        body in prop::collection::vec(prop_oneof![Just(0u8), Just(4), Just(0x0c), Just(0x80), any::<u8>()], 0..120),
    ) {
        let mut bytes = vec![header | count];
        bytes.extend(body);
        check(&bytes)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Mutations of real nodes: flipped, dropped and inserted bytes.
    #[test]
    fn decoding_mutated_nodes_never_panics(
        map in map_strategy(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let (mut store, _) = build(&map);
        for (_, (node, rc)) in store.drain() {
            if rc <= 0 { continue; }
            check(&node)?;
            let mut bytes = node.clone();
            for (at, byte, op) in &edits {
                if bytes.is_empty() { break; }
                let i = at.index(bytes.len());
                match op {
                    0 => bytes[i] ^= byte.max(&1),
                    1 => { bytes.remove(i); }
                    _ => bytes.insert(i, *byte),
                }
            }
            check(&bytes)?;
        }
    }
}
