//! Pure-Rust hash functions. The runtime reaches them through `qstack-io`
//! (natively or via host calls); the node uses them directly.

use blake2::digest::{Update, VariableOutput};
use core::hash::Hasher;

/// blake2b with a 256-bit output.
pub fn blake2_256(data: &[u8]) -> [u8; 32] {
    blake2_var::<32>(data)
}

/// blake2b with a 128-bit output.
pub fn blake2_128(data: &[u8]) -> [u8; 16] {
    blake2_var::<16>(data)
}

/// blake2b with a 64-bit output (used for runtime API ids).
pub fn blake2_64(data: &[u8]) -> [u8; 8] {
    blake2_var::<8>(data)
}

fn blake2_var<const N: usize>(data: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    // N is 8, 16 or 32: always a valid blake2b output length, so neither call fails.
    if let Ok(mut h) = blake2::Blake2bVar::new(N) {
        h.update(data);
        let _ = h.finalize_variable(&mut out);
    }
    out
}

/// xxHash64 concatenated for 128 bits (Substrate's `twox_128`, for storage prefixes).
pub fn twox_128(data: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    let (a, b) = out.split_at_mut(8);
    a.copy_from_slice(&twox64_seed(data, 0).to_le_bytes());
    b.copy_from_slice(&twox64_seed(data, 1).to_le_bytes());
    out
}

/// xxHash64 with seed 0 (Substrate's `twox_64`).
pub fn twox_64(data: &[u8]) -> [u8; 8] {
    twox64_seed(data, 0).to_le_bytes()
}

fn twox64_seed(data: &[u8], seed: u64) -> u64 {
    let mut h = twox_hash::XxHash64::with_seed(seed);
    h.write(data);
    h.finish()
}

/// SHA3-256.
pub fn sha3_256(data: &[u8]) -> [u8; 32] {
    use sha3::Digest;
    let mut h = sha3::Sha3_256::new();
    Digest::update(&mut h, data);
    h.finalize().into()
}

/// SHAKE256 squeezed into `out` (any length).
pub fn shake256(data: &[u8], out: &mut [u8]) {
    use sha3::digest::{ExtendableOutput, XofReader};
    let mut h = sha3::Shake256::default();
    sha3::digest::Update::update(&mut h, data);
    h.finalize_xof().read(out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors() {
        // Substrate's well-known prefix for `System` (twox_128("System")).
        assert_eq!(
            hex::encode(twox_128(b"System")),
            "26aa394eea5630e07c48ae0c9558cef7"
        );
        // blake2b-256 of the empty string.
        assert_eq!(
            hex::encode(blake2_256(b"")),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
        );
        assert_eq!(
            hex::encode(sha3_256(b"")),
            "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a"
        );
        let mut out = [0u8; 4];
        shake256(b"", &mut out);
        assert_eq!(hex::encode(out), "46b9dd2b");
    }
}
