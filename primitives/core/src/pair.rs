//! Native key pairs: derivation from seeds, BIP-39 phrases and SURIs, signing,
//! and verification for every [`KeyScheme`].
//!
//! # Derivation rule
//!
//! Stable: every step feeds account ids, so changing any of it moves every
//! address (the golden tests in `tests/it/pair.rs` fail on purpose).
//!
//! ## sr25519: Substrate's rule
//!
//! sr25519 keys derive exactly as in Substrate (`subkey`, polkadot.js and
//! every Substrate wallet), so one phrase or `//Alice`-style URI gives the
//! same key pair in all of them:
//!
//! 1. Phrase and optional password to the 32-byte mini secret key: the first
//!    32 bytes of PBKDF2-HMAC-SHA512 over the phrase's BIP-39 *entropy* (not
//!    its text), salt `"mnemonic" ++ password`, 2048 rounds
//!    (`substrate-bip39`). A raw `0x…` seed is the mini secret itself.
//! 2. Each hard junction `//j`, left to right: its chain code is the SCALE
//!    encoding of `j` as a `u64` when `j` is a number (`//0`), else of the
//!    string `j`; zero-padded to 32 bytes, or its blake2-256 when longer. The
//!    mini secret is expanded (Ed25519 mode) and schnorrkel's
//!    `hard_derive_mini_secret_key(chain code, "")` gives the next one.
//! 3. The mini secret (what [`Pair::seed`] returns), expanded in Ed25519
//!    mode, is the key.
//!
//! Soft junctions (`/j`) are refused: a soft-derived key has no seed to
//! store, and no other scheme here has them.
//!
//! ## Falcon-512, ML-DSA-44 and hybrid
//!
//! 1. Phrase and optional password to a 64-byte BIP-39 seed (standard BIP-39:
//!    PBKDF2-HMAC-SHA512 over the NFKD phrase, salt `"mnemonic" ++ password`,
//!    2048 rounds).
//! 2. BIP-39 seed to the scheme seed:
//!    `blake2_256("qstack-key/" ++ scheme name ++ "/" ++ bip39_seed)`, so one
//!    phrase gives unrelated keys for each scheme.
//! 3. Each hard junction `//j`, left to right:
//!    `seed = blake2_256("qstack-hdkd" ++ seed ++ SCALE(j))`, where `SCALE(j)`
//!    is the SCALE encoding of the junction text (compact length, UTF-8 bytes;
//!    `//0` is the string `"0"`, not a number). A raw `0x…` seed SURI enters
//!    here, skipping steps 1 and 2.
//! 4. The 32-byte seed (what [`Pair::seed`] returns) to the key:
//!    - falcon512: fn-dsa key generation (degree 512) fed by ChaCha20 seeded
//!      with `blake2_256("falcon512" ++ seed)`;
//!    - mldsa44: FIPS 204 `ML-DSA.KeyGen_internal` with
//!      `ξ = blake2_256("mldsa44" ++ seed)`;
//!    - hybrid: the falcon512 key of `blake2_256("qstack-hybrid/falcon512/" ++
//!      seed)` and the mldsa44 key of `blake2_256("qstack-hybrid/mldsa44/" ++
//!      seed)`, so a hybrid key never shares a half with the single-scheme
//!      keys of the same seed (a leaked Falcon-only key of a reused raw seed
//!      leaves the hybrid key whole).
//!
//! Whatever the scheme, an account id is a one-way hash of the public key
//! ([`PublicKey::account_id`]), never the key itself: an account that has
//! never signed exposes no key for a quantum computer to attack.
//!
//! # Signing
//!
//! Signatures are hedged: the randomness each scheme needs is
//! `blake2_256(domain ++ seed ++ 32 OS-random bytes ++ extra ++ message)`.
//! The OS bytes make signatures unlinkable; the secret seed and message keep them
//! secure if the OS generator fails (the bytes are then zero and signing becomes
//! deterministic), so signing never fails or panics. sr25519 uses Substrate's
//! signing context [`SR25519_CONTEXT`], so a polkadot.js keyring or browser
//! extension signature verifies; Falcon and ML-DSA use the empty context and
//! sign the raw message (`HASH_ID_RAW` / pure ML-DSA). A transaction signature
//! never replays on another chain or as another message: what is signed binds
//! the chain's genesis hash, the account and how it signed
//! (`qstack_runtime_primitives::SignedPayload`).

use crate::crypto::{
    FalconPublic, FalconSignature, MlDsaPublic, MlDsaSignature, Sr25519Signature,
    FALCON_PUBLIC_LEN, FALCON_SIGNATURE_LEN, MLDSA_PUBLIC_LEN, MLDSA_SIGNATURE_LEN,
};
use crate::{AccountId, KeyScheme, PublicKey, Signature};
use codec::Encode;
use fn_dsa::{
    DomainContext, KeyPairGenerator, KeyPairGenerator512, SigningKey, SigningKey512, VerifyingKey,
    VerifyingKey512, FN_DSA_LOGN_512, HASH_ID_RAW,
};
use libcrux_ml_dsa::ml_dsa_44;
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, OsRng, RngCore, SeedableRng};

/// The phrase behind `//Alice`, `//Bob`, … (Substrate's development phrase).
/// Public knowledge: keys derived from it hold nothing of value.
pub const DEV_PHRASE: &str =
    "bottom drive obey lake curtain smoke basket hold race lonely fit walk";

