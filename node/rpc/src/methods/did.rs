//! DID and credential methods over the runtime's `DidApi`:
//! `did_resolve(did)` and `did_resolveAt(did, block)` return a W3C DID
//! Resolution result (`didDocument`, `didDocumentMetadata`,
//! `didResolutionMetadata`); `vc_status(hash)` a credential's status and
//! issuers; `did_messages(did)` a DID's inbox; `did_next(account)` the DID
//! an account would create next.
//!
//! How a document is written (pinned by `tests/it/did.golden.json`):
//! - an account method is a `BlockchainVerificationMethod2021` with a
//!   CAIP-10 `blockchainAccountId` `qstack:<first 16 bytes of the genesis
//!   hash, hex>:<q… address>`;
//! - a key is a `QstackPublicKey2026` whose `publicKeyMultibase` is `u` and
//!   the base64url of the key's SCALE encoding (scheme tag, then the key:
//!   Falcon-512 and ML-DSA-44 have no registered multicodec yet), with its
//!   scheme named in `keyScheme` (`sr25519`, `falcon512`, `mldsa44`,
//!   `hybrid`, `mlkem768`);
//! - relationships list method ids; `created`/`updated` are the block
//!   timestamps (UTC, seconds), `versionId` the update counter.

use super::{blocking, Module, Res};
use crate::backend::RpcBackend;
use crate::error::RpcError;
use crate::params::{parse_block_number, parse_hash, Args};
use crate::runtime::{answer, At};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use codec::Encode;
use jsonrpsee::types::Params;
use qstack_core::{Address, BlockNumber, H256};
use qstack_runtime::apis::client::DidApi;
use qstack_runtime::did::{
    self, format_did, parse_did, rel, CredentialStatus, Did, DidRecord, KeyMaterial,
};
use serde_json::{json, Map, Value};

const FAILED: &str = "Unable to query DIDs.";

pub(super) fn register(m: &mut Module) -> Result<(), RpcError> {
    blocking(m, "did_resolve", did_resolve)?;
    blocking(m, "did_resolveAt", did_resolve_at)?;
    blocking(m, "did_messages", did_messages)?;
    blocking(m, "did_next", did_next)?;
    blocking(m, "vc_status", vc_status)?;
    Ok(())
}

fn did_param(args: &Args, i: usize) -> Res<Did> {
    let s = args.string(i)?;
    parse_did(&s).map_err(|e| args.bad(i, format!("not a did:qs DID: {e}")))
}

/// `did_resolve(did)`: the DID at the best block.
fn did_resolve(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["did"])?;
    let did = did_param(&args, 0)?;
    resolve(b, b.chain_info().best_hash, &did)
}

/// `did_resolveAt(did, block)`: the DID as it was at a block (its number or
/// hash).
fn did_resolve_at(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["did", "block"])?;
    let did = did_param(&args, 0)?;
    let at = block_param(&args, 1, b)?;
    resolve(b, at, &did)
}

fn block_param(args: &Args, i: usize, b: &dyn RpcBackend) -> Res<H256> {
    let v = args
        .get(i)
        .ok_or_else(|| args.bad(i, "expected a block number or hash"))?;
    if let Some(s) = v.as_str().filter(|s| s.starts_with("0x") && s.len() == 66) {
        let h = parse_hash(s).map_err(|e| args.bad(i, e))?;
        return match b.header(h) {
            Ok(Some(_)) => Ok(h),
            _ => Err(args.bad(i, format!("no block {s} on this node"))),
        };
    }
    let n = parse_block_number(v).map_err(|e| args.bad(i, e))?;
    match b.block_hash(n) {
        Ok(Some(h)) => Ok(h),
        _ => Err(args.bad(i, format!("no block #{n} on this node"))),
    }
}

fn resolve(b: &dyn RpcBackend, at: H256, did: &Did) -> Res<Value> {
    let rec = answer(FAILED, DidApi::did_record(&At(b, at), *did))?;
    let genesis = b.chain_info().genesis_hash;
    Ok(match rec {
        None => json!({
            "didDocument": Value::Null,
            "didDocumentMetadata": {},
            "didResolutionMetadata": { "error": "notFound" },
        }),
        Some(rec) => json!({
            "didDocument": document_json(did, &rec, &genesis),
            "didDocumentMetadata": metadata_json(b, &rec),
            "didResolutionMetadata": { "contentType": "application/did+json" },
        }),
    })
}

