//! Signature checks off the executing thread (DESIGN §2). A cache of
//! verified (signature, message, key) triples filled by pool validation and
//! answered from during block building; and for an imported block, a
//! verifier that checks its signatures on the spare cores while the block
//! executes. Verification is a pure function, so this changes no result.

use codec::Encode;
use parking_lot::Mutex;
use qstack_core::{hashing::blake2_256, PublicKey, Signature};
use qstack_io::{ClearPrefixResult, Externalities};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

/// A bounded set of (signature, message, key) triples known to verify.
pub struct SignatureCache {
    verified: Mutex<HashSet<[u8; 32]>>,
    capacity: usize,
}

fn entry_key(sig: &Signature, msg: &[u8], pk: &PublicKey) -> [u8; 32] {
    let mut buf = Vec::with_capacity(msg.len() + 6000);
    sig.encode_to(&mut buf);
    pk.encode_to(&mut buf);
    buf.extend_from_slice(msg);
    blake2_256(&buf)
}

impl SignatureCache {
    /// A cache remembering at most `capacity` valid signatures.
    pub fn new(capacity: usize) -> Self {
        Self {
            verified: Mutex::new(HashSet::new()),
            capacity,
        }
    }

    /// Remembers one triple that verified.
    pub fn insert(&self, sig: &Signature, msg: &[u8], pk: &PublicKey) {
        let key = entry_key(sig, msg, pk);
        let mut set = self.verified.lock();
        if set.len() >= self.capacity {
            set.clear();
        }
        set.insert(key);
    }

    /// Whether this exact triple was verified before.
    pub fn contains(&self, sig: &Signature, msg: &[u8], pk: &PublicKey) -> bool {
        self.verified.lock().contains(&entry_key(sig, msg, pk))
    }

    /// Number of remembered signatures.
    pub fn len(&self) -> usize {
        self.verified.lock().len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The `Externalities` methods a verify-wrapper passes straight through to
/// `self.inner` (everything but `verify`).
macro_rules! forward_to_inner {
    () => {
        fn storage(&mut self, key: &[u8]) -> Option<Vec<u8>> {
            self.inner.storage(key)
        }
        fn set_storage(&mut self, key: &[u8], value: &[u8]) {
            self.inner.set_storage(key, value)
        }
        fn clear_storage(&mut self, key: &[u8]) {
            self.inner.clear_storage(key)
        }
        fn exists_storage(&mut self, key: &[u8]) -> bool {
            self.inner.exists_storage(key)
        }
        fn clear_prefix(&mut self, prefix: &[u8], limit: Option<u32>) -> ClearPrefixResult {
            self.inner.clear_prefix(prefix, limit)
        }
        fn next_storage_key(&mut self, key: &[u8]) -> Option<Vec<u8>> {
            self.inner.next_storage_key(key)
        }
        fn storage_root(&mut self) -> [u8; 32] {
            self.inner.storage_root()
        }
        fn start_transaction(&mut self) {
            self.inner.start_transaction()
        }
        fn commit_transaction(&mut self) {
            self.inner.commit_transaction()
        }
        fn rollback_transaction(&mut self) {
            self.inner.rollback_transaction()
        }
        fn take_backend_error(&mut self) -> Option<String> {
            self.inner.take_backend_error()
        }
    };
}

/// Externalities that answer `verify` from a [`SignatureCache`] first.
pub struct CachedVerifyExt<'a> {
    inner: &'a mut dyn Externalities,
    cache: &'a SignatureCache,
}

impl<'a> CachedVerifyExt<'a> {
    /// Wraps `inner`.
    pub fn new(inner: &'a mut dyn Externalities, cache: &'a SignatureCache) -> Self {
        Self { inner, cache }
    }
}

impl Externalities for CachedVerifyExt<'_> {
    forward_to_inner!();
    fn verify(&mut self, sig: &Signature, msg: &[u8], pk: &PublicKey) -> bool {
        if self.cache.contains(sig, msg, pk) {
            return true;
        }
        // Remember what verifies here too: a transaction checked by the pool
        // is then free when its block is built or imported.
        let ok = self.inner.verify(sig, msg, pk);
        if ok {
            self.cache.insert(sig, msg, pk);
        }
        ok
    }
}

/// A (signature, message, key) triple to check.
type Triple = (Signature, Vec<u8>, PublicKey);