/// sr25519 signing context: Substrate's, so Substrate wallets' signatures
/// verify. Replay across chains is stopped by the payload (it binds the
/// genesis hash), not by the context.
pub const SR25519_CONTEXT: &[u8] = b"substrate";

/// Word counts accepted by [`Pair::generate_with_phrase`] (BIP-39's).
pub const MNEMONIC_WORD_COUNTS: [usize; 5] = [12, 15, 18, 21, 24];

const KEY_DOMAIN: &[u8] = b"qstack-key/";
const HDKD_DOMAIN: &[u8] = b"qstack-hdkd";
const FALCON_KEYGEN_DOMAIN: &[u8] = b"falcon512";
const MLDSA_KEYGEN_DOMAIN: &[u8] = b"mldsa44";
const SR25519_SIGN_DOMAIN: &[u8] = b"qstack-sign/sr25519";
const FALCON_SIGN_DOMAIN: &[u8] = b"qstack-sign/falcon512";
const MLDSA_SIGN_DOMAIN: &[u8] = b"qstack-sign/mldsa44";
/// Falcon and ML-DSA keys of their own scheme sign with an empty context.
const PQ_CONTEXT: &[u8] = b"";
/// The two halves of a hybrid signature sign in this context (FN-DSA domain,
/// ML-DSA context string), so neither half verifies as a plain Falcon-512 or
/// ML-DSA-44 signature by the same key (no "stripping" a hybrid signature
/// down to one scheme).
pub const HYBRID_CONTEXT: &[u8] = b"qstack/hybrid/v1";
/// ML-DSA signing gives up after a bounded number of rejection-sampling rounds
/// (probability below 2^-128 per call); each retry uses fresh randomness.
const MLDSA_SIGN_ATTEMPTS: u8 = 4;

const FALCON_SECRET_LEN: usize = fn_dsa::sign_key_size(FN_DSA_LOGN_512);
// The wire types in `crypto` are sized for exactly this parameter set.
const _: () = assert!(fn_dsa::vrfy_key_size(FN_DSA_LOGN_512) == FALCON_PUBLIC_LEN);
const _: () = assert!(fn_dsa::signature_size(FN_DSA_LOGN_512) == FALCON_SIGNATURE_LEN);
const _: () = assert!(ml_dsa_44::MLDSA44VerificationKey::len() == MLDSA_PUBLIC_LEN);
const _: () = assert!(ml_dsa_44::MLDSA44Signature::len() == MLDSA_SIGNATURE_LEN);

/// Why a key could not be built.
#[derive(Debug, thiserror::Error)]
pub enum PairError {
    /// The secret phrase is not a valid English BIP-39 mnemonic.
    #[error("invalid secret phrase: {0} (expected 12 to 24 English BIP-39 words)")]
    InvalidPhrase(String),
    /// A raw seed is not `0x` followed by 64 hex digits.
    #[error("invalid seed: {0} (expected 0x followed by 64 hex digits)")]
    InvalidSeed(String),
    /// The SURI is malformed.
    #[error(
        "invalid secret URI: {0} (expected <phrase or 0x seed>[//hard/junctions…][///password])"
    )]
    InvalidSuri(String),
    /// A new mnemonic was asked for with an unsupported number of words.
    #[error("a mnemonic has 12, 15, 18, 21 or 24 words, not {0}")]
    InvalidWordCount(usize),
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed: {0}")]
    Randomness(String),
}

/// An sr25519 key pair.
#[derive(Clone)]
pub struct Sr25519Pair {
    seed: [u8; 32],
    keypair: Box<schnorrkel::Keypair>,
}

/// A Falcon-512 key pair.
#[derive(Clone)]
pub struct Falcon512Pair {
    seed: [u8; 32],
    /// fn-dsa's encoded signing key; decoded per signature, since signing
    /// needs a mutable key.
    secret: Box<[u8; FALCON_SECRET_LEN]>,
    public: Box<FalconPublic>,
}

/// An ML-DSA-44 key pair.
#[derive(Clone)]
pub struct MlDsa44Pair {
    seed: [u8; 32],
    secret: Box<ml_dsa_44::MLDSA44SigningKey>,
    public: Box<MlDsaPublic>,
}

/// A hybrid key pair: a Falcon-512 and an ML-DSA-44 pair derived from one
/// seed apart from the single-scheme keys of that seed.
#[derive(Clone)]
pub struct HybridPair {
    seed: [u8; 32],
    falcon: Falcon512Pair,
    mldsa: MlDsa44Pair,
}

/// The seeds of a hybrid key's halves (step 4 of the derivation rule):
/// separated from the seed itself, so neither half is the single-scheme key
/// of the same seed (security review L1).
fn hybrid_half_seeds(seed: &[u8; 32]) -> ([u8; 32], [u8; 32]) {
    (
        blake2_256_parts(&[HYBRID_DOMAIN, b"falcon512/", seed]),
        blake2_256_parts(&[HYBRID_DOMAIN, b"mldsa44/", seed]),
    )
}

/// Domain of [`hybrid_half_seeds`].
const HYBRID_DOMAIN: &[u8] = b"qstack-hybrid/";

/// A key pair of any scheme. Holds secret material: its `Debug` shows only
/// the scheme and the address.
#[derive(Clone)]
pub enum Pair {
    /// sr25519.
    Sr25519(Sr25519Pair),
    /// Falcon-512.
    Falcon512(Falcon512Pair),
    /// ML-DSA-44.
    MlDsa44(MlDsa44Pair),
    /// Falcon-512 and ML-DSA-44 together.
    Hybrid(HybridPair),
}