/// The CAIP-10 chain id of this chain: `qstack:` and the first 16 bytes of
/// the genesis hash in hex.
pub(crate) fn caip2(genesis: &H256) -> String {
    format!("qstack:{}", hex::encode(&genesis.0[..16]))
}

fn scheme_name(m: &KeyMaterial) -> &'static str {
    match m {
        KeyMaterial::Key(k) => k.scheme().name(),
        KeyMaterial::MlKem768(_) => "mlkem768",
        KeyMaterial::Account(_) => "account",
    }
}

/// A key's `publicKeyMultibase`: `u` + base64url (no padding) of its SCALE
/// encoding (an ML-KEM key: tag 0x80 then its bytes). Not base58btc: its
/// quadratic encoding of a 2.2 KB hybrid key cost 18 ms a resolution.
pub(crate) fn multibase(m: &KeyMaterial) -> Option<String> {
    let bytes = match m {
        KeyMaterial::Key(k) => k.encode(),
        KeyMaterial::MlKem768(k) => [&[0x80u8][..], k].concat(),
        KeyMaterial::Account(_) => return None,
    };
    Some(format!("u{}", B64.encode(bytes)))
}

/// The DID Core JSON of a stored record.
pub fn document_json(did: &Did, rec: &DidRecord, genesis: &H256) -> Value {
    let id = format_did(did);
    let mut doc = Map::new();
    doc.insert("@context".into(), json!(["https://www.w3.org/ns/did/v1"]));
    doc.insert("id".into(), json!(id));
    let d = &rec.document;
    if !d.controllers.is_empty() {
        let c: Vec<String> = d.controllers.iter().map(format_did).collect();
        doc.insert("controller".into(), json!(c));
    }
    if !d.also_known_as.is_empty() {
        let a: Vec<String> = d
            .also_known_as
            .iter()
            .map(|u| String::from_utf8_lossy(u).into_owned())
            .collect();
        doc.insert("alsoKnownAs".into(), json!(a));
    }
    let method_id =
        |m: &did::VerificationMethod| format!("{id}#{}", String::from_utf8_lossy(&m.id));
    if !d.methods.is_empty() {
        let methods: Vec<Value> = d
            .methods
            .iter()
            .map(|m| match &m.material {
                KeyMaterial::Account(a) => json!({
                    "id": method_id(m),
                    "type": "BlockchainVerificationMethod2021",
                    "controller": id,
                    "blockchainAccountId": format!("{}:{}", caip2(genesis), Address::from(*a)),
                }),
                other => json!({
                    "id": method_id(m),
                    "type": "QstackPublicKey2026",
                    "controller": id,
                    "keyScheme": scheme_name(other),
                    "publicKeyMultibase": multibase(other),
                }),
            })
            .collect();
        doc.insert("verificationMethod".into(), json!(methods));
    }
    for (bit, name) in rel::NAMES {
        let ids: Vec<String> = d
            .methods
            .iter()
            .filter(|m| m.relationships & bit != 0)
            .map(method_id)
            .collect();
        if !ids.is_empty() {
            doc.insert(name.into(), json!(ids));
        }
    }
    if !d.services.is_empty() {
        let s: Vec<Value> = d
            .services
            .iter()
            .map(|s| {
                json!({
                    "id": format!("{id}#{}", String::from_utf8_lossy(&s.id)),
                    "type": String::from_utf8_lossy(&s.service_type),
                    "serviceEndpoint": String::from_utf8_lossy(&s.endpoint),
                })
            })
            .collect();
        doc.insert("service".into(), json!(s));
    }
    Value::Object(doc)
}

fn metadata_json(b: &dyn RpcBackend, rec: &DidRecord) -> Value {
    let mut m = Map::new();
    if let Some(t) = block_time(b, rec.created) {
        m.insert("created".into(), json!(t));
    }
    if rec.counter > 0 {
        if let Some(t) = block_time(b, rec.updated) {
            m.insert("updated".into(), json!(t));
        }
    }
    m.insert("versionId".into(), json!(rec.counter.to_string()));
    m.insert("deactivated".into(), json!(rec.deactivated));
    m.insert("createdBlock".into(), json!(rec.created));
    m.insert("updatedBlock".into(), json!(rec.updated));
    Value::Object(m)
}

