//! The wallet side of DIDs: credentials with selectively disclosable claims
//! (SD-JWT's salted-digest disclosures inside a W3C VC 2.0 JSON), their
//! registration for the chain, presentations of chosen claims, and
//! encrypted messages to an ML-KEM-768 `keyAgreement` key.
//!
//! **Credential hash.** The chain registers blake2-256 of the credential's
//! canonical JSON (object keys sorted, no whitespace). Claims never appear
//! in it: `credentialSubject._sd` lists, sorted, the base64url SHA-256
//! digest of each claim's disclosure `base64url(["<salt>", "<name>",
//! <value>])`, so a holder can reveal one claim (its disclosure) and a
//! verifier checks it against the registered hash while the salted digests
//! of the others reveal nothing.
//!
//! **Messages.** The sender encapsulates to the recipient's ML-KEM-768 key
//! (FIPS 203), derives a ChaCha20-Poly1305 key with HKDF-SHA256 from the
//! shared secret, bound to both DIDs and the key id, and authenticates the
//! KEM ciphertext as associated data. A wrong key or any changed byte fails
//! to decrypt.

use anyhow::{anyhow, bail, ensure, Context, Result};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::ChaCha20Poly1305;
use qstack_core::H256;
use qstack_runtime::did::{format_did, parse_did, Did, Registration, StatusRef};
use rand_core::{OsRng, RngCore};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Canonical JSON: keys sorted (serde_json's map is ordered), compact.
pub fn canonical(v: &Value) -> Vec<u8> {
    fn sort(v: &Value) -> Value {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut out = Map::new();
                for k in keys {
                    out.insert(k.clone(), sort(&m[k]));
                }
                Value::Object(out)
            }
            Value::Array(a) => Value::Array(a.iter().map(sort).collect()),
            other => other.clone(),
        }
    }
    serde_json::to_vec(&sort(v)).unwrap_or_default()
}

/// The hash the chain registers for `credential`.
pub fn credential_hash(credential: &Value) -> H256 {
    H256(qstack_core::hashing::blake2_256(&canonical(credential)))
}

/// The schema hash of a schema URI (blake2-256 of its bytes).
pub fn schema_hash(uri: &str) -> H256 {
    H256(qstack_core::hashing::blake2_256(uri.as_bytes()))
}

fn digest(disclosure: &str) -> String {
    B64.encode(Sha256::digest(disclosure.as_bytes()))
}

/// What a new credential says.
pub struct NewCredential<'a> {
    /// Its issuers (the first keeps its status list).
    pub issuers: &'a [Did],
    /// How many of them must sign.
    pub threshold: u8,
    /// The holder.
    pub subject: Did,
    /// The schema's URI.
    pub schema: &'a str,
    /// The claims, by name.
    pub claims: &'a Map<String, Value>,
    /// Its status-list entry, if revocable.
    pub status: Option<StatusRef>,
}

/// Builds a credential and the disclosures of its claims (the holder's
/// secret: whoever has a disclosure learns that claim).
pub fn new_credential(c: &NewCredential<'_>) -> Result<(Value, Vec<String>)> {
    ensure!(!c.issuers.is_empty(), "a credential needs an issuer");
    let mut disclosures = Vec::new();
    let mut digests = Vec::new();
    for (name, value) in c.claims {
        let mut salt = [0u8; 16];
        OsRng.fill_bytes(&mut salt);
        let d = B64.encode(serde_json::to_vec(&json!([B64.encode(salt), name, value]))?);
        digests.push(digest(&d));
        disclosures.push(d);
    }
    digests.sort();
    let issuers: Vec<String> = c.issuers.iter().map(format_did).collect();
    let mut vc = json!({
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": issuers[0],
        "qstackIssuers": issuers,
        "qstackThreshold": c.threshold,
        "credentialSchema": { "id": c.schema, "type": "JsonSchema" },
        "credentialSubject": { "id": format_did(&c.subject), "_sd": digests },
        "_sd_alg": "sha-256",
    });
    if let Some(s) = c.status {
        vc["credentialStatus"] = json!([
            status_entry(&c.issuers[0], s, "revocation"),
            status_entry(&c.issuers[0], s, "suspension"),
        ]);
    }
    Ok((vc, disclosures))
}