impl core::fmt::Debug for Pair {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Pair")
            .field(&self.scheme())
            .field(&self.account_id())
            .finish()
    }
}

impl Pair {
    /// Deterministic key from a 32-byte seed for the given scheme (step 4 of
    /// the module's derivation rule). `Pair::from_seed(p.scheme(), &p.seed())`
    /// rebuilds `p`.
    pub fn from_seed(scheme: KeyScheme, seed: &[u8; 32]) -> Pair {
        match scheme {
            KeyScheme::Sr25519 => Pair::Sr25519(Sr25519Pair::from_seed(seed)),
            KeyScheme::Falcon512 => Pair::Falcon512(Falcon512Pair::from_seed(seed)),
            KeyScheme::MlDsa44 => Pair::MlDsa44(MlDsa44Pair::from_seed(seed)),
            KeyScheme::Hybrid => {
                let (falcon, mldsa) = hybrid_half_seeds(seed);
                Pair::Hybrid(HybridPair {
                    seed: *seed,
                    falcon: Falcon512Pair::from_seed(&falcon),
                    mldsa: MlDsa44Pair::from_seed(&mldsa),
                })
            }
        }
    }

    /// BIP-39 phrase (and optional password) to the key of `scheme` (steps 1,
    /// 2 and 4 of the module's derivation rule). Fails on an unknown word, a
    /// bad word count or a bad checksum.
    pub fn from_phrase(
        scheme: KeyScheme,
        phrase: &str,
        password: Option<&str>,
    ) -> Result<Pair, PairError> {
        Ok(Pair::from_seed(
            scheme,
            &phrase_seed(scheme, phrase, password)?,
        ))
    }

    /// Secret URI to a key: `<phrase>[//hard…][///password]`, `//Alice` (the
    /// [`DEV_PHRASE`] then `//Alice`), or `0x<64 hex>[//hard…]` (a raw seed).
    /// Soft junctions (`/soft`) are refused (see the module doc).
    pub fn from_suri(scheme: KeyScheme, suri: &str) -> Result<Pair, PairError> {
        let suri = Suri::parse(suri)?;
        let mut seed = match suri.secret {
            Secret::Seed(seed) => seed,
            Secret::Phrase(phrase) => phrase_seed(scheme, phrase, suri.password)?,
        };
        for junction in suri.junctions {
            seed = match scheme {
                KeyScheme::Sr25519 => sr25519_hard_derive(&seed, junction),
                _ => hard_derive(&seed, junction),
            };
        }
        Ok(Pair::from_seed(scheme, &seed))
    }

    /// A new random mnemonic of `words` words (12, 15, 18, 21 or 24; see
    /// [`MNEMONIC_WORD_COUNTS`]) and its key for `scheme`, with no password.
    pub fn generate_with_phrase(
        scheme: KeyScheme,
        words: usize,
    ) -> Result<(Pair, String), PairError> {
        if !MNEMONIC_WORD_COUNTS.contains(&words) {
            return Err(PairError::InvalidWordCount(words));
        }
        // BIP-39: 32 bits of entropy per 3 words.
        let mut entropy = vec![0u8; words / 3 * 4];
        OsRng
            .try_fill_bytes(&mut entropy)
            .map_err(|e| PairError::Randomness(e.to_string()))?;
        let phrase = bip39::Mnemonic::from_entropy(&entropy)
            .map_err(|e| PairError::InvalidPhrase(e.to_string()))?
            .to_string();
        entropy.fill(0);
        let pair = Pair::from_phrase(scheme, &phrase, None)?;
        Ok((pair, phrase))
    }

    /// The public key.
    pub fn public(&self) -> PublicKey {
        match self {
            Pair::Sr25519(p) => PublicKey::Sr25519(p.keypair.public.to_bytes()),
            Pair::Falcon512(p) => PublicKey::Falcon512((*p.public).clone()),
            Pair::MlDsa44(p) => PublicKey::MlDsa44((*p.public).clone()),
            Pair::Hybrid(p) => {
                PublicKey::Hybrid((*p.falcon.public).clone(), (*p.mldsa.public).clone())
            }
        }
    }

    /// The key's scheme.
    pub fn scheme(&self) -> KeyScheme {
        match self {
            Pair::Sr25519(_) => KeyScheme::Sr25519,
            Pair::Falcon512(_) => KeyScheme::Falcon512,
            Pair::MlDsa44(_) => KeyScheme::MlDsa44,
            Pair::Hybrid(_) => KeyScheme::Hybrid,
        }
    }

    /// The account this key controls as master key (`self.public().account_id()`).
    pub fn account_id(&self) -> AccountId {
        self.public().account_id()
    }

    /// Signs `msg`; a hybrid key signs with both halves. Signatures are
    /// randomized (see the module doc), so two calls give different bytes.
    pub fn sign(&self, msg: &[u8]) -> Signature {
        match self {
            Pair::Sr25519(p) => Signature::Sr25519(p.sign(msg)),
            Pair::Falcon512(p) => Signature::Falcon512(p.sign(msg, PQ_CONTEXT)),
            Pair::MlDsa44(p) => Signature::MlDsa44(p.sign(msg, PQ_CONTEXT)),
            Pair::Hybrid(p) => Signature::Hybrid(
                p.falcon.sign(msg, HYBRID_CONTEXT),
                p.mldsa.sign(msg, HYBRID_CONTEXT),
            ),
        }
    }

