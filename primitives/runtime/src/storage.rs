//! Typed storage items over `qstack_io::storage`, keyed the Substrate way:
//! `twox128(pallet) ++ twox128(item) ++ hasher(key)`, so generic clients can
//! compute keys from metadata and a pallet's items can be iterated and proven.

use alloc::vec::Vec;
use codec::{Decode, Encode, FullCodec};
use core::marker::PhantomData;
use qstack_io::{hashing, storage, ClearPrefixResult};
use scale_info::{meta_type, MetaType, StaticTypeInfo};

/// How a map key is hashed into the storage key (Substrate's hashers).
pub trait KeyHasher {
    /// Hashes the encoded key.
    fn hash(encoded: &[u8]) -> Vec<u8>;
    /// Metadata kind.
    const KIND: HasherKind;
}

/// Hasher kinds, in frame-metadata's `StorageHasher` order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HasherKind {
    /// blake2-128 of the key, then the key.
    Blake2_128Concat,
    /// twox-64 of the key, then the key (only for keys users cannot choose).
    Twox64Concat,
    /// The key itself.
    Identity,
}

/// `blake2_128(key) ++ key`: for keys that users can choose.
pub struct Blake2_128Concat;
impl KeyHasher for Blake2_128Concat {
    fn hash(encoded: &[u8]) -> Vec<u8> {
        let mut out = hashing::blake2_128(encoded).to_vec();
        out.extend_from_slice(encoded);
        out
    }
    const KIND: HasherKind = HasherKind::Blake2_128Concat;
}

/// `twox_64(key) ++ key`: fast, for keys users cannot choose (indices).
pub struct Twox64Concat;
impl KeyHasher for Twox64Concat {
    fn hash(encoded: &[u8]) -> Vec<u8> {
        let mut out = hashing::twox_64(encoded).to_vec();
        out.extend_from_slice(encoded);
        out
    }
    const KIND: HasherKind = HasherKind::Twox64Concat;
}

/// The key itself: for keys that are already hashes.
pub struct Identity;
impl KeyHasher for Identity {
    fn hash(encoded: &[u8]) -> Vec<u8> {
        encoded.to_vec()
    }
    const KIND: HasherKind = HasherKind::Identity;
}

/// Names an item: pallet and item name (both appear in metadata).
pub trait StorageInstance {
    /// Pallet name, e.g. `"System"`.
    const PALLET: &'static str;
    /// Item name, e.g. `"Number"`.
    const ITEM: &'static str;
}