/// Background signature verification for a block being executed at the same
/// time (DESIGN §2): execution hands every triple over and carries on as if
/// it verified; worker threads on the other cores check them (sr25519 in
/// batches). If any fails, [`BatchVerifier::finish`] says so and the caller
/// discards that execution and runs the block again with inline checks, so
/// results never depend on this — only time does.
pub struct BatchVerifier {
    queue: Option<mpsc::Sender<Triple>>,
    failed: Arc<AtomicBool>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl BatchVerifier {
    /// Starts `threads` (at least one) worker threads.
    pub fn start(threads: usize) -> Self {
        let (queue, rx) = mpsc::channel::<Triple>();
        let rx = Arc::new(Mutex::new(rx));
        let failed = Arc::new(AtomicBool::new(false));
        let workers = (0..threads.max(1))
            .filter_map(|i| {
                let (rx, failed) = (rx.clone(), failed.clone());
                std::thread::Builder::new()
                    .name(format!("qstack-verify-{i}"))
                    .spawn(move || verify_worker(&rx, &failed))
                    .ok()
            })
            .collect();
        Self {
            queue: Some(queue),
            failed,
            workers,
        }
    }

    fn push(&self, triple: Triple) -> bool {
        if self.workers.is_empty() {
            return false;
        }
        self.queue.as_ref().is_some_and(|q| q.send(triple).is_ok())
    }

    /// Waits for every handed-over triple; whether all of them verified.
    pub fn finish(mut self) -> bool {
        self.queue = None;
        let mut all_joined = true;
        for w in self.workers.drain(..) {
            all_joined &= w.join().is_ok();
        }
        all_joined && !self.failed.load(Ordering::Relaxed)
    }
}

/// Most triples one worker takes from the queue at once (one sr25519 batch).
const BATCH: usize = 64;

fn verify_worker(rx: &Mutex<mpsc::Receiver<Triple>>, failed: &AtomicBool) {
    loop {
        let batch = {
            let rx = rx.lock();
            let Ok(first) = rx.recv() else { return };
            let mut batch = vec![first];
            while batch.len() < BATCH {
                match rx.try_recv() {
                    Ok(t) => batch.push(t),
                    Err(_) => break,
                }
            }
            batch
        };
        if failed.load(Ordering::Relaxed) {
            continue; // drain: the execution will be redone anyway
        }
        if !qstack_core::verify_many(&batch).into_iter().all(|ok| ok) {
            failed.store(true, Ordering::Relaxed);
        }
    }
}

/// Externalities that hand every `verify` to a [`BatchVerifier`] and answer
/// `true` (see there). Falls back to verifying inline if the verifier has no
/// workers. No cache lookup: hashing a post-quantum triple costs the executing
/// thread more than handing it over to a spare core.
pub struct DeferredVerifyExt<'a> {
    inner: &'a mut dyn Externalities,
    verifier: &'a BatchVerifier,
}

impl<'a> DeferredVerifyExt<'a> {
    /// Wraps `inner`.
    pub fn new(inner: &'a mut dyn Externalities, verifier: &'a BatchVerifier) -> Self {
        Self { inner, verifier }
    }
}

impl Externalities for DeferredVerifyExt<'_> {
    forward_to_inner!();
    fn verify(&mut self, sig: &Signature, msg: &[u8], pk: &PublicKey) -> bool {
        if self.verifier.push((sig.clone(), msg.to_vec(), pk.clone())) {
            return true;
        }
        self.inner.verify(sig, msg, pk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qstack_core::{KeyScheme, Pair};

    fn triple(scheme: KeyScheme, msg: &[u8]) -> Triple {
        let pair = Pair::from_suri(scheme, "//Alice").expect("dev key");
        (pair.sign(msg), msg.to_vec(), pair.public())
    }

    #[test]
    fn cache_answers_only_the_exact_triple_and_stays_bounded() {
        let cache = SignatureCache::new(2);
        let (sig, msg, pk) = triple(KeyScheme::Sr25519, b"one");
        assert!(cache.is_empty());
        cache.insert(&sig, &msg, &pk);
        assert!(cache.contains(&sig, &msg, &pk));
        assert!(!cache.contains(&sig, b"two", &pk), "another message");
        let (other, _, _) = triple(KeyScheme::Sr25519, b"two");
        assert!(!cache.contains(&other, &msg, &pk), "another signature");
        let bob = Pair::from_suri(KeyScheme::Sr25519, "//Bob").expect("dev key");
        assert!(!cache.contains(&sig, &msg, &bob.public()), "another key");
        for i in 0..10u8 {
            cache.insert(&sig, &[i], &pk);
            assert!(cache.len() <= 2, "capacity exceeded: {}", cache.len());
        }
    }

    #[test]
    fn batch_verifier_reports_any_bad_signature() {
        let good: Vec<Triple> = (0..40u8)
            .map(|i| triple(KeyScheme::ALL[usize::from(i) % 4], &[i; 40]))
            .collect();
        let verifier = BatchVerifier::start(2);
        for t in &good {
            assert!(verifier.push(t.clone()));
        }
        assert!(verifier.finish(), "all good");

        let verifier = BatchVerifier::start(1);
        for (i, t) in good.iter().enumerate() {
            let mut t = t.clone();
            if i == 17 {
                t.1.push(0); // the signature no longer covers the message
            }
            verifier.push(t);
        }
        assert!(!verifier.finish(), "one bad signature must be reported");
    }

    #[test]
    fn deferred_ext_says_yes_and_hands_the_check_over() {
        let (sig, mut msg, pk) = triple(KeyScheme::Hybrid, b"block");
        msg.push(1);
        let verifier = BatchVerifier::start(1);
        let backend = qstack_trie::TrieBackend::new(
            qstack_trie::MemoryDB::default(),
            qstack_trie::empty_root(),
        );
        let mut overlay = qstack_io::OverlayedChanges::default();
        let mut base = qstack_io::OverlayExt::new(&mut overlay, &backend);
        let mut ext = DeferredVerifyExt::new(&mut base, &verifier);
        assert!(ext.verify(&sig, &msg, &pk), "answered at once");
        assert!(!verifier.finish(), "the bad signature is caught afterwards");
    }
}
