//! The trie node format (Substrate's V0 node format, without hashed values).
//!
//! A node is a header, then its partial key, then its body:
//!
//! ```text
//! header   first byte: 2-bit kind | 6-bit partial-key nibble count
//!            0b00_000000           empty trie (the whole node is this byte)
//!            0b01_nnnnnn           leaf
//!            0b10_nnnnnn           branch without value
//!            0b11_nnnnnn           branch with value
//!          a count of 63 or more is written as 63 followed by (count - 63) in
//!          base 255: bytes of 255 while the rest is >= 255, then the rest
//! partial  ceil(count / 2) bytes; an odd count left-pads the first byte with
//!          a zero nibble
//! leaf     Compact<u32> value length, value bytes
//! branch   u16 little-endian bitmap (bit i: child at nibble i), then the value
//!          as for a leaf if the kind has one, then each present child in
//!          nibble order as Compact<u32> length + bytes: a 32-byte hash, or the
//!          child node itself when its encoding is shorter than 32 bytes
//! ```
//!
//! Decoding sees bytes from untrusted peers (proofs), so it never panics and it
//! accepts exactly the encodings this module produces: every other byte string
//! (trailing bytes, non-zero padding, a branch with no children or a lone child
//! and no value, an inline child of 32 bytes or more, the hashed-value headers
//! of Substrate's V1 layout, non-canonical compact lengths) is an error.

use alloc::vec::Vec;
use core::{borrow::Borrow, fmt, ops::Range};

use codec::{Compact, Decode, Encode, Input};
use trie_db::{
    nibble_ops,
    node::{NibbleSlicePlan, NodeHandlePlan, NodePlan, Value, ValuePlan},
    ChildReference,
};

use crate::{EMPTY_NODE, EMPTY_ROOT};

const EMPTY_TRIE: u8 = 0b0000_0000;
const KIND_MASK: u8 = 0b1100_0000;
const LEAF: u8 = 0b0100_0000;
const BRANCH_WITHOUT_VALUE: u8 = 0b1000_0000;
const BRANCH_WITH_VALUE: u8 = 0b1100_0000;
/// Largest nibble count the first header byte holds; it also flags that the
/// count continues in the following bytes.
const COUNT_IN_HEADER: u8 = 0b0011_1111;
const COUNT_CONTINUES: u8 = 255;
const BITMAP_LEN: usize = 2;
const HASH_LEN: usize = 32;

/// The qstack trie node codec (see the module documentation for the format).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeCodec;

/// Why bytes are not a valid trie node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeDecodeError {
    /// The bytes end inside the node.
    UnexpectedEnd,
    /// The first byte is not a header this layout writes.
    InvalidHeader(u8),
    /// The partial-key nibble count does not fit in a `usize`.
    NibbleCountOverflow,
    /// An odd-length partial key has a non-zero padding nibble.
    InvalidPadding,
    /// A length prefix is not a canonical `Compact<u32>`.
    InvalidLength,
    /// A branch has an empty child bitmap.
    NoChildren,
    /// A branch without a value has a single child (it must have been merged
    /// into that child).
    LoneChildWithoutValue,
    /// A child reference is neither a 32-byte hash nor a valid inline node
    /// shorter than 32 bytes.
    InvalidChild {
        /// The nibble the child sits at.
        nibble: u8,
        /// The length of the child reference.
        len: usize,
    },
    /// Bytes remain after the node.
    TrailingBytes {
        /// How many.
        count: usize,
    },
}

impl fmt::Display for NodeDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnexpectedEnd => f.write_str("node bytes end unexpectedly"),
            Self::InvalidHeader(byte) => write!(f, "invalid node header byte {byte:#04x}"),
            Self::NibbleCountOverflow => f.write_str("partial key length overflows"),
            Self::InvalidPadding => f.write_str("non-zero padding nibble in partial key"),
            Self::InvalidLength => f.write_str("invalid compact length prefix"),
            Self::NoChildren => f.write_str("branch node without children"),
            Self::LoneChildWithoutValue => {
                f.write_str("branch node with one child and no value (non-canonical)")
            }
            Self::InvalidChild { nibble, len } => {
                write!(
                    f,
                    "invalid child reference of {len} bytes at nibble {nibble:#x}"
                )
            }
            Self::TrailingBytes { count } => write!(f, "{count} trailing bytes after node"),
        }
    }
}

