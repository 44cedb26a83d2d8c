//! The trie's node hasher.

use qstack_core::hashing::blake2_256;

/// blake2b-256 as a `hash_db::Hasher`: hashes trie nodes into their 32-byte
/// references, and so yields every state root.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Blake2Hasher;

impl hash_db::Hasher for Blake2Hasher {
    type Out = [u8; 32];
    type StdHasher = Hash256StdHasher;
    const LENGTH: usize = 32;

    fn hash(x: &[u8]) -> Self::Out {
        blake2_256(x)
    }
}

/// A `core::hash::Hasher` for maps keyed by node hashes. Those keys are
/// already uniformly distributed, so folding their bytes in is enough; it is
/// not meant for attacker-chosen keys that are not hashes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hash256StdHasher {
    state: u64,
}

impl core::hash::Hasher for Hash256StdHasher {
    fn finish(&self) -> u64 {
        self.state
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.state = self.state.rotate_left(8) ^ u64::from(byte);
        }
    }
}