/// Declares a [`StorageInstance`] type.
#[macro_export]
macro_rules! storage_instance {
    ($(#[$m:meta])* $vis:vis $name:ident, $pallet:expr, $item:expr) => {
        $(#[$m])*
        $vis struct $name;
        impl $crate::storage::StorageInstance for $name {
            const PALLET: &'static str = $pallet;
            const ITEM: &'static str = $item;
        }
    };
}

/// `twox128(pallet) ++ twox128(item)`.
pub fn item_prefix(pallet: &str, item: &str) -> [u8; 32] {
    let mut k = [0u8; 32];
    let (a, b) = k.split_at_mut(16);
    a.copy_from_slice(&hashing::twox_128(pallet.as_bytes()));
    b.copy_from_slice(&hashing::twox_128(item.as_bytes()));
    k
}

/// Reads and decodes; an undecodable value is treated as corrupt state and
/// logged, and reads as absent (the runtime never panics on state).
pub fn get_decoded<V: Decode>(key: &[u8]) -> Option<V> {
    let raw = storage::get(key)?;
    match V::decode(&mut &raw[..]) {
        Ok(v) => Some(v),
        Err(_) => {
            qstack_io::logging::log(
                qstack_io::LogLevel::Error,
                "storage",
                "undecodable value in state",
            );
            None
        }
    }
}

/// Shape of a storage item, for metadata.
#[derive(Clone, Debug)]
pub enum EntryKind {
    /// A single value.
    Plain(MetaType),
    /// A map (one or two keys).
    Map {
        /// Hasher per key.
        hashers: Vec<HasherKind>,
        /// The key type (a tuple for double maps).
        key: MetaType,
        /// The value type.
        value: MetaType,
    },
}

/// A storage item's description for metadata.
#[derive(Clone, Debug)]
pub struct EntryMeta {
    /// Item name.
    pub name: &'static str,
    /// Shape.
    pub kind: EntryKind,
    /// Whether an absent value reads as the type's default (else `None`).
    pub default: Option<Vec<u8>>,
    /// Documentation.
    pub docs: &'static str,
}

impl EntryMeta {
    /// The same entry, read as `default` (an encoded value) when absent.
    fn with_default(mut self, default: Vec<u8>) -> Self {
        self.default = Some(default);
        self
    }
}

/// A single value.
pub struct StorageValue<I, V>(PhantomData<(I, V)>);

impl<I: StorageInstance, V: FullCodec> StorageValue<I, V> {
    /// The storage key.
    pub fn key() -> [u8; 32] {
        item_prefix(I::PALLET, I::ITEM)
    }
    /// The value, if set.
    pub fn get() -> Option<V> {
        get_decoded(&Self::key())
    }
    /// Sets it.
    pub fn put(v: &V) {
        storage::set(&Self::key(), &v.encode())
    }
    /// Removes it.
    pub fn kill() {
        storage::clear(&Self::key())
    }
    /// Whether it is set.
    pub fn exists() -> bool {
        storage::exists(&Self::key())
    }
    /// Changes it in place.
    pub fn mutate<R>(f: impl FnOnce(&mut Option<V>) -> R) -> R {
        let mut v = Self::get();
        let r = f(&mut v);
        match v {
            Some(v) => Self::put(&v),
            None => Self::kill(),
        }
        r
    }
}

impl<I: StorageInstance, V: FullCodec + Default> StorageValue<I, V> {
    /// The value or its default.
    pub fn get_or_default() -> V {
        Self::get().unwrap_or_default()
    }
}

impl<I: StorageInstance, V: FullCodec + StaticTypeInfo> StorageValue<I, V> {
    /// Metadata entry (optional modifier).
    pub fn meta(docs: &'static str) -> EntryMeta {
        EntryMeta {
            name: I::ITEM,
            kind: EntryKind::Plain(meta_type::<V>()),
            default: None,
            docs,
        }
    }
}

impl<I: StorageInstance, V: FullCodec + StaticTypeInfo + Default> StorageValue<I, V> {
    /// Metadata entry whose absence reads as `V::default()` (Substrate's
    /// `ValueQuery`): clients get the value type, not an `Option`.
    pub fn meta_value_query(docs: &'static str) -> EntryMeta {
        Self::meta(docs).with_default(V::default().encode())
    }
}

/// A map from `K` to `V`.
pub struct StorageMap<I, H, K, V>(PhantomData<(I, H, K, V)>);

impl<I: StorageInstance, H: KeyHasher, K: Encode + Decode, V: FullCodec> StorageMap<I, H, K, V> {
    /// The item's key prefix.
    pub fn prefix() -> [u8; 32] {
        item_prefix(I::PALLET, I::ITEM)
    }
    /// The storage key of `k`.
    pub fn key(k: &K) -> Vec<u8> {
        let mut key = Self::prefix().to_vec();
        key.extend_from_slice(&H::hash(&k.encode()));
        key
    }
    /// The value at `k`.
    pub fn get(k: &K) -> Option<V> {
        get_decoded(&Self::key(k))
    }
    /// Sets `k`.
    pub fn insert(k: &K, v: &V) {
        storage::set(&Self::key(k), &v.encode())
    }
    /// Removes `k`.
    pub fn remove(k: &K) {
        storage::clear(&Self::key(k))
    }
    /// Whether `k` is set.
    pub fn contains_key(k: &K) -> bool {
        storage::exists(&Self::key(k))
    }
    /// Changes the value at `k` in place.
    pub fn mutate<R>(k: &K, f: impl FnOnce(&mut Option<V>) -> R) -> R {
        let key = Self::key(k);
        let mut v = get_decoded(&key);
        let r = f(&mut v);
        match v {
            Some(v) => storage::set(&key, &v.encode()),
            None => storage::clear(&key),
        }
        r
    }
    /// Removes up to `limit` entries.
    pub fn clear(limit: Option<u32>) -> ClearPrefixResult {
        storage::clear_prefix(&Self::prefix(), limit)
    }
    /// Every (key, value) pair, in storage-key order. Only for hashers that
    /// keep the key (`*Concat`, `Identity`); used by `try_state` and RPC, never
    /// by dispatch (unbounded).
    pub fn iter() -> Vec<(K, V)> {
        let prefix = Self::prefix();
        let skip = match H::KIND {
            HasherKind::Blake2_128Concat => 16,
            HasherKind::Twox64Concat => 8,
            HasherKind::Identity => 0,
        };
        let mut out = Vec::new();
        let mut cursor = prefix.to_vec();
        while let Some(k) = storage::next_key(&cursor) {
            if !k.starts_with(&prefix) {
                break;
            }
            let key_part = k
                .get(prefix.len().saturating_add(skip)..)
                .unwrap_or_default();
            if let (Ok(key), Some(v)) = (K::decode(&mut &key_part[..]), get_decoded::<V>(&k)) {
                out.push((key, v));
            }
            cursor = k;
        }
        out
    }
}

impl<
        I: StorageInstance,
        H: KeyHasher,
        K: FullCodec + StaticTypeInfo,
        V: FullCodec + StaticTypeInfo,
    > StorageMap<I, H, K, V>
{
    /// Metadata entry.
    pub fn meta(docs: &'static str) -> EntryMeta {
        EntryMeta {
            name: I::ITEM,
            kind: EntryKind::Map {
                hashers: alloc::vec![H::KIND],
                key: meta_type::<K>(),
                value: meta_type::<V>(),
            },
            default: None,
            docs,
        }
    }
}

impl<
        I: StorageInstance,
        H: KeyHasher,
        K: FullCodec + StaticTypeInfo,
        V: FullCodec + StaticTypeInfo + Default,
    > StorageMap<I, H, K, V>
{
    /// Metadata entry whose absent keys read as `V::default()` (Substrate's
    /// `ValueQuery`).
    pub fn meta_value_query(docs: &'static str) -> EntryMeta {
        Self::meta(docs).with_default(V::default().encode())
    }
}

/// A map from `(K1, K2)` to `V`, keyed `prefix ++ H1(k1) ++ H2(k2)`, so every
/// entry under one `k1` can be iterated (an account's holdings, an issuer's
/// tokens). Substrate's `StorageDoubleMap` layout.
pub struct StorageDoubleMap<I, H1, K1, H2, K2, V>(PhantomData<(I, H1, K1, H2, K2, V)>);

fn hash_skip(kind: HasherKind) -> usize {
    match kind {
        HasherKind::Blake2_128Concat => 16,
        HasherKind::Twox64Concat => 8,
        HasherKind::Identity => 0,
    }
}

impl<I, H1, K1, H2, K2, V> StorageDoubleMap<I, H1, K1, H2, K2, V>
where
    I: StorageInstance,
    H1: KeyHasher,
    K1: Encode + Decode,
    H2: KeyHasher,
    K2: Encode + Decode,
    V: FullCodec,
{
    /// The item's key prefix.
    pub fn prefix() -> [u8; 32] {
        item_prefix(I::PALLET, I::ITEM)
    }
    /// The key prefix of every entry under `k1`.
    pub fn prefix_of(k1: &K1) -> Vec<u8> {
        let mut key = Self::prefix().to_vec();
        key.extend_from_slice(&H1::hash(&k1.encode()));
        key
    }
    /// The storage key of `(k1, k2)`.
    pub fn key(k1: &K1, k2: &K2) -> Vec<u8> {
        let mut key = Self::prefix_of(k1);
        key.extend_from_slice(&H2::hash(&k2.encode()));
        key
    }
    /// The value at `(k1, k2)`.
    pub fn get(k1: &K1, k2: &K2) -> Option<V> {
        get_decoded(&Self::key(k1, k2))
    }
    /// Sets `(k1, k2)`.
    pub fn insert(k1: &K1, k2: &K2, v: &V) {
        storage::set(&Self::key(k1, k2), &v.encode())
    }
    /// Removes `(k1, k2)`.
    pub fn remove(k1: &K1, k2: &K2) {
        storage::clear(&Self::key(k1, k2))
    }
    /// Whether `(k1, k2)` is set.
    pub fn contains_key(k1: &K1, k2: &K2) -> bool {
        storage::exists(&Self::key(k1, k2))
    }
    /// Changes the value at `(k1, k2)` in place.
    pub fn mutate<R>(k1: &K1, k2: &K2, f: impl FnOnce(&mut Option<V>) -> R) -> R {
        let key = Self::key(k1, k2);
        let mut v = get_decoded(&key);
        let r = f(&mut v);
        match v {
            Some(v) => storage::set(&key, &v.encode()),
            None => storage::clear(&key),
        }
        r
    }
    /// Every `(k2, value)` under `k1`, in storage-key order. Needs a `*Concat`
    /// or `Identity` second hasher; for RPC and `try_state`, never dispatch
    /// (the caller bounds the number of entries).
    pub fn iter_prefix(k1: &K1) -> Vec<(K2, V)> {
        let prefix = Self::prefix_of(k1);
        let mut out = Vec::new();
        let mut cursor = prefix.clone();
        while let Some(k) = storage::next_key(&cursor) {
            if !k.starts_with(&prefix) {
                break;
            }
            let mut rest = k
                .get(prefix.len().saturating_add(hash_skip(H2::KIND))..)
                .unwrap_or_default();
            if let (Ok(k2), Some(v)) = (K2::decode(&mut rest), get_decoded::<V>(&k)) {
                out.push((k2, v));
            }
            cursor = k;
        }
        out
    }
    /// Every `(k1, k2, value)`, in storage-key order. Needs `*Concat` or
    /// `Identity` hashers; for `try_state` and RPC only (unbounded).
    pub fn iter() -> Vec<(K1, K2, V)> {
        let prefix = Self::prefix();
        let mut out = Vec::new();
        let mut cursor = prefix.to_vec();
        while let Some(k) = storage::next_key(&cursor) {
            if !k.starts_with(&prefix) {
                break;
            }
            let mut rest = k
                .get(prefix.len().saturating_add(hash_skip(H1::KIND))..)
                .unwrap_or_default();
            if let Ok(k1) = K1::decode(&mut rest) {
                let mut rest = rest.get(hash_skip(H2::KIND)..).unwrap_or_default();
                if let (Ok(k2), Some(v)) = (K2::decode(&mut rest), get_decoded::<V>(&k)) {
                    out.push((k1, k2, v));
                }
            }
            cursor = k;
        }
        out
    }
}

impl<I, H1, K1, H2, K2, V> StorageDoubleMap<I, H1, K1, H2, K2, V>
where
    I: StorageInstance,
    H1: KeyHasher,
    K1: FullCodec + StaticTypeInfo,
    H2: KeyHasher,
    K2: FullCodec + StaticTypeInfo,
    V: FullCodec + StaticTypeInfo,
{
    /// Metadata entry: two hashers, the key as the tuple `(K1, K2)`.
    pub fn meta(docs: &'static str) -> EntryMeta {
        EntryMeta {
            name: I::ITEM,
            kind: EntryKind::Map {
                hashers: alloc::vec![H1::KIND, H2::KIND],
                key: meta_type::<(K1, K2)>(),
                value: meta_type::<V>(),
            },
            default: None,
            docs,
        }
    }
}

impl<
        I: StorageInstance,
        H1: KeyHasher,
        K1: FullCodec + StaticTypeInfo,
        H2: KeyHasher,
        K2: FullCodec + StaticTypeInfo,
        V: FullCodec + StaticTypeInfo + Default,
    > StorageDoubleMap<I, H1, K1, H2, K2, V>
{
    /// Metadata entry whose absent keys read as `V::default()` (Substrate's
    /// `ValueQuery`).
    pub fn meta_value_query(docs: &'static str) -> EntryMeta {
        Self::meta(docs).with_default(V::default().encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qstack_io::TestExternalities;

    crate::storage_instance!(Pairs, "Test", "Pairs");
    crate::storage_instance!(Other, "Test", "Other");
    type Map = StorageDoubleMap<Pairs, Blake2_128Concat, u32, Twox64Concat, u16, u64>;
    type Neighbour = StorageMap<Other, Blake2_128Concat, u32, u64>;

    #[test]
    fn double_map_keys_iterate_by_first_key() {
        TestExternalities::new().execute_with(|| {
            Map::insert(&1, &10, &100);
            Map::insert(&1, &11, &110);
            Map::insert(&2, &10, &200);
            Neighbour::insert(&1, &7);
            assert_eq!(Map::get(&1, &10), Some(100));
            assert_eq!(Map::get(&2, &11), None);
            let mut under_1 = Map::iter_prefix(&1);
            under_1.sort();
            assert_eq!(under_1, vec![(10, 100), (11, 110)]);
            assert_eq!(Map::iter_prefix(&3), vec![]);
            let mut all = Map::iter();
            all.sort();
            assert_eq!(all, vec![(1, 10, 100), (1, 11, 110), (2, 10, 200)]);
            Map::mutate(&1, &10, |v| *v = None);
            assert!(!Map::contains_key(&1, &10));
            Map::remove(&1, &11);
            assert_eq!(Map::iter(), vec![(2, 10, 200)]);
            // The layout is Substrate's: prefix ++ blake2_128concat(k1) ++ twox64concat(k2).
            let mut key = item_prefix("Test", "Pairs").to_vec();
            key.extend(Blake2_128Concat::hash(&2u32.encode()));
            key.extend(Twox64Concat::hash(&10u16.encode()));
            assert_eq!(Map::key(&2, &10), key);
            assert_eq!(Neighbour::get(&1), Some(7));
        });
    }
}