    /// The 32-byte seed the key was built from (after junctions): secret.
    pub fn seed(&self) -> [u8; 32] {
        match self {
            Pair::Sr25519(p) => p.seed,
            Pair::Falcon512(p) => p.seed,
            Pair::MlDsa44(p) => p.seed,
            Pair::Hybrid(p) => p.seed,
        }
    }
}

/// Verifies `sig` over `msg` with `pk`. A hybrid signature is valid only if
/// both halves verify; a signature of another scheme than the key's is invalid.
/// Total: any bytes give `true` or `false`, never a panic.
pub fn verify(sig: &Signature, msg: &[u8], pk: &PublicKey) -> bool {
    match (sig, pk) {
        (Signature::Sr25519(s), PublicKey::Sr25519(k)) => verify_sr25519(s, msg, k),
        (Signature::Falcon512(s), PublicKey::Falcon512(k)) => verify_falcon(s, msg, k, PQ_CONTEXT),
        (Signature::MlDsa44(s), PublicKey::MlDsa44(k)) => verify_mldsa(s, msg, k, PQ_CONTEXT),
        (Signature::Hybrid(fs, ms), PublicKey::Hybrid(fk, mk)) => {
            verify_falcon(fs, msg, fk, HYBRID_CONTEXT) && verify_mldsa(ms, msg, mk, HYBRID_CONTEXT)
        }
        _ => false,
    }
}

/// Verifies many (signature, message, key) triples, returning each one's
/// validity in order — the same answers as [`verify`] on each. sr25519
/// signatures are checked together with schnorrkel's batch verification
/// (about 2.5× faster per signature); if a batch fails, its members are
/// checked one by one to find the bad ones. Other schemes have no batch form.
pub fn verify_many(items: &[(Signature, Vec<u8>, PublicKey)]) -> Vec<bool> {
    let mut out = vec![false; items.len()];
    let mut sr = Vec::new();
    for (i, (sig, msg, pk)) in items.iter().enumerate() {
        match (sig, pk) {
            (Signature::Sr25519(s), PublicKey::Sr25519(k)) => sr.push((i, s, msg, k)),
            _ => {
                if let Some(slot) = out.get_mut(i) {
                    *slot = verify(sig, msg, pk);
                }
            }
        }
    }
    if sr25519_batch_ok(&sr) {
        for (i, ..) in &sr {
            if let Some(slot) = out.get_mut(*i) {
                *slot = true;
            }
        }
    } else {
        for (i, s, msg, k) in sr {
            if let Some(slot) = out.get_mut(i) {
                *slot = verify_sr25519(s, msg, k);
            }
        }
    }
    out
}

/// Whether every sr25519 item verifies, checked as one batch. An empty batch,
/// a malformed key or signature, or any bad signature gives `false`.
fn sr25519_batch_ok(items: &[(usize, &Sr25519Signature, &Vec<u8>, &[u8; 32])]) -> bool {
    if items.is_empty() {
        return false;
    }
    let mut sigs = Vec::with_capacity(items.len());
    let mut keys = Vec::with_capacity(items.len());
    for (_, s, _, k) in items {
        match (
            schnorrkel::Signature::from_bytes(&s.0),
            schnorrkel::PublicKey::from_bytes(&k[..]),
        ) {
            (Ok(s), Ok(k)) => {
                sigs.push(s);
                keys.push(k);
            }
            _ => return false,
        }
    }
    let transcripts = items
        .iter()
        .map(|(_, _, msg, _)| schnorrkel::signing_context(SR25519_CONTEXT).bytes(msg));
    // Random (not deterministic) batch weights: an attacker cannot craft a
    // batch whose bad signatures cancel out.
    schnorrkel::verify_batch(transcripts, &sigs, &keys, false).is_ok()
}

fn verify_sr25519(sig: &Sr25519Signature, msg: &[u8], pk: &[u8; 32]) -> bool {
    let (Ok(pk), Ok(sig)) = (
        schnorrkel::PublicKey::from_bytes(pk),
        schnorrkel::Signature::from_bytes(&sig.0),
    ) else {
        return false;
    };
    pk.verify_simple(SR25519_CONTEXT, msg, &sig).is_ok()
}

fn verify_falcon(sig: &FalconSignature, msg: &[u8], pk: &FalconPublic, ctx: &[u8]) -> bool {
    VerifyingKey512::decode(&pk.0)
        .is_some_and(|vk| vk.verify(&sig.0, &DomainContext(ctx), &HASH_ID_RAW, msg))
}

fn verify_mldsa(sig: &MlDsaSignature, msg: &[u8], pk: &MlDsaPublic, ctx: &[u8]) -> bool {
    let vk = ml_dsa_44::MLDSA44VerificationKey::new(pk.0);
    let sig = ml_dsa_44::MLDSA44Signature::new(sig.0);
    ml_dsa_44::verify(&vk, msg, ctx, &sig).is_ok()
}

impl Sr25519Pair {
    fn from_seed(seed: &[u8; 32]) -> Self {
        // `MiniSecretKey::from_bytes` is fallible only on length; `generate_with`
        // reads its 32 bytes from the RNG, which here yields exactly the seed.
        // The Substrate known-answer test in the unit tests pins this down.
        let mini = schnorrkel::MiniSecretKey::generate_with(SeedBytes(*seed));
        let keypair = mini.expand_to_keypair(schnorrkel::ExpansionMode::Ed25519);
        Sr25519Pair {
            seed: *seed,
            keypair: Box::new(keypair),
        }
    }