impl core::error::Error for NodeDecodeError {}

impl trie_db::NodeCodec for NodeCodec {
    // Only used by compact proofs with hashed values, which this layout has not.
    const ESCAPE_HEADER: Option<u8> = None;
    type Error = NodeDecodeError;
    type HashOut = [u8; 32];

    fn hashed_null_node() -> [u8; 32] {
        EMPTY_ROOT
    }

    fn decode_plan(data: &[u8]) -> Result<NodePlan, NodeDecodeError> {
        decode_plan(data)
    }

    fn is_empty_node(data: &[u8]) -> bool {
        data == EMPTY_NODE
    }

    fn empty_node() -> &'static [u8] {
        &EMPTY_NODE
    }

    fn leaf_node(partial: impl Iterator<Item = u8>, number_nibble: usize, value: Value) -> Vec<u8> {
        // `Layout::MAX_INLINE_VALUE` is `None`, so trie-db only hands inline
        // values. Should that change without a new header kind, the empty
        // encoding below fails to decode rather than commit to a wrong root.
        let Value::Inline(value) = value else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(4 + number_nibble / 2 + 5 + value.len());
        encode_header(&mut out, LEAF, number_nibble);
        out.extend(partial);
        encode_with_length(&mut out, value);
        out
    }

    fn extension_node(
        _partial: impl Iterator<Item = u8>,
        _number_nibble: usize,
        _child: ChildReference<[u8; 32]>,
    ) -> Vec<u8> {
        // `Layout::USE_EXTENSION` is false: trie-db never asks for one. An empty
        // encoding fails to decode rather than commit to a wrong root.
        Vec::new()
    }

    fn branch_node(
        children: impl Iterator<Item = impl Borrow<Option<ChildReference<[u8; 32]>>>>,
        value: Option<Value>,
    ) -> Vec<u8> {
        // Extension layouts only; without extensions this is a branch with an
        // empty partial key.
        Self::branch_node_nibbled(core::iter::empty(), 0, children, value)
    }

    fn branch_node_nibbled(
        partial: impl Iterator<Item = u8>,
        number_nibble: usize,
        children: impl Iterator<Item = impl Borrow<Option<ChildReference<[u8; 32]>>>>,
        value: Option<Value>,
    ) -> Vec<u8> {
        let kind = if value.is_some() {
            BRANCH_WITH_VALUE
        } else {
            BRANCH_WITHOUT_VALUE
        };
        let mut out = Vec::with_capacity(4 + number_nibble / 2 + BITMAP_LEN + 16 * 33);
        encode_header(&mut out, kind, number_nibble);
        out.extend(partial);
        let bitmap_at = out.len();
        out.extend_from_slice(&[0; BITMAP_LEN]);
        match value {
            Some(Value::Inline(value)) => encode_with_length(&mut out, value),
            // See `leaf_node`.
            Some(Value::Node(_)) => return Vec::new(),
            None => {}
        }
        let mut bitmap: u16 = 0;
        for (nibble, child) in children.take(nibble_ops::NIBBLE_LENGTH).enumerate() {
            let reference = match child.borrow() {
                Some(ChildReference::Hash(hash)) => hash.as_slice(),
                // trie-db inlines only encodings shorter than a hash, so `len`
                // is always within the buffer.
                Some(ChildReference::Inline(data, len)) => {
                    data.get(..*len).unwrap_or(data.as_slice())
                }
                None => continue,
            };
            bitmap |= 1 << nibble;
            encode_with_length(&mut out, reference);
        }
        if let Some(slot) = out.get_mut(bitmap_at..bitmap_at + BITMAP_LEN) {
            slot.copy_from_slice(&bitmap.to_le_bytes());
        }
        out
    }
}

/// Writes the kind bits and the partial-key nibble count.
fn encode_header(out: &mut Vec<u8>, kind: u8, nibble_count: usize) {
    let in_header = usize::from(COUNT_IN_HEADER);
    if nibble_count < in_header {
        // < 63: fits the six count bits.
        out.push(kind | nibble_count as u8);
        return;
    }
    out.push(kind | COUNT_IN_HEADER);
    let mut rest = nibble_count - in_header;
    let continues = usize::from(COUNT_CONTINUES);
    while rest >= continues {
        out.push(COUNT_CONTINUES);
        rest -= continues;
    }
    // < 255 after the loop.
    out.push(rest as u8);
}

