//! Runtime APIs declared once ([`runtime_apis!`](crate::runtime_apis!)):
//! what the declaration needs at run time — argument decoding, the
//! descriptions for V15 metadata, the API ids as constants, and the trait a
//! native caller implements.

use alloc::string::String;
use alloc::vec::Vec;
use codec::{Decode, DecodeAll, Encode, Input};
use scale_info::MetaType;

/// Why an entry point could not run.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ApiError {
    /// No such method.
    UnknownMethod,
    /// The input bytes do not decode as the method's arguments.
    BadInput,
}

/// Decodes a method's arguments: all of `input`, nothing left over.
pub fn decode_args<T: Decode>(input: &[u8]) -> Result<T, ApiError> {
    T::decode_all(&mut &input[..]).map_err(|_| ApiError::BadInput)
}

/// An argument that is the rest of the input as it is (an extrinsic that is
/// already its own SCALE encoding). It must be the last argument.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub struct RawBytes(pub Vec<u8>);

impl Encode for RawBytes {
    fn size_hint(&self) -> usize {
        self.0.len()
    }
    fn encode_to<T: codec::Output + ?Sized>(&self, dest: &mut T) {
        dest.write(&self.0)
    }
}

impl Decode for RawBytes {
    fn decode<I: Input>(input: &mut I) -> Result<Self, codec::Error> {
        let len = input
            .remaining_len()?
            .ok_or("raw input of unknown length")?;
        let mut out = alloc::vec![0u8; len];
        input.read(&mut out)?;
        Ok(RawBytes(out))
    }
}

/// One runtime API for V15 metadata.
#[derive(Clone, Debug)]
pub struct ApiMeta {
    /// Name (`"QstackTokensApi"`).
    pub name: &'static str,
    /// Documentation.
    pub docs: &'static str,
    /// Methods described for clients.
    pub methods: Vec<ApiMethodMeta>,
}

/// One runtime API method for V15 metadata.
#[derive(Clone, Debug)]
pub struct ApiMethodMeta {
    /// Name (`"token_info"`).
    pub name: &'static str,
    /// `(name, type)` of each argument.
    pub inputs: Vec<(&'static str, MetaType)>,
    /// The answer's type.
    pub output: MetaType,
    /// Documentation.
    pub docs: &'static str,
}

/// What a native caller of the runtime provides (the node's RPC, a test):
/// run `method` on SCALE `args` at a block it chose, return SCALE output.
/// [`runtime_apis!`](crate::runtime_apis!) generates typed methods over it.
pub trait RuntimeCaller {
    /// The caller's error; it must be able to say "the answer did not decode".
    type Error: From<OutputError>;
    /// Runs `method` (`<Api>_<method>`) on `args`.
    fn call_runtime(&self, method: &str, args: &[u8]) -> Result<Vec<u8>, Self::Error>;
}

/// The runtime's answer does not decode as the declared type.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct OutputError {
    /// The method.
    pub method: &'static str,
    /// The decoder's message.
    pub message: String,
}

impl core::fmt::Display for OutputError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "the runtime's answer to {} does not decode: {}",
            self.method, self.message
        )
    }
}

/// Decodes the whole answer of `method`.
pub fn decode_output<T: Decode>(method: &'static str, out: &[u8]) -> Result<T, OutputError> {
    T::decode_all(&mut &out[..]).map_err(|e| OutputError {
        method,
        message: alloc::string::ToString::to_string(&e),
    })
}

const IV: [u64; 8] = [
    0x6a09e667f3bcc908,
    0xbb67ae8584caa73b,
    0x3c6ef372fe94f82b,
    0xa54ff53a5f1d36f1,
    0x510e527fade682d1,
    0x9b05688c2b3e6c1f,
    0x1f83d9abfb41bd6b,
    0x5be0cd19137e2179,
];

const SIGMA: [[usize; 16]; 12] = [
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
    [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
    [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
    [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
    [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
    [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
    [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
    [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
    [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
];

// Compile-time only (const evaluation): an index out of bounds is a compile
// error, never a runtime panic; the additions are blake2's own (wrapping).
#[allow(
    clippy::indexing_slicing,
    clippy::many_single_char_names,
    clippy::arithmetic_side_effects
)]
const fn g(v: &mut [u64; 16], a: usize, b: usize, c: usize, d: usize, x: u64, y: u64) {
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(x);
    v[d] = (v[d] ^ v[a]).rotate_right(32);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(24);
    v[a] = v[a].wrapping_add(v[b]).wrapping_add(y);
    v[d] = (v[d] ^ v[a]).rotate_right(16);
    v[c] = v[c].wrapping_add(v[d]);
    v[b] = (v[b] ^ v[c]).rotate_right(63);
}

// Index arithmetic on fixed 16-word blocks (i < 16, j < 8, k < 8).
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
// The counter's low and high words are taken apart on purpose (RFC 7693).
#[allow(clippy::cast_possible_truncation)]
const fn compress(h: &mut [u64; 8], block: &[u8; 128], counter: u128, last: bool) {
    let mut m = [0u64; 16];
    let mut i = 0;
    while i < 16 {
        let mut w = 0u64;
        let mut j = 0;
        while j < 8 {
            w |= (block[i * 8 + j] as u64) << (8 * j);
            j += 1;
        }
        m[i] = w;
        i += 1;
    }
    let mut v = [0u64; 16];
    let mut k = 0;
    while k < 8 {
        v[k] = h[k];
        v[k + 8] = IV[k];
        k += 1;
    }
    v[12] ^= counter as u64;
    v[13] ^= (counter >> 64) as u64;
    if last {
        v[14] = !v[14];
    }
    let mut r = 0;
    while r < 12 {
        let s = &SIGMA[r];
        g(&mut v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
        g(&mut v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
        g(&mut v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
        g(&mut v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
        g(&mut v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
        g(&mut v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
        g(&mut v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
        g(&mut v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
        r += 1;
    }
    let mut k = 0;
    while k < 8 {
        h[k] ^= v[k] ^ v[k + 8];
        k += 1;
    }
}

/// blake2b with an 8-byte digest, evaluated at compile time: a runtime
/// API's id in `RuntimeVersion.apis` (Substrate's `blake2_64(name)`).
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
pub const fn blake2_64(data: &[u8]) -> [u8; 8] {
    let mut h = IV;
    // Parameter block: digest length 8, no key, fanout 1, depth 1.
    h[0] ^= 0x0101_0000 ^ 8;
    let mut block = [0u8; 128];
    let mut filled = 0;
    let mut counter: u128 = 0;
    let mut i = 0;
    while i < data.len() {
        if filled == 128 {
            counter += 128;
            compress(&mut h, &block, counter, false);
            block = [0u8; 128];
            filled = 0;
        }
        block[filled] = data[i];
        filled += 1;
        i += 1;
    }
    counter += filled as u128;
    compress(&mut h, &block, counter, true);
    let b = h[0].to_le_bytes();
    [b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]
}