    fn sign(&self, msg: &[u8]) -> Sr25519Signature {
        // schnorrkel already mixes the secret nonce and transcript into its
        // witness; our hedge replaces its panicking default OS RNG.
        let rng = ChaCha20Rng::from_seed(hedge(SR25519_SIGN_DOMAIN, &self.seed, &[], msg));
        let transcript = schnorrkel::signing_context(SR25519_CONTEXT).bytes(msg);
        let sig = self
            .keypair
            .sign(schnorrkel::context::attach_rng(transcript, rng));
        Sr25519Signature(sig.to_bytes())
    }
}

impl Falcon512Pair {
    fn from_seed(seed: &[u8; 32]) -> Self {
        let mut rng = ChaCha20Rng::from_seed(blake2_256_parts(&[FALCON_KEYGEN_DOMAIN, seed]));
        let mut secret = Box::new([0u8; FALCON_SECRET_LEN]);
        let mut public = Box::new(FalconPublic([0u8; FALCON_PUBLIC_LEN]));
        // Output lengths are the exact ones for degree 512 (checked at compile
        // time above), the only condition under which keygen panics.
        KeyPairGenerator512::default().keygen(
            FN_DSA_LOGN_512,
            &mut rng,
            secret.as_mut_slice(),
            public.0.as_mut_slice(),
        );
        Falcon512Pair {
            seed: *seed,
            secret,
            public,
        }
    }

    fn sign(&self, msg: &[u8], ctx: &[u8]) -> FalconSignature {
        let mut sig = FalconSignature([0u8; FALCON_SIGNATURE_LEN]);
        let mut rng = ChaCha20Rng::from_seed(hedge(FALCON_SIGN_DOMAIN, &self.seed, ctx, msg));
        // Decoding and signing fail only for a corrupt signing key, and ours
        // come from keygen. Were it to happen, the all-zero signature fails
        // verification rather than taking the node down.
        if let Some(mut sk) = SigningKey512::decode(self.secret.as_slice()) {
            if sk
                .sign(&mut rng, &DomainContext(ctx), &HASH_ID_RAW, msg, &mut sig.0)
                .is_none()
            {
                sig.0.fill(0);
            }
        }
        sig
    }
}

impl MlDsa44Pair {
    fn from_seed(seed: &[u8; 32]) -> Self {
        let kp = ml_dsa_44::generate_key_pair(blake2_256_parts(&[MLDSA_KEYGEN_DOMAIN, seed]));
        MlDsa44Pair {
            seed: *seed,
            public: Box::new(MlDsaPublic(*kp.verification_key.as_ref())),
            secret: Box::new(kp.signing_key),
        }
    }

    fn sign(&self, msg: &[u8], ctx: &[u8]) -> MlDsaSignature {
        for attempt in 0..MLDSA_SIGN_ATTEMPTS {
            let rnd = hedge(MLDSA_SIGN_DOMAIN, &self.seed, &[attempt], msg);
            if let Ok(sig) = ml_dsa_44::sign(&self.secret, msg, ctx, rnd) {
                return MlDsaSignature(*sig.as_ref());
            }
        }
        // Unreachable in practice (each attempt fails with probability below
        // 2^-128); an all-zero signature fails verification.
        MlDsaSignature([0u8; MLDSA_SIGNATURE_LEN])
    }
}

/// Steps 1 and 2 of the derivation rule (step 1 alone for sr25519).
fn phrase_seed(
    scheme: KeyScheme,
    phrase: &str,
    password: Option<&str>,
) -> Result<[u8; 32], PairError> {
    let mnemonic =
        bip39::Mnemonic::parse(phrase).map_err(|e| PairError::InvalidPhrase(e.to_string()))?;
    if scheme == KeyScheme::Sr25519 {
        let mut entropy = mnemonic.to_entropy();
        let mini = substrate_mini_secret(&entropy, password.unwrap_or(""));
        entropy.fill(0);
        return Ok(mini);
    }
    let mut bip39_seed = mnemonic.to_seed(password.unwrap_or(""));
    let seed = blake2_256_parts(&[KEY_DOMAIN, scheme.name().as_bytes(), b"/", &bip39_seed]);
    bip39_seed.fill(0);
    Ok(seed)
}

/// `substrate-bip39`'s mini secret key: the first 32 bytes of
/// PBKDF2-HMAC-SHA512(entropy, "mnemonic" ++ password, 2048). One 64-byte
/// output block, so one PBKDF2 block (index 1).
fn substrate_mini_secret(entropy: &[u8], password: &str) -> [u8; 32] {
    use hmac::{Mac, SimpleHmac};
    type HmacSha512 = SimpleHmac<sha2::Sha512>;
    let prf = |parts: &[&[u8]]| -> [u8; 64] {
        // HMAC takes a key of any length: `new_from_slice` cannot fail.
        let Ok(mut mac) = HmacSha512::new_from_slice(entropy) else {
            return [0u8; 64];
        };
        for part in parts {
            mac.update(part);
        }
        mac.finalize().into_bytes().into()
    };
    let mut u = prf(&[b"mnemonic", password.as_bytes(), &1u32.to_be_bytes()]);
    let mut t = u;
    for _ in 1..2048 {
        u = prf(&[&u]);
        for (t, u) in t.iter_mut().zip(u.iter()) {
            *t ^= u;
        }
    }
    let mut mini = [0u8; 32];
    for (m, t) in mini.iter_mut().zip(t.iter()) {
        *m = *t;
    }
    t.fill(0);
    u.fill(0);
    mini
}