/// Writes `Compact<u32>(bytes.len())` then `bytes`. Lengths past `u32::MAX`
/// cannot occur: nothing that large passes the host boundary.
fn encode_with_length(out: &mut Vec<u8>, bytes: &[u8]) {
    Compact(bytes.len() as u32).encode_to(out);
    out.extend_from_slice(bytes);
}

/// Reads a node; see the module documentation for what it rejects.
fn decode_plan(data: &[u8]) -> Result<NodePlan, NodeDecodeError> {
    let mut input = Cursor { data, pos: 0 };
    let first = input.byte()?;
    let has_value = match first & KIND_MASK {
        LEAF => None,
        BRANCH_WITHOUT_VALUE => Some(false),
        BRANCH_WITH_VALUE => Some(true),
        _ if first == EMPTY_TRIE => {
            input.finish()?;
            return Ok(NodePlan::Empty);
        }
        _ => return Err(NodeDecodeError::InvalidHeader(first)),
    };
    let nibble_count = decode_nibble_count(first, &mut input)?;
    let padding = nibble_count % nibble_ops::NIBBLE_PER_BYTE;
    let partial = input.take(nibble_count.div_ceil(nibble_ops::NIBBLE_PER_BYTE))?;
    if padding != 0 {
        let first_partial = data.get(partial.start).copied().unwrap_or_default();
        if nibble_ops::pad_left(first_partial) != 0 {
            return Err(NodeDecodeError::InvalidPadding);
        }
    }
    let partial = NibbleSlicePlan::new(partial, padding);

    let Some(has_value) = has_value else {
        let value = ValuePlan::Inline(input.take_with_length()?);
        input.finish()?;
        return Ok(NodePlan::Leaf { partial, value });
    };

    let bitmap = input.take(BITMAP_LEN)?;
    let bitmap = match data.get(bitmap) {
        Some(&[low, high]) => u16::from_le_bytes([low, high]),
        _ => return Err(NodeDecodeError::UnexpectedEnd),
    };
    if bitmap == 0 {
        return Err(NodeDecodeError::NoChildren);
    }
    if !has_value && bitmap.count_ones() == 1 {
        return Err(NodeDecodeError::LoneChildWithoutValue);
    }
    let value = if has_value {
        Some(ValuePlan::Inline(input.take_with_length()?))
    } else {
        None
    };
    let mut children: [Option<NodeHandlePlan>; nibble_ops::NIBBLE_LENGTH] = Default::default();
    for (nibble, slot) in (0u8..).zip(children.iter_mut()) {
        if bitmap & (1 << nibble) == 0 {
            continue;
        }
        let range = input.take_with_length()?;
        let len = range.len();
        *slot = Some(if len == HASH_LEN {
            NodeHandlePlan::Hash(range)
        } else if is_valid_inline_child(data.get(range.clone())) {
            NodeHandlePlan::Inline(range)
        } else {
            return Err(NodeDecodeError::InvalidChild { nibble, len });
        });
    }
    input.finish()?;
    Ok(NodePlan::NibbledBranch {
        partial,
        value,
        children,
    })
}

/// An inline child is a whole non-empty node shorter than a hash. Recursion
/// is bounded: each level is strictly shorter than its parent.
fn is_valid_inline_child(child: Option<&[u8]>) -> bool {
    match child {
        Some(child) if child.len() < HASH_LEN && child != EMPTY_NODE => decode_plan(child).is_ok(),
        _ => false,
    }
}

/// The nibble count whose first six bits are in `first`.
fn decode_nibble_count(first: u8, input: &mut Cursor<'_>) -> Result<usize, NodeDecodeError> {
    let in_header = first & COUNT_IN_HEADER;
    let mut count = usize::from(in_header);
    if in_header < COUNT_IN_HEADER {
        return Ok(count);
    }
    loop {
        let next = input.byte()?;
        count = count
            .checked_add(usize::from(next))
            .ok_or(NodeDecodeError::NibbleCountOverflow)?;
        if next < COUNT_CONTINUES {
            return Ok(count);
        }
    }
}