fn status_entry(lead: &Did, s: StatusRef, purpose: &str) -> Value {
    let list = format!("{}/status/{}", format_did(lead), s.list);
    json!({
        "id": format!("{list}/{purpose}#{}", s.index),
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": s.index.to_string(),
        "statusListCredential": format!("{list}/{purpose}"),
    })
}

fn did_at(v: &Value, what: &str) -> Result<Did> {
    let s = v
        .as_str()
        .ok_or_else(|| anyhow!("the credential's {what} is not a string"))?;
    parse_did(s).map_err(|e| anyhow!("the credential's {what} {s:?}: {e}"))
}

/// The registration the chain checks for `credential`.
pub fn registration(credential: &Value) -> Result<Registration> {
    let issuers = credential["qstackIssuers"]
        .as_array()
        .ok_or_else(|| anyhow!("the credential has no qstackIssuers list"))?
        .iter()
        .map(|v| did_at(v, "issuer"))
        .collect::<Result<Vec<_>>>()?;
    let threshold = credential["qstackThreshold"]
        .as_u64()
        .and_then(|t| u8::try_from(t).ok())
        .ok_or_else(|| anyhow!("the credential's qstackThreshold is not a number 1-255"))?;
    let subject = did_at(
        &credential["credentialSubject"]["id"],
        "credentialSubject.id",
    )?;
    let schema = credential["credentialSchema"]["id"]
        .as_str()
        .ok_or_else(|| anyhow!("the credential has no credentialSchema.id"))?;
    let status = match credential["credentialStatus"]
        .as_array()
        .and_then(|a| a.first())
    {
        None => None,
        Some(e) => {
            let index: u32 = e["statusListIndex"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| anyhow!("credentialStatus: bad statusListIndex"))?;
            let list: u32 = e["statusListCredential"]
                .as_str()
                .and_then(|s| s.split('/').nth(2))
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| anyhow!("credentialStatus: bad statusListCredential"))?;
            Some(StatusRef { list, index })
        }
    };
    Ok(Registration {
        hash: credential_hash(credential),
        schema: schema_hash(schema),
        subject,
        issuers,
        threshold,
        revocable: status.is_some(),
        status,
    })
}

/// A presentation revealing the claims named in `reveal` (and nothing of
/// the others): the credential and those claims' disclosures.
pub fn present(credential: &Value, disclosures: &[String], reveal: &[String]) -> Result<Value> {
    let mut chosen = Vec::new();
    for name in reveal {
        let d = disclosures
            .iter()
            .find(|d| decode_disclosure(d).is_ok_and(|(_, n, _)| &n == name))
            .ok_or_else(|| anyhow!("no disclosure of a claim named {name:?}"))?;
        chosen.push(d.clone());
    }
    Ok(json!({ "credential": credential, "disclosures": chosen }))
}

fn decode_disclosure(d: &str) -> Result<(String, String, Value)> {
    let raw = B64.decode(d).context("a disclosure is not base64url")?;
    let v: Value = serde_json::from_slice(&raw).context("a disclosure is not JSON")?;
    match v.as_array().map(|a| a.as_slice()) {
        Some([Value::String(salt), Value::String(name), value]) => {
            Ok((salt.clone(), name.clone(), value.clone()))
        }
        _ => bail!("a disclosure is not [salt, name, value]"),
    }
}