/// Substrate's chain code of a junction: SCALE of the `u64` when it is a
/// number, else of the string; zero-padded, or hashed when over 32 bytes.
fn substrate_chain_code(junction: &str) -> [u8; 32] {
    let encoded = match junction.parse::<u64>() {
        Ok(n) => n.encode(),
        Err(_) => junction.encode(),
    };
    if encoded.len() > 32 {
        return blake2_256_parts(&[&encoded]);
    }
    let mut cc = [0u8; 32];
    for (c, e) in cc.iter_mut().zip(encoded.iter()) {
        *c = *e;
    }
    cc
}

/// Step 2 of the sr25519 rule: one hard junction on a mini secret key.
fn sr25519_hard_derive(parent: &[u8; 32], junction: &str) -> [u8; 32] {
    let mini = schnorrkel::MiniSecretKey::generate_with(SeedBytes(*parent));
    let secret = mini.expand(schnorrkel::ExpansionMode::Ed25519);
    let cc = schnorrkel::derive::ChainCode(substrate_chain_code(junction));
    secret
        .hard_derive_mini_secret_key(Some(cc), b"")
        .0
        .to_bytes()
}

/// Step 3 of the PQ rule: one hard junction.
fn hard_derive(parent: &[u8; 32], junction: &str) -> [u8; 32] {
    blake2_256_parts(&[HDKD_DOMAIN, parent, &junction.encode()])
}

/// Hedged signing randomness (see the module doc).
fn hedge(domain: &[u8], seed: &[u8; 32], extra: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut fresh = [0u8; 32];
    if OsRng.try_fill_bytes(&mut fresh).is_err() {
        fresh = [0u8; 32];
    }
    blake2_256_parts(&[domain, seed, &fresh, extra, msg])
}

/// blake2b-256 of the concatenation of `parts`, without building it.
fn blake2_256_parts(parts: &[&[u8]]) -> [u8; 32] {
    use blake2::digest::{consts::U32, Digest};
    let mut h = blake2::Blake2b::<U32>::new();
    for part in parts {
        Digest::update(&mut h, part);
    }
    h.finalize().into()
}

/// An "RNG" whose output is a fixed 32-byte seed: hands a seed to APIs that
/// only take an RNG. Only for reading exactly those 32 bytes once.
struct SeedBytes([u8; 32]);

impl RngCore for SeedBytes {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for (d, s) in dest.iter_mut().zip(self.0.iter().cycle()) {
            *d = *s;
        }
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

// Not a CSPRNG: sound only because its output is a secret seed read once.
impl CryptoRng for SeedBytes {}

/// Where a SURI's secret comes from.
#[derive(Debug, PartialEq, Eq)]
enum Secret<'a> {
    /// A BIP-39 phrase (the dev phrase when the SURI starts with `//`).
    Phrase(&'a str),
    /// A raw 32-byte seed.
    Seed([u8; 32]),
}

/// A parsed SURI.
#[derive(Debug, PartialEq, Eq)]
struct Suri<'a> {
    secret: Secret<'a>,
    junctions: Vec<&'a str>,
    password: Option<&'a str>,
}

