//! The storage queries of `chainHead_v1_storage` and `archive_v1_storage`:
//! parsing the `items` parameter, and reading the answers page by page so
//! that neither method holds a blocking thread, or builds a reply, larger
//! than one page.

use crate::backend::{BackendError, RpcBackend};
use crate::json;
use crate::params::{kind, parse_hex, Args};
use crate::MAX_KEYS_PAGED;
use jsonrpsee::types::ErrorObjectOwned;
use qstack_core::{hashing::blake2_256, H256};
use serde_json::{json, Map, Value};
use std::collections::VecDeque;

/// What one item asks for (the spec's `type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum QueryType {
    /// The value at the key.
    Value,
    /// The blake2-256 hash of the value at the key.
    Hash,
    /// The Merkle value of the trie node at the key or its closest descendant.
    ClosestDescendantMerkleValue,
    /// The values of every key starting with the key (itself included).
    DescendantsValues,
    /// The hashes of those values.
    DescendantsHashes,
}

impl QueryType {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "value" => QueryType::Value,
            "hash" => QueryType::Hash,
            "closestDescendantMerkleValue" => QueryType::ClosestDescendantMerkleValue,
            "descendantsValues" => QueryType::DescendantsValues,
            "descendantsHashes" => QueryType::DescendantsHashes,
            _ => return None,
        })
    }

    fn hashed(self) -> bool {
        matches!(self, QueryType::Hash | QueryType::DescendantsHashes)
    }
}

/// One requested item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Query {
    /// The key (a prefix for the descendants types).
    pub(crate) key: Vec<u8>,
    /// What to answer.
    pub(crate) ty: QueryType,
    /// `archive_v1_storage`'s `paginationStartKey`: descendants strictly
    /// after this key only.
    pub(crate) start_after: Option<Vec<u8>>,
}

/// Reads parameter `i` of `args`: an array of at most `max` objects
/// `{"key": hex, "type": …}`, plus `paginationStartKey` when
/// `with_pagination` (archive). Anything else is `-32602` naming the entry.
pub(crate) fn parse_items(
    args: &Args,
    i: usize,
    max: usize,
    with_pagination: bool,
) -> Result<Vec<Query>, ErrorObjectOwned> {
    let v = args
        .get(i)
        .ok_or_else(|| args.bad(i, "missing: expected an array of storage queries"))?;
    let items = v
        .as_array()
        .ok_or_else(|| args.bad(i, format!("expected an array of objects, got {}", kind(v))))?;
    if items.len() > max {
        return Err(args.bad(
            i,
            format!("at most {max} entries allowed, got {}", items.len()),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(n, item)| {
            parse_item(item, with_pagination).map_err(|e| args.bad(i, format!("entry {n}: {e}")))
        })
        .collect()
}

fn parse_item(item: &Value, with_pagination: bool) -> Result<Query, String> {
    let obj = item
        .as_object()
        .ok_or_else(|| format!("expected an object, got {}", kind(item)))?;
    let allowed: &[&str] = if with_pagination {
        &["key", "type", "paginationStartKey"]
    } else {
        &["key", "type"]
    };
    if let Some(unknown) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!("unknown field `{unknown}`"));
    }
    let key = hex_field(obj, "key")?.ok_or("missing `key`")?;
    let ty = match obj.get("type") {
        Some(Value::String(s)) => QueryType::parse(s).ok_or_else(|| {
            format!("unknown `type` {s:?}: expected value, hash, closestDescendantMerkleValue, descendantsValues or descendantsHashes")
        })?,
        Some(other) => return Err(format!("`type` must be a string, got {}", kind(other))),
        None => return Err("missing `type`".into()),
    };
    let start_after = hex_field(obj, "paginationStartKey")?;
    if start_after.is_some()
        && !matches!(
            ty,
            QueryType::DescendantsValues | QueryType::DescendantsHashes
        )
    {
        return Err(
            "`paginationStartKey` is only valid for descendantsValues and descendantsHashes".into(),
        );
    }
    Ok(Query {
        key,
        ty,
        start_after,
    })
}

fn hex_field(obj: &Map<String, Value>, name: &str) -> Result<Option<Vec<u8>>, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_hex(s).map(Some).map_err(|e| format!("`{name}`: {e}")),
        Some(other) => Err(format!(
            "`{name}` must be a hex string, got {}",
            kind(other)
        )),
    }
}

/// One answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Found {
    /// The storage key it is about.
    pub(crate) key: Vec<u8>,
    /// What was found there.
    pub(crate) what: FoundValue,
}

/// The value, hash or Merkle value of a [`Found`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FoundValue {
    /// `value`.
    Value(Vec<u8>),
    /// `hash`.
    Hash(H256),
    /// `closestDescendantMerkleValue`.
    Merkle(Vec<u8>),
}

impl Found {
    /// The spec's item object: `key` and one of `value`, `hash`,
    /// `closestDescendantMerkleValue`.
    pub(crate) fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("key".into(), json!(json::hex(&self.key)));
        let (name, v) = match &self.what {
            FoundValue::Value(v) => ("value", json!(json::hex(v))),
            FoundValue::Hash(h) => ("hash", json::hash(h)),
            FoundValue::Merkle(v) => ("closestDescendantMerkleValue", json!(json::hex(v))),
        };
        m.insert(name.into(), v);
        m
    }
}