/// The timestamp of block `n` (its `Timestamp.Now`), as an XML Schema
/// dateTime in UTC to the second, as DID Core asks.
fn block_time(b: &dyn RpcBackend, n: BlockNumber) -> Option<String> {
    let hash = b.block_hash(n).ok()??;
    let raw = b
        .storage(hash, &qstack_runtime::timestamp::Now::key())
        .ok()??;
    let ms = <u64 as codec::Decode>::decode(&mut &raw[..]).ok()?;
    Some(utc(ms / 1000))
}

/// `YYYY-MM-DDThh:mm:ssZ` of a Unix time (Hinnant's civil-from-days).
pub(crate) fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// `did_next(account)`: the DID `account` would create with its next
/// `create`.
fn did_next(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["account"])?;
    let who = args.account(0)?;
    let best = b.chain_info().best_hash;
    let did = answer(FAILED, DidApi::did_next(&At(b, best), who))?;
    Ok(json!(format_did(&did)))
}

/// `did_messages(did)`: the encrypted messages waiting in a DID's inbox,
/// oldest first (bytes as `0x…` hex).
fn did_messages(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["did"])?;
    let did = did_param(&args, 0)?;
    let best = b.chain_info().best_hash;
    let list = answer(FAILED, DidApi::did_inbox(&At(b, best), did))?;
    let out: Vec<Value> = list
        .iter()
        .map(|(seq, m)| {
            json!({
                "seq": seq,
                "from": format_did(&m.from),
                "key": format!("{}#{}", format_did(&did), String::from_utf8_lossy(&m.key)),
                "kemCiphertext": crate::json::hex(&m.kem_ciphertext),
                "nonce": crate::json::hex(&m.nonce),
                "ciphertext": crate::json::hex(&m.ciphertext),
                "sentBlock": m.sent,
                "payer": Address::from(m.payer).to_string(),
            })
        })
        .collect();
    Ok(json!(out))
}

/// `vc_status(hash)`: a registered credential's status (`issued`,
/// `revoked`, `suspended` or `rejected`), its issuers and its status-list
/// entry; `null` if no credential has this hash.
fn vc_status(p: &Params, b: &dyn RpcBackend) -> Res<Value> {
    let args = Args::new(p, &["hash", "at"])?;
    let s = args.string(0)?;
    let hash = parse_hash(&s)
        .map_err(|e| args.bad(0, format!("expected the credential's 0x hash: {e}")))?;
    let at = super::at_or_best(b, args.opt_hash(1)?);
    let Some((c, status)) = answer(FAILED, DidApi::did_credential(&At(b, at), hash))? else {
        return Ok(Value::Null);
    };
    let reg = &c.registration;
    let name = match status {
        CredentialStatus::Issued => "issued",
        CredentialStatus::Revoked => "revoked",
        CredentialStatus::Suspended => "suspended",
        CredentialStatus::Rejected => "rejected",
    };
    let entry = match (reg.issuers.first(), reg.status) {
        (Some(lead), Some(e)) => json!({
            "statusListCredential": format!("{}/status/{}", format_did(lead), e.list),
            "statusListIndex": e.index.to_string(),
        }),
        _ => Value::Null,
    };
    Ok(json!({
        "hash": crate::json::hex(&reg.hash.0),
        "status": name,
        "subject": format_did(&reg.subject),
        "schema": crate::json::hex(&reg.schema.0),
        "issuers": reg.issuers.iter().map(format_did).collect::<Vec<_>>(),
        "signedBy": c.signed_by.iter().map(format_did).collect::<Vec<_>>(),
        "threshold": reg.threshold,
        "revocable": reg.revocable,
        "statusEntry": entry,
        "issuedBlock": c.issued,
    }))
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn utc_times() {
        assert_eq!(utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(utc(1_796_342_399), "2026-12-03T23:59:59Z");
    }
}