impl<'a> Suri<'a> {
    fn parse(suri: &'a str) -> Result<Self, PairError> {
        // The password is everything after the first `///`, slashes included.
        let (rest, password) = match suri.split_once("///") {
            Some((rest, password)) => (rest, Some(password)),
            None => (suri, None),
        };
        let (secret, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let junctions = parse_path(path)?;
        let secret = secret.trim();
        let secret = if secret.is_empty() {
            if junctions.is_empty() && password.is_none() {
                return Err(PairError::InvalidSuri("empty secret URI".into()));
            }
            Secret::Phrase(DEV_PHRASE)
        } else if let Some(hex_seed) = secret.strip_prefix("0x") {
            if password.is_some() {
                return Err(PairError::InvalidSuri(
                    "a password applies to a phrase, not to a raw seed".into(),
                ));
            }
            Secret::Seed(parse_seed(hex_seed)?)
        } else {
            Secret::Phrase(secret)
        };
        Ok(Suri {
            secret,
            junctions,
            password,
        })
    }
}

/// `//a//b` to `["a", "b"]`; refuses soft (`/a`) and empty (`//`) junctions.
fn parse_path(path: &str) -> Result<Vec<&str>, PairError> {
    let mut junctions = Vec::new();
    let mut rest = path;
    while !rest.is_empty() {
        let Some(tail) = rest.strip_prefix("//") else {
            return Err(PairError::InvalidSuri(format!(
                "soft derivation ('{rest}') is not supported; use hard junctions ('//name')"
            )));
        };
        let (junction, next) = match tail.find('/') {
            Some(i) => tail.split_at(i),
            None => (tail, ""),
        };
        if junction.is_empty() {
            return Err(PairError::InvalidSuri(
                "empty junction ('//' with no name)".into(),
            ));
        }
        junctions.push(junction);
        rest = next;
    }
    Ok(junctions)
}

fn parse_seed(hex_seed: &str) -> Result<[u8; 32], PairError> {
    let raw = hex::decode(hex_seed).map_err(|e| PairError::InvalidSeed(e.to_string()))?;
    <[u8; 32]>::try_from(raw.as_slice())
        .map_err(|_| PairError::InvalidSeed(format!("{} bytes, not 32", raw.len())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hashing::blake2_256;

    #[test]
    fn sr25519_raw_seed_matches_substrate() {
        // `subkey inspect //Alice`: secret seed and sr25519 public key. An
        // outside oracle for the schnorrkel wiring (mini key, Ed25519 mode).
        let pair = Pair::from_suri(
            KeyScheme::Sr25519,
            "0xe5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a",
        )
        .unwrap();
        let PublicKey::Sr25519(pk) = pair.public() else {
            unreachable!()
        };
        assert_eq!(
            hex::encode(pk),
            "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
        );
    }

    #[test]
    fn a_hybrid_signature_cannot_be_stripped_to_one_scheme() {
        // Security review L1: the halves of a hybrid key were the Falcon and
        // ML-DSA keys the same seed gives those schemes, so a half signed in
        // the plain context would verify as a single-scheme signature. The
        // halves are now keys of their own; and even a single-scheme key
        // with a hybrid's half (built here from the half's seed) does not
        // accept the half's signature.
        let seed = [7u8; 32];
        let hybrid = Pair::from_seed(KeyScheme::Hybrid, &seed);
        let PublicKey::Hybrid(fk, mk) = hybrid.public() else {
            panic!("a hybrid key")
        };
        assert_ne!(
            PublicKey::Falcon512(fk.clone()),
            Pair::from_seed(KeyScheme::Falcon512, &seed).public()
        );
        assert_ne!(
            PublicKey::MlDsa44(mk.clone()),
            Pair::from_seed(KeyScheme::MlDsa44, &seed).public()
        );
        let (fseed, mseed) = hybrid_half_seeds(&seed);
        let falcon = Pair::from_seed(KeyScheme::Falcon512, &fseed);
        let mldsa = Pair::from_seed(KeyScheme::MlDsa44, &mseed);
        assert_eq!(PublicKey::Falcon512(fk.clone()), falcon.public());
        assert_eq!(PublicKey::MlDsa44(mk.clone()), mldsa.public());
        let msg = b"transfer 100 to Bob";
        let Signature::Hybrid(fs, ms) = hybrid.sign(msg) else {
            panic!("a hybrid signature")
        };
        assert!(verify(
            &Signature::Hybrid(fs.clone(), ms.clone()),
            msg,
            &hybrid.public()
        ));
        // Neither half is a plain signature of its scheme…
        assert!(!verify(&Signature::Falcon512(fs), msg, &falcon.public()));
        assert!(!verify(&Signature::MlDsa44(ms), msg, &mldsa.public()));
        // …and plain signatures do not make a hybrid one.
        let (Signature::Falcon512(pf), Signature::MlDsa44(pm)) =
            (falcon.sign(msg), mldsa.sign(msg))
        else {
            panic!("single-scheme signatures")
        };
        assert!(!verify(&Signature::Hybrid(pf, pm), msg, &hybrid.public()));
    }

    fn sr25519_public_hex(suri: &str) -> String {
        let PublicKey::Sr25519(pk) = Pair::from_suri(KeyScheme::Sr25519, suri).unwrap().public()
        else {
            unreachable!()
        };
        hex::encode(pk)
    }

    #[test]
    fn sr25519_uris_give_the_keys_polkadot_js_and_subkey_give() {
        // From `@polkadot/keyring` 13 (`new Keyring({type: 'sr25519'})
        // .addFromUri(DEV_PHRASE + suri).publicKey`); `//Alice`, `//Bob` and
        // `//Alice//stash` are also subkey's well-known dev keys.
        for (suri, public) in [
            (
                "",
                "46ebddef8cd9bb167dc30878d7113b7e168e6f0646beffd77d69d39bad76b47a",
            ),
            (
                "//Alice",
                "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d",
            ),
            (
                "//Bob",
                "8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48",
            ),
            (
                "//0",
                "2afba9278e30ccf6a6ceb3a8b6e336b70068f045c666f2e7f4f9cc5f47db8972",
            ),
            (
                "//Alice//stash",
                "be5ddb1579b72e84524fc29e78609e3caf42e85aa118ebfe0b0ad404b5bdd25f",
            ),
            (
                "///password",
                "b69355deefa7a8f33e9297f5af22e680f03597a99d4f4b1c44be47e7a2275802",
            ),
            (
                "//Alice///password",
                "32fc18294f88e02ec071e59bb3996aa21f4519d92593dc6e01fda2921d459b23",
            ),
            (
                "//a-very-long-junction-name-longer-than-32-bytes//7",
                "ca9ea260bc95c6ee9ed420d41c4e468fad3af11e0e372883ea9775719c40797d",
            ),
        ] {
            let uri = format!("{DEV_PHRASE}{suri}");
            assert_eq!(sr25519_public_hex(&uri), public, "{uri}");
        }
        // `//Alice` alone means the dev phrase's `//Alice`.
        assert_eq!(
            sr25519_public_hex("//Alice"),
            "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
        );
        let phrase = "legal winner thank year wave sausage worth useful legal winner thank yellow";
        assert_eq!(
            sr25519_public_hex(&format!("{phrase}//x///Substrate")),
            "24e3526c60a680ec6f119827c92b3c545f8db3f84cc87b47e13b3912c786565e"
        );
        // polkadot.js `mnemonicToMiniSecret(DEV_PHRASE)`.
        assert_eq!(
            hex::encode(
                Pair::from_phrase(KeyScheme::Sr25519, DEV_PHRASE, None)
                    .unwrap()
                    .seed()
            ),
            "fac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e"
        );
    }

    #[test]
    fn a_polkadot_js_signature_verifies_and_ours_verifies_in_substrates_context() {
        // `keyring.addFromUri('//Alice').sign(stringToU8a('qstack interop'))`
        // in @polkadot/keyring 13.
        let alice = Pair::from_suri(KeyScheme::Sr25519, "//Alice").unwrap();
        let mut sig = [0u8; 64];
        hex::decode_to_slice(
            "5c188c39d68a94b509d2e40bfc13564bb0cf2bbd800c9211cb986fe027ec6910\
             efe269c9e3daf11120fc1b639d739fb772d01477d926e2313699b8073d357980",
            &mut sig,
        )
        .unwrap();
        let js = Signature::Sr25519(Sr25519Signature(sig));
        assert!(verify(&js, b"qstack interop", &alice.public()));
        assert!(!verify(&js, b"qstack interoq", &alice.public()));
        // The reverse: our signature checks with schnorrkel in the
        // `substrate` context, as sp_core and polkadot.js verify.
        let Signature::Sr25519(ours) = alice.sign(b"m") else {
            unreachable!()
        };
        let PublicKey::Sr25519(pk) = alice.public() else {
            unreachable!()
        };
        let pk = schnorrkel::PublicKey::from_bytes(&pk).unwrap();
        let ours = schnorrkel::Signature::from_bytes(&ours.0).unwrap();
        assert!(pk.verify_simple(b"substrate", b"m", &ours).is_ok());
        assert!(pk.verify_simple(b"qstack", b"m", &ours).is_err());
    }

    #[test]
    fn substrate_chain_codes() {
        let mut zero = [0u8; 32];
        assert_eq!(substrate_chain_code("0"), zero);
        zero[0] = 7;
        assert_eq!(substrate_chain_code("7"), zero);
        let mut alice = [0u8; 32];
        alice[0] = 0x14;
        alice[1..6].copy_from_slice(b"Alice");
        assert_eq!(substrate_chain_code("Alice"), alice);
        let long = "x".repeat(40);
        assert_eq!(substrate_chain_code(&long), blake2_256(&long.encode()));
    }

    #[test]
    fn seed_bytes_gives_the_seed_to_schnorrkel() {
        let seed = [42u8; 32];
        let via_rng = schnorrkel::MiniSecretKey::generate_with(SeedBytes(seed));
        let via_bytes = schnorrkel::MiniSecretKey::from_bytes(&seed).unwrap();
        assert_eq!(via_rng.to_bytes(), via_bytes.to_bytes());
    }

    #[test]
    fn blake2_parts_is_blake2_of_concatenation() {
        assert_eq!(blake2_256_parts(&[b"ab", b"", b"cd"]), blake2_256(b"abcd"));
        assert_eq!(blake2_256_parts(&[]), blake2_256(b""));
    }

    #[test]
    fn hard_derive_uses_scale_string_encoding() {
        let parent = [1u8; 32];
        // SCALE("Alice") = compact(5) = 0x14, then the bytes.
        let mut pre = b"qstack-hdkd".to_vec();
        pre.extend_from_slice(&parent);
        pre.push(0x14);
        pre.extend_from_slice(b"Alice");
        assert_eq!(hard_derive(&parent, "Alice"), blake2_256(&pre));
    }

    #[test]
    fn suri_grammar() {
        let s = Suri::parse("//Alice").unwrap();
        assert_eq!(s.secret, Secret::Phrase(DEV_PHRASE));
        assert_eq!(s.junctions, vec!["Alice"]);
        assert_eq!(s.password, None);

        let s = Suri::parse(" word list //a//b c///pa//ss/").unwrap();
        assert_eq!(s.secret, Secret::Phrase("word list"));
        assert_eq!(s.junctions, vec!["a", "b c"]);
        assert_eq!(s.password, Some("pa//ss/"));

        let text = format!("0x{}//0", "ab".repeat(32));
        let s = Suri::parse(&text).unwrap();
        assert_eq!(s.secret, Secret::Seed([0xab; 32]));
        assert_eq!(s.junctions, vec!["0"]);

        let s = Suri::parse("///secret").unwrap();
        assert_eq!(s.secret, Secret::Phrase(DEV_PHRASE));
        assert_eq!(s.password, Some("secret"));
    }

    #[test]
    fn suri_errors() {
        let invalid_suri = |s: &str| matches!(Suri::parse(s), Err(PairError::InvalidSuri(_)));
        let invalid_seed = |s: &str| matches!(Suri::parse(s), Err(PairError::InvalidSeed(_)));
        assert!(invalid_suri(""));
        assert!(invalid_suri("   "));
        assert!(invalid_suri("/soft"));
        assert!(invalid_suri("//hard/soft"));
        assert!(invalid_suri("//"));
        assert!(invalid_suri("//a//"));
        assert!(invalid_suri(&format!("0x{}///pw", "00".repeat(32))));
        assert!(invalid_seed("0x1234"));
        assert!(invalid_seed(&format!("0x{}", "zz".repeat(32))));
        assert!(invalid_seed(&format!("0x{}", "00".repeat(33))));
    }
}