/// The queries not answered yet; each call to [`Cursor::next_page`]
/// answers the next few.
#[derive(Debug)]
pub(crate) struct Cursor {
    queries: VecDeque<Query>,
}

impl Cursor {
    /// A cursor over `queries`, in order.
    pub(crate) fn new(queries: Vec<Query>) -> Self {
        Cursor {
            queries: queries.into(),
        }
    }

    /// Whether every query has been answered in full.
    pub(crate) fn is_done(&self) -> bool {
        self.queries.is_empty()
    }

    /// Up to `max` answers (at least one unless done) from the state after
    /// block `at`. A descendants query is read [`MAX_KEYS_PAGED`] keys at a
    /// time at most and resumes after its last key on the next call.
    pub(crate) fn next_page(
        &mut self,
        b: &dyn RpcBackend,
        at: H256,
        max: usize,
    ) -> Result<Vec<Found>, BackendError> {
        let mut page = Vec::new();
        while page.len() < max {
            let Some(q) = self.queries.front_mut() else {
                break;
            };
            match q.ty {
                QueryType::Value | QueryType::Hash => {
                    if let Some(v) = b.storage(at, &q.key)? {
                        page.push(found(q.key.clone(), v, q.ty.hashed()));
                    }
                    self.queries.pop_front();
                }
                QueryType::ClosestDescendantMerkleValue => {
                    if let Some(v) = b.closest_descendant_merkle_value(at, &q.key)? {
                        page.push(Found {
                            key: q.key.clone(),
                            what: FoundValue::Merkle(v),
                        });
                    }
                    self.queries.pop_front();
                }
                QueryType::DescendantsValues | QueryType::DescendantsHashes => {
                    let room = max.saturating_sub(page.len());
                    let count = u32::try_from(room)
                        .unwrap_or(MAX_KEYS_PAGED)
                        .clamp(1, MAX_KEYS_PAGED);
                    let keys = b.storage_keys_paged(at, &q.key, count, q.start_after.as_deref())?;
                    let exhausted = keys.len() < count as usize;
                    if let Some(last) = keys.last() {
                        q.start_after = Some(last.clone());
                    }
                    let hashed = q.ty.hashed();
                    for k in keys {
                        // Every listed key has a value at this block; a
                        // missing one would be a backend race, not an answer.
                        if let Some(v) = b.storage(at, &k)? {
                            page.push(found(k, v, hashed));
                        }
                    }
                    if exhausted {
                        self.queries.pop_front();
                    }
                }
            }
        }
        Ok(page)
    }
}

fn found(key: Vec<u8>, value: Vec<u8>, hashed: bool) -> Found {
    let what = if hashed {
        FoundValue::Hash(H256(blake2_256(&value)))
    } else {
        FoundValue::Value(value)
    };
    Found { key, what }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestBackend;

    fn q(key: &[u8], ty: QueryType) -> Query {
        Query {
            key: key.to_vec(),
            ty,
            start_after: None,
        }
    }

    #[test]
    fn pages_stop_at_max_and_resume_where_they_stopped() {
        let b = TestBackend::with_genesis(
            (0u8..5)
                .map(|i| (vec![b'p', i], vec![i]))
                .chain([(b"z".to_vec(), b"zz".to_vec())])
                .collect(),
        );
        let at = b.genesis_hash();
        let mut c = Cursor::new(vec![
            q(b"p", QueryType::DescendantsValues),
            q(b"z", QueryType::Hash),
            q(b"missing", QueryType::Value),
        ]);
        let mut all = Vec::new();
        let mut pages = 0;
        while !c.is_done() {
            let page = c.next_page(&b, at, 2).unwrap();
            assert!(page.len() <= 2);
            all.extend(page);
            pages += 1;
            assert!(pages < 10, "no progress");
        }
        let keys: Vec<Vec<u8>> = all.iter().map(|f| f.key.clone()).collect();
        let mut want: Vec<Vec<u8>> = (0u8..5).map(|i| vec![b'p', i]).collect();
        want.push(b"z".to_vec());
        assert_eq!(keys, want);
        assert_eq!(
            all.last().map(|f| f.what.clone()),
            Some(FoundValue::Hash(H256(blake2_256(b"zz"))))
        );
    }

    #[test]
    fn items_are_checked() {
        let p = jsonrpsee::types::Params::new(Some(
            r#"[[{"key":"0x01","type":"value"},{"key":"0x02","type":"nope"}]]"#,
        ));
        let args = Args::new(&p, &["items"]).unwrap();
        let e = parse_items(&args, 0, 10, false).unwrap_err();
        assert!(e.message().contains("entry 1"), "{}", e.message());
        let p = jsonrpsee::types::Params::new(Some(
            r#"[[{"key":"0x01","type":"value","paginationStartKey":"0x02"}]]"#,
        ));
        let args = Args::new(&p, &["items"]).unwrap();
        assert!(parse_items(&args, 0, 10, false).is_err());
        assert!(
            parse_items(&args, 0, 10, true).is_err(),
            "value takes no start key"
        );
    }
}