/// A position in node bytes that hands out checked ranges.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn byte(&mut self) -> Result<u8, NodeDecodeError> {
        let byte = self
            .data
            .get(self.pos)
            .copied()
            .ok_or(NodeDecodeError::UnexpectedEnd)?;
        self.pos += 1;
        Ok(byte)
    }

    fn take(&mut self, len: usize) -> Result<Range<usize>, NodeDecodeError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|end| *end <= self.data.len())
            .ok_or(NodeDecodeError::UnexpectedEnd)?;
        let range = self.pos..end;
        self.pos = end;
        Ok(range)
    }

    /// A `Compact<u32>` length, then that many bytes.
    fn take_with_length(&mut self) -> Result<Range<usize>, NodeDecodeError> {
        let len = Compact::<u32>::decode(self)
            .map_err(|_| NodeDecodeError::InvalidLength)?
            .0;
        let len = usize::try_from(len).map_err(|_| NodeDecodeError::UnexpectedEnd)?;
        self.take(len)
    }

    fn finish(&self) -> Result<(), NodeDecodeError> {
        match self.data.len().saturating_sub(self.pos) {
            0 => Ok(()),
            count => Err(NodeDecodeError::TrailingBytes { count }),
        }
    }
}

impl Input for Cursor<'_> {
    fn remaining_len(&mut self) -> Result<Option<usize>, codec::Error> {
        Ok(Some(self.data.len().saturating_sub(self.pos)))
    }

    fn read(&mut self, into: &mut [u8]) -> Result<(), codec::Error> {
        let range = self
            .take(into.len())
            .map_err(|_| codec::Error::from("unexpected end"))?;
        let bytes = self
            .data
            .get(range)
            .ok_or_else(|| codec::Error::from("unexpected end"))?;
        into.copy_from_slice(bytes);
        Ok(())
    }

    fn read_byte(&mut self) -> Result<u8, codec::Error> {
        self.byte()
            .map_err(|_| codec::Error::from("unexpected end"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trie_db::NodeCodec as _;

    fn leaf(nibbles: &[u8], value: &[u8]) -> Vec<u8> {
        let packed = pack(nibbles);
        NodeCodec::leaf_node(packed.into_iter(), nibbles.len(), Value::Inline(value))
    }

    /// Packs nibbles right-aligned, as trie-db hands partial keys to the codec.
    fn pack(nibbles: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = nibbles;
        if nibbles.len() % 2 == 1 {
            out.push(nibbles[0]);
            rest = &nibbles[1..];
        }
        for pair in rest.chunks(2) {
            out.push(pair[0] << 4 | pair[1]);
        }
        out
    }

    #[test]
    fn header_nibble_count_round_trips_at_every_boundary() {
        for count in [
            0, 1, 2, 61, 62, 63, 64, 316, 317, 318, 319, 572, 573, 1000, 65535, 70000,
        ] {
            let nibbles: Vec<u8> = (0..count).map(|i| (i % 15 + 1) as u8).collect();
            let node = leaf(&nibbles, b"v");
            let plan = NodeCodec::decode_plan(&node).expect("decodes");
            match plan {
                NodePlan::Leaf { partial, .. } => assert_eq!(partial.len(), count),
                other => panic!("not a leaf: {other:?}"),
            }
        }
    }

    #[test]
    fn header_bytes_match_substrate_encoding() {
        // Substrate's `size_and_prefix_iterator` for a leaf.
        let header = |count: usize| {
            let mut out = Vec::new();
            encode_header(&mut out, LEAF, count);
            out
        };
        assert_eq!(header(0), [0x40]);
        assert_eq!(header(62), [0x7e]);
        assert_eq!(header(63), [0x7f, 0x00]);
        assert_eq!(header(88), [0x7f, 0x19]);
        assert_eq!(header(317), [0x7f, 0xfe]);
        assert_eq!(header(318), [0x7f, 0xff, 0x00]);
    }

    #[test]
    fn rejects_non_canonical_and_foreign_encodings() {
        use NodeDecodeError::*;
        let decode = |bytes: &[u8]| NodeCodec::decode_plan(bytes).err();
        assert_eq!(decode(&[]), Some(UnexpectedEnd));
        assert_eq!(decode(&[0x00, 0x00]), Some(TrailingBytes { count: 1 }));
        // V1 hashed-value leaf and branch, and the compact-proof escape byte.
        assert_eq!(decode(&[0x20]), Some(InvalidHeader(0x20)));
        assert_eq!(decode(&[0x10]), Some(InvalidHeader(0x10)));
        assert_eq!(decode(&[0x01]), Some(InvalidHeader(0x01)));
        // Leaf, one nibble with a non-zero padding nibble.
        assert_eq!(decode(&[0x41, 0x11, 0x00]), Some(InvalidPadding));
        assert!(decode(&[0x41, 0x01, 0x00]).is_none());
        // Leaf with trailing byte.
        assert_eq!(
            decode(&[0x40, 0x00, 0x00]),
            Some(TrailingBytes { count: 1 })
        );
        // Non-canonical compact length (1 written in two-byte mode).
        assert_eq!(decode(&[0x40, 0x05, 0x00, 0xaa]), Some(InvalidLength));
        // Branches: no child; a single child and no value.
        assert_eq!(decode(&[0x80, 0x00, 0x00]), Some(NoChildren));
        let lone = [0x80, 0x01, 0x00, 0x0c, 0x40, 0x04, 0xaa];
        assert_eq!(decode(&lone), Some(LoneChildWithoutValue));
        // With a value, a single child is fine.
        assert!(decode(&[0xc0, 0x01, 0x00, 0x00, 0x0c, 0x40, 0x04, 0xaa]).is_none());
        // Inline child that is the empty node, or that does not decode.
        let bad = [0xc0, 0x01, 0x00, 0x00, 0x04, 0x00];
        assert_eq!(decode(&bad), Some(InvalidChild { nibble: 0, len: 1 }));
        let bad = [0xc0, 0x02, 0x00, 0x00, 0x04, 0x20];
        assert_eq!(decode(&bad), Some(InvalidChild { nibble: 1, len: 1 }));
        // Child references of 33 bytes (too long to be inline) or 0 bytes.
        let mut long = vec![0xc0, 0x01, 0x00, 0x00, 33 << 2];
        long.extend(leaf(&[1; 62], b""));
        assert_eq!(long.len(), 5 + 33);
        assert_eq!(decode(&long), Some(InvalidChild { nibble: 0, len: 33 }));
        assert_eq!(
            decode(&[0xc0, 0x01, 0x00, 0x00, 0x00]),
            Some(InvalidChild { nibble: 0, len: 0 })
        );
        // A huge nibble count runs out of bytes instead of allocating.
        let mut huge = vec![0x7f];
        huge.extend([0xff; 64]);
        huge.push(0);
        assert_eq!(decode(&huge), Some(UnexpectedEnd));
    }

    #[test]
    fn every_node_trie_db_writes_decodes_and_re_encodes_identically() {
        use trie_db::{node::Node, TrieDBMutBuilder, TrieMut};
        let mut db = crate::MemoryDB::default();
        let mut root = Default::default();
        {
            let mut trie = TrieDBMutBuilder::<crate::Layout>::new(&mut db, &mut root).build();
            for i in 0u32..600 {
                let key = qstack_core::hashing::blake2_256(&i.to_le_bytes());
                let (key_len, value_len) = ((i % 33) as usize, (i * 7 % 33) as usize);
                trie.insert(&key[..key_len], &key[..value_len])
                    .expect("insert");
            }
        }
        let mut checked = 0;
        for (_, (node, rc)) in db.drain() {
            if rc <= 0 {
                continue;
            }
            checked += 1;
            let decoded = NodeCodec::decode(&node).expect("own node decodes");
            let re_encoded = match decoded {
                Node::Leaf(partial, value) => {
                    NodeCodec::leaf_node(partial.right_iter(), partial.len(), value)
                }
                Node::NibbledBranch(partial, children, value) => {
                    let children = children.map(|child| {
                        child.map(|child| match child {
                            trie_db::node::NodeHandle::Hash(h) => {
                                ChildReference::Hash(h.try_into().expect("32 bytes"))
                            }
                            trie_db::node::NodeHandle::Inline(d) => {
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
                other => panic!("unexpected node {other:?}"),
            };
            assert_eq!(re_encoded, node);
        }
        assert!(checked > 100);
    }
}