/// Checks each disclosure of `presentation` against the credential's
/// digests; returns the revealed claims.
pub fn disclosed_claims(presentation: &Value) -> Result<(Value, Vec<(String, Value)>)> {
    let credential = presentation
        .get("credential")
        .ok_or_else(|| anyhow!("not a presentation: no \"credential\""))?
        .clone();
    let digests: Vec<&str> = credential["credentialSubject"]["_sd"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut claims = Vec::new();
    for d in presentation["disclosures"].as_array().into_iter().flatten() {
        let d = d
            .as_str()
            .ok_or_else(|| anyhow!("a disclosure is not a string"))?;
        ensure!(
            digests.contains(&digest(d).as_str()),
            "a disclosed claim does not match the credential (tampered, or of another credential)"
        );
        let (_, name, value) = decode_disclosure(d)?;
        claims.push((name, value));
    }
    Ok((credential, claims))
}

// ---- messages ----

/// An ML-KEM-768 key pair derived from a wallet secret seed (HKDF-SHA256,
/// domain `qstack/did/kem/v1`), so the same mnemonic gives the same key.
pub struct KemKey {
    /// The encapsulation key (1,184 bytes), published in the DID document.
    pub public: Vec<u8>,
    private: libcrux_ml_kem::mlkem768::MlKem768PrivateKey,
}

impl KemKey {
    /// The key of `seed`.
    pub fn from_seed(seed: &[u8; 32]) -> KemKey {
        let mut okm = [0u8; 64];
        hkdf::Hkdf::<Sha256>::new(Some(b"qstack/did/kem/v1"), seed)
            .expand(b"ml-kem-768", &mut okm)
            .unwrap_or_default();
        let pair = libcrux_ml_kem::mlkem768::generate_key_pair(okm);
        KemKey {
            public: pair.pk().to_vec(),
            private: pair.private_key().clone(),
        }
    }
}

/// An encrypted message's parts, as the chain stores them.
pub struct Sealed {
    /// ML-KEM ciphertext.
    pub kem_ciphertext: Vec<u8>,
    /// AEAD nonce.
    pub nonce: [u8; 12],
    /// AEAD ciphertext and tag.
    pub ciphertext: Vec<u8>,
}

fn aead_key(shared: &[u8], from: &Did, to: &Did, key_id: &[u8]) -> [u8; 32] {
    let mut info = b"qstack/did/msg/v1".to_vec();
    info.extend_from_slice(&from.0);
    info.extend_from_slice(&to.0);
    info.extend_from_slice(key_id);
    let mut out = [0u8; 32];
    hkdf::Hkdf::<Sha256>::new(None, shared)
        .expand(&info, &mut out)
        .unwrap_or_default();
    out
}

fn aad(from: &Did, to: &Did, kem_ciphertext: &[u8]) -> Vec<u8> {
    [&from.0[..], &to.0[..], kem_ciphertext].concat()
}

/// Encrypts `plaintext` from `from` to `to`'s key `key_id` (`public`).
pub fn seal(
    public: &[u8],
    from: &Did,
    to: &Did,
    key_id: &[u8],
    plaintext: &[u8],
) -> Result<Sealed> {
    let pk: [u8; 1184] = public
        .try_into()
        .map_err(|_| anyhow!("not an ML-KEM-768 key ({} bytes)", public.len()))?;
    let pk = libcrux_ml_kem::mlkem768::MlKem768PublicKey::from(pk);
    ensure!(
        libcrux_ml_kem::mlkem768::validate_public_key(&pk),
        "the recipient's ML-KEM-768 key is malformed"
    );
    let mut r = [0u8; 32];
    OsRng.fill_bytes(&mut r);
    let (ct, shared) = libcrux_ml_kem::mlkem768::encapsulate(&pk, r);
    let mut nonce = [0u8; 12];
    OsRng.fill_bytes(&mut nonce);
    let key = aead_key(&shared, from, to, key_id);
    let kem_ciphertext = ct.as_slice().to_vec();
    let ciphertext = ChaCha20Poly1305::new(&key.into())
        .encrypt(
            &nonce.into(),
            Payload {
                msg: plaintext,
                aad: &aad(from, to, &kem_ciphertext),
            },
        )
        .map_err(|_| anyhow!("encryption failed"))?;
    Ok(Sealed {
        kem_ciphertext,
        nonce,
        ciphertext,
    })
}

/// Decrypts a message with the recipient's key; fails on any change or
/// another key.
pub fn open(key: &KemKey, from: &Did, to: &Did, key_id: &[u8], sealed: &Sealed) -> Result<Vec<u8>> {
    let ct: [u8; 1088] = sealed
        .kem_ciphertext
        .as_slice()
        .try_into()
        .map_err(|_| anyhow!("not an ML-KEM-768 ciphertext"))?;
    let ct = libcrux_ml_kem::mlkem768::MlKem768Ciphertext::from(ct);
    let shared = libcrux_ml_kem::mlkem768::decapsulate(&key.private, &ct);
    let k = aead_key(&shared, from, to, key_id);
    ChaCha20Poly1305::new(&k.into())
        .decrypt(
            &sealed.nonce.into(),
            Payload {
                msg: &sealed.ciphertext,
                aad: &aad(from, to, &sealed.kem_ciphertext),
            },
        )
        .map_err(|_| {
            anyhow!("the message does not decrypt: not for this key, or changed on the way")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("over18".into(), json!(true));
        m.insert("birthDate".into(), json!("1990-05-17"));
        m.insert("name".into(), json!("Alice Example"));
        m
    }

    fn sample() -> (Value, Vec<String>) {
        let issuers = [Did([1; 16]), Did([2; 16]), Did([3; 16])];
        let claims = claims();
        new_credential(&NewCredential {
            issuers: &issuers,
            threshold: 2,
            subject: Did([9; 16]),
            schema: "https://example.com/schemas/person",
            claims: &claims,
            status: Some(StatusRef { list: 3, index: 7 }),
        })
        .expect("credential")
    }

    #[test]
    fn the_registration_matches_the_credential() {
        let (vc, _) = sample();
        let r = registration(&vc).expect("registration");
        assert_eq!(r.hash, credential_hash(&vc));
        assert_eq!(r.issuers.len(), 3);
        assert_eq!(r.threshold, 2);
        assert_eq!(r.status, Some(StatusRef { list: 3, index: 7 }));
        assert!(r.revocable);
        assert_eq!(r.subject, Did([9; 16]));
        // Key order does not change the hash; any value does.
        let reordered: Value = serde_json::from_slice(&canonical(&vc)).expect("json");
        assert_eq!(credential_hash(&reordered), r.hash);
        let mut changed = vc.clone();
        changed["qstackThreshold"] = json!(1);
        assert_ne!(credential_hash(&changed), r.hash);
    }

    #[test]
    fn a_presentation_reveals_one_claim_and_nothing_of_the_others() {
        let (vc, disclosures) = sample();
        let p = present(&vc, &disclosures, &["over18".into()]).expect("present");
        let bytes = serde_json::to_string(&p).expect("json");
        for hidden in ["birthDate", "1990-05-17", "name", "Alice Example"] {
            assert!(!bytes.contains(hidden), "{hidden} leaked");
        }
        for d in &disclosures {
            let (salt, name, _) = decode_disclosure(d).expect("disclosure");
            if name != "over18" {
                assert!(!bytes.contains(d.as_str()) && !bytes.contains(&salt));
            }
        }
        let (cred, claims) = disclosed_claims(&p).expect("valid");
        assert_eq!(claims, vec![("over18".to_string(), json!(true))]);
        assert_eq!(credential_hash(&cred), credential_hash(&vc));
    }

    #[test]
    fn a_tampered_claim_fails() {
        let (vc, disclosures) = sample();
        let d = disclosures
            .iter()
            .find(|d| decode_disclosure(d).expect("d").1 == "over18")
            .expect("over18");
        let (salt, name, _) = decode_disclosure(d).expect("d");
        let forged = B64.encode(serde_json::to_vec(&json!([salt, name, false])).expect("json"));
        let p = json!({ "credential": vc, "disclosures": [forged] });
        assert!(disclosed_claims(&p).is_err());
        assert!(present(&vc, &disclosures, &["height".into()]).is_err());
    }

    #[test]
    fn only_the_recipient_key_opens_a_message_and_changes_are_refused() {
        let bob = KemKey::from_seed(&[1; 32]);
        assert_eq!(
            bob.public,
            KemKey::from_seed(&[1; 32]).public,
            "deterministic"
        );
        let eve = KemKey::from_seed(&[2; 32]);
        let (a, b) = (Did([10; 16]), Did([11; 16]));
        let sealed = seal(&bob.public, &a, &b, b"kem-1", b"hello Bob").expect("seal");
        assert_eq!(sealed.kem_ciphertext.len(), 1088);
        assert_eq!(
            open(&bob, &a, &b, b"kem-1", &sealed).expect("open"),
            b"hello Bob"
        );
        assert!(
            open(&eve, &a, &b, b"kem-1", &sealed).is_err(),
            "a third key"
        );
        assert!(
            open(&bob, &b, &a, b"kem-1", &sealed).is_err(),
            "another sender"
        );
        for part in 0..3 {
            let mut t = Sealed {
                kem_ciphertext: sealed.kem_ciphertext.clone(),
                nonce: sealed.nonce,
                ciphertext: sealed.ciphertext.clone(),
            };
            match part {
                0 => t.kem_ciphertext[5] ^= 1,
                1 => t.nonce[0] ^= 1,
                _ => t.ciphertext[0] ^= 1,
            }
            assert!(
                open(&bob, &a, &b, b"kem-1", &t).is_err(),
                "tampered part {part}"
            );
        }
        assert!(seal(&[0; 10], &a, &b, b"k", b"x").is_err());
    }
}
