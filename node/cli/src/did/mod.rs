//! `qstack did …`: DIDs, credentials and encrypted messages.
//!
//! DIDs: `create`, `show`, `add-key`, `add-service`, `deactivate`.
//! Credentials, from issuers to holder to verifier: `credential` writes a
//! credential (claims as salted digests) and the holder's disclosures;
//! each issuer `endorse`s it (signs with an `assertionMethod` key); anyone
//! `issue`s it with enough endorsements; `present` reveals chosen claims;
//! `verify` checks a credential or presentation against chain state;
//! issuers `revoke` (or suspend and lift); the holder may `reject`.
//! Messages: `send` encrypts to the recipient's ML-KEM-768 key and posts
//! it; `receive` decrypts the inbox; `clear` removes a message.

pub mod vc;

use crate::key::SchemeArg;
use crate::tx::{send, SendArgs};
use anyhow::{anyhow, bail, Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use qstack_core::{KeyScheme, Pair};
use qstack_runtime::did::{
    self, format_did, parse_did, rel, Did, Document, IssuerProof, KeyMaterial, Op, Purpose,
    Service, StatusRef, VerificationMethod,
};
use qstack_runtime::RuntimeCall;
use qstack_wallet::Chain;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// The `--rpc` of read-only commands.
#[derive(Args, Debug, Clone)]
pub struct RpcArg {
    /// Node RPC endpoint.
    #[arg(long, default_value = "ws://127.0.0.1:9944")]
    rpc: String,
}

/// A verification relationship, as DID Core names it.
#[derive(ValueEnum, Clone, Copy, Debug)]
#[value(rename_all = "camelCase")]
pub enum Relationship {
    /// Proves presence (signs messages, rejects credentials).
    Authentication,
    /// Issues credentials.
    AssertionMethod,
    /// Updates the DID document.
    CapabilityInvocation,
    /// Delegates capabilities.
    CapabilityDelegation,
}

impl Relationship {
    fn bit(self) -> u8 {
        match self {
            Relationship::Authentication => rel::AUTHENTICATION,
            Relationship::AssertionMethod => rel::ASSERTION_METHOD,
            Relationship::CapabilityInvocation => rel::CAPABILITY_INVOCATION,
            Relationship::CapabilityDelegation => rel::CAPABILITY_DELEGATION,
        }
    }
}

/// DID subcommands.
#[derive(Subcommand, Debug)]
pub enum DidCommand {
    /// Create a DID controlled by the signing account (method `#owner`),
    /// with a signature key `#key-1` of `--key-scheme` derived from the
    /// same secret (or `--key`), and with `--kem` an ML-KEM-768 key
    /// `#kem-1` to receive encrypted messages.
    Create {
        /// Scheme of `#key-1` (none: only the account method).
        #[arg(long)]
        key_scheme: Option<SchemeArg>,
        /// Secret URI of `#key-1` and `#kem-1` (default: `--from`).
        #[arg(long)]
        key: Option<String>,
        /// Also add the ML-KEM-768 key `#kem-1`.
        #[arg(long)]
        kem: bool,
        /// A service, `ID,TYPE,URL` (repeatable).
        #[arg(long, value_name = "ID,TYPE,URL")]
        service: Vec<String>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Print a DID's resolution result (W3C JSON).
    Show {
        /// The DID.
        did: String,
        /// At this block (number or hash) instead of the best.
        #[arg(long)]
        at: Option<String>,
        #[command(flatten)]
        rpc: RpcArg,
    },
    /// Add a verification method.
    AddKey {
        /// The DID.
        #[arg(long)]
        did: String,
        /// The method's id (fragment), e.g. `key-2`.
        #[arg(long)]
        id: String,
        /// A signature key of this scheme (from `--key`, default `--from`).
        #[arg(long, conflicts_with = "kem")]
        key_scheme: Option<SchemeArg>,
        /// An ML-KEM-768 key agreement key instead.
        #[arg(long)]
        kem: bool,
        /// Secret URI the key derives from (default: `--from`).
        #[arg(long)]
        key: Option<String>,
        /// Relationships of a signature key (comma-separated; default
        /// authentication,assertionMethod).
        #[arg(long, value_delimiter = ',')]
        relationships: Vec<Relationship>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Add a service.
    AddService {
        /// The DID.
        #[arg(long)]
        did: String,
        /// The service's id (fragment).
        #[arg(long)]
        id: String,
        /// Its type, e.g. `LinkedDomains`.
        #[arg(long = "type")]
        service_type: String,
        /// Its endpoint URL.
        #[arg(long)]
        endpoint: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Deactivate a DID for good (its deposit returns).
    Deactivate {
        /// The DID.
        #[arg(long)]
        did: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Write a new credential (offline): `--out` gets the credential,
    /// `--out`.disclosures.json the holder's secret disclosures of its claims.
    Credential {
        /// An issuer DID (repeat; the first keeps the status list).
        #[arg(long, required = true)]
        issuer: Vec<String>,
        /// Issuers that must endorse it.
        #[arg(long, default_value_t = 1)]
        threshold: u8,
        /// The holder's DID.
        #[arg(long)]
        subject: String,
        /// The schema's URI.
        #[arg(long)]
        schema: String,
        /// The claims: a JSON object file.
        #[arg(long)]
        claims: PathBuf,
        /// Make it revocable at this entry of the lead issuer's list `--status-list`.
        #[arg(long, requires = "status_list")]
        status_index: Option<u32>,
        /// The lead issuer's status list number.
        #[arg(long, requires = "status_index")]
        status_list: Option<u32>,
        /// Where to write the credential.
        #[arg(long)]
        out: PathBuf,
    },
    /// Endorse a credential as one of its issuers: sign its registration
    /// with an `assertionMethod` key and write the proof.
    Endorse {
        /// The credential file.
        #[arg(long)]
        credential: PathBuf,
        /// The issuer DID you sign for.
        #[arg(long)]
        issuer: String,
        /// Your key's secret URI.
        #[arg(long)]
        key: String,
        /// Its scheme.
        #[arg(long, default_value = "sr25519")]
        key_scheme: SchemeArg,
        /// The issuer's method id of that key.
        #[arg(long, default_value = "key-1")]
        method: String,
        /// Where to write the proof.
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        rpc: RpcArg,
    },
    /// Register a credential on chain with its issuers' endorsements.
    Issue {
        /// The credential file.
        #[arg(long)]
        credential: PathBuf,
        /// An endorsement file (repeat).
        #[arg(long)]
        proof: Vec<PathBuf>,
        /// Also count the signing account as this issuer (its `#owner`).
        #[arg(long)]
        as_issuer: Option<String>,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Revoke a credential (final), or with `--suspend`/`--lift` suspend it
    /// or lift a suspension.
    Revoke {
        /// The credential file or its 0x hash.
        #[arg(long)]
        credential: String,
        /// Suspend instead of revoking.
        #[arg(long, conflicts_with = "lift")]
        suspend: bool,
        /// Lift a suspension.
        #[arg(long)]
        lift: bool,
        #[command(flatten)]
        send: SendArgs,
    },
    /// As the holder, reject a credential issued to you (final).
    Reject {
        /// The credential file or its 0x hash.
        #[arg(long)]
        credential: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Write a presentation revealing only the named claims.
    Present {
        /// The credential file.
        #[arg(long)]
        credential: PathBuf,
        /// The disclosures file (default: next to the credential).
        #[arg(long)]
        disclosures: Option<PathBuf>,
        /// A claim to reveal (repeat).
        #[arg(long, required = true)]
        claim: Vec<String>,
        /// Where to write the presentation.
        #[arg(long)]
        out: PathBuf,
    },
    /// Check a credential or a presentation against chain state: it is
    /// registered, issued by its issuers, neither revoked, suspended nor
    /// rejected, and every disclosed claim matches it. Exits non-zero if not.
    Verify {
        /// A credential file.
        #[arg(
            long,
            conflicts_with = "presentation",
            required_unless_present = "presentation"
        )]
        credential: Option<PathBuf>,
        /// A presentation file.
        #[arg(long)]
        presentation: Option<PathBuf>,
        #[command(flatten)]
        rpc: RpcArg,
    },
    /// Encrypt a message to a DID's ML-KEM-768 key and post it, signed by
    /// an `authentication` account of the sending DID.
    Send {
        /// The sending DID.
        #[arg(long = "as")]
        sender: String,
        /// The recipient DID.
        #[arg(long)]
        to: String,
        /// The message text.
        #[arg(long)]
        message: String,
        /// The recipient's key id.
        #[arg(long, default_value = "kem-1")]
        key_id: String,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Remove a message from a DID's inbox (as its recipient, or as the
    /// account that paid for it); its deposit returns to that account.
    Clear {
        /// The recipient DID.
        #[arg(long)]
        did: String,
        /// The message's number (`receive` prints it).
        #[arg(long)]
        seq: u64,
        #[command(flatten)]
        send: SendArgs,
    },
    /// Decrypt the messages in a DID's inbox with its ML-KEM-768 key.
    Receive {
        /// The DID.
        #[arg(long)]
        did: String,
        /// Secret URI the `#kem-1` key derives from.
        #[arg(long)]
        key: String,
        #[command(flatten)]
        rpc: RpcArg,
    },
}

fn did_arg(s: &str, what: &str) -> Result<Did> {
    parse_did(s).map_err(|e| anyhow!("{what} {s:?}: {e}"))
}

fn read_json(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

fn write_json(path: &Path, v: &Value) -> Result<()> {
    std::fs::write(path, serde_json::to_string_pretty(v)? + "\n")
        .with_context(|| format!("writing {}", path.display()))
}

fn disclosures_path(credential: &Path) -> PathBuf {
    let mut p = credential.as_os_str().to_owned();
    p.push(".disclosures.json");
    PathBuf::from(p)
}

/// The 32-byte seed a secret URI gives (for the ML-KEM key).
fn seed_of(suri: &str) -> Result<[u8; 32]> {
    Ok(Pair::from_suri(KeyScheme::Sr25519, suri)
        .map_err(|e| anyhow!("--key: {e}"))?
        .seed())
}

fn kem_method(suri: &str, id: &str) -> Result<VerificationMethod> {
    Ok(VerificationMethod {
        id: id.as_bytes().to_vec(),
        material: KeyMaterial::MlKem768(vc::KemKey::from_seed(&seed_of(suri)?).public),
        relationships: rel::KEY_AGREEMENT,
    })
}

fn secret<'a>(key: &'a Option<String>, send: &'a SendArgs) -> Result<&'a str> {
    key.as_deref()
        .or(send.from.as_deref())
        .ok_or_else(|| anyhow!("--key or --from is required"))
}

fn parse_service(s: &str) -> Result<Service> {
    let mut parts = s.splitn(3, ',');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(id), Some(t), Some(url)) => Ok(Service {
            id: id.as_bytes().to_vec(),
            service_type: t.as_bytes().to_vec(),
            endpoint: url.as_bytes().to_vec(),
        }),
        _ => bail!("--service {s:?}: expected ID,TYPE,URL"),
    }
}

async fn resolve(chain: &Chain, did: &Did) -> Result<Value> {
    let r = chain
        .rpc("did_resolve", vec![json!(format_did(did))])
        .await?;
    if r["didDocument"].is_null() {
        bail!("{} does not exist on this chain", format_did(did));
    }
    if r["didDocumentMetadata"]["deactivated"] == json!(true) {
        bail!("{} is deactivated", format_did(did));
    }
    Ok(r)
}

async fn counter_of(chain: &Chain, did: &Did) -> Result<u64> {
    resolve(chain, did).await?["didDocumentMetadata"]["versionId"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow!("the node returned no versionId"))
}

async fn update(did: &str, ops: Vec<Op>, args: &SendArgs, what: &str) -> Result<()> {
    let did = did_arg(did, "--did")?;
    let chain = Chain::connect(&args.rpc).await?;
    let counter = counter_of(&chain, &did).await?;
    let call = RuntimeCall::Did(did::Call::Update {
        did,
        counter,
        ops,
        proof: None,
    });
    send(call, args, &format!("{what} ({})", format_did(&did))).await
}

fn credential_hash_arg(s: &str) -> Result<qstack_core::H256> {
    if let Some(hex_str) = s.strip_prefix("0x") {
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_str, &mut out)
            .map_err(|_| anyhow!("{s:?}: expected a 32-byte 0x hash"))?;
        return Ok(qstack_core::H256(out));
    }
    Ok(vc::credential_hash(&read_json(Path::new(s))?))
}

/// Runs a `did` subcommand.
pub async fn run(cmd: DidCommand) -> Result<()> {
    match cmd {
        DidCommand::Create {
            key_scheme,
            key,
            kem,
            service,
            send: args,
        } => {
            let from = args
                .from
                .as_deref()
                .ok_or_else(|| anyhow!("--from is required"))?;
            let account = match &args.account {
                Some(a) => qstack_wallet::parse_address(a, "--account")?,
                None => Pair::from_suri(args.scheme.into(), from)
                    .map_err(|e| anyhow!("--from: {e}"))?
                    .account_id(),
            };
            let suri = secret(&key, &args)?;
            let mut methods = vec![VerificationMethod {
                id: b"owner".to_vec(),
                material: KeyMaterial::Account(account),
                relationships: rel::ALL & !rel::KEY_AGREEMENT,
            }];
            if let Some(scheme) = key_scheme {
                let pair =
                    Pair::from_suri(scheme.into(), suri).map_err(|e| anyhow!("--key: {e}"))?;
                methods.push(VerificationMethod {
                    id: b"key-1".to_vec(),
                    material: KeyMaterial::Key(pair.public()),
                    relationships: rel::AUTHENTICATION
                        | rel::ASSERTION_METHOD
                        | rel::CAPABILITY_INVOCATION,
                });
            }
            if kem {
                methods.push(kem_method(suri, "kem-1")?);
            }
            let services = service
                .iter()
                .map(|s| parse_service(s))
                .collect::<Result<_>>()?;
            let document = Document {
                methods,
                services,
                ..Document::default()
            };
            let chain = Chain::connect(&args.rpc).await?;
            let next = chain
                .rpc(
                    "did_next",
                    vec![json!(qstack_core::Address::from(account).to_string())],
                )
                .await?;
            let next = next.as_str().unwrap_or("?").to_string();
            send(
                RuntimeCall::Did(did::Call::Create { document }),
                &args,
                &format!("create {next}"),
            )
            .await?;
            println!("DID: {next}");
            Ok(())
        }
        DidCommand::Show { did, at, rpc } => {
            let did = did_arg(&did, "DID")?;
            let chain = Chain::connect(&rpc.rpc).await?;
            let r = match at {
                None => {
                    chain
                        .rpc("did_resolve", vec![json!(format_did(&did))])
                        .await?
                }
                Some(b) => {
                    let b = b.parse::<u64>().map(|n| json!(n)).unwrap_or(json!(b));
                    chain
                        .rpc("did_resolveAt", vec![json!(format_did(&did)), b])
                        .await?
                }
            };
            println!("{}", serde_json::to_string_pretty(&r)?);
            Ok(())
        }
        DidCommand::AddKey {
            did,
            id,
            key_scheme,
            kem,
            key,
            relationships,
            send: args,
        } => {
            let suri = secret(&key, &args)?;
            let method = if kem {
                kem_method(suri, &id)?
            } else {
                let scheme = key_scheme.ok_or_else(|| anyhow!("give --key-scheme or --kem"))?;
                let pair =
                    Pair::from_suri(scheme.into(), suri).map_err(|e| anyhow!("--key: {e}"))?;
                let bits = if relationships.is_empty() {
                    rel::AUTHENTICATION | rel::ASSERTION_METHOD
                } else {
                    relationships.iter().fold(0, |b, r| b | r.bit())
                };
                VerificationMethod {
                    id: id.as_bytes().to_vec(),
                    material: KeyMaterial::Key(pair.public()),
                    relationships: bits,
                }
            };
            update(
                &did,
                vec![Op::AddMethod(method)],
                &args,
                &format!("add key #{id}"),
            )
            .await
        }
        DidCommand::AddService {
            did,
            id,
            service_type,
            endpoint,
            send: args,
        } => {
            let s = Service {
                id: id.as_bytes().to_vec(),
                service_type: service_type.into_bytes(),
                endpoint: endpoint.into_bytes(),
            };
            update(
                &did,
                vec![Op::AddService(s)],
                &args,
                &format!("add service #{id}"),
            )
            .await
        }
        DidCommand::Deactivate { did, send: args } => {
            let did = did_arg(&did, "--did")?;
            let chain = Chain::connect(&args.rpc).await?;
            let counter = counter_of(&chain, &did).await?;
            let call = RuntimeCall::Did(did::Call::Deactivate {
                did,
                counter,
                proof: None,
            });
            send(call, &args, &format!("deactivate {}", format_did(&did))).await
        }
        DidCommand::Credential {
            issuer,
            threshold,
            subject,
            schema,
            claims,
            status_index,
            status_list,
            out,
        } => {
            let issuers = issuer
                .iter()
                .map(|s| did_arg(s, "--issuer"))
                .collect::<Result<Vec<_>>>()?;
            let subject = did_arg(&subject, "--subject")?;
            let claims = match read_json(&claims)? {
                Value::Object(m) => m,
                _ => bail!("--claims must hold a JSON object of claims by name"),
            };
            let status = match (status_list, status_index) {
                (Some(list), Some(index)) => Some(StatusRef { list, index }),
                _ => None,
            };
            let (credential, disclosures) = vc::new_credential(&vc::NewCredential {
                issuers: &issuers,
                threshold,
                subject,
                schema: &schema,
                claims: &claims,
                status,
            })?;
            write_json(&out, &credential)?;
            write_json(&disclosures_path(&out), &json!(disclosures))?;
            println!(
                "Credential {} written to {} (disclosures: {})",
                json_hash(&credential),
                out.display(),
                disclosures_path(&out).display()
            );
            Ok(())
        }
        DidCommand::Endorse {
            credential,
            issuer,
            key,
            key_scheme,
            method,
            out,
            rpc,
        } => {
            let credential = read_json(&credential)?;
            let reg = vc::registration(&credential)?;
            let issuer = did_arg(&issuer, "--issuer")?;
            let index = reg
                .issuers
                .iter()
                .position(|d| *d == issuer)
                .ok_or_else(|| {
                    anyhow!(
                        "{} is not an issuer of this credential",
                        format_did(&issuer)
                    )
                })?;
            let pair =
                Pair::from_suri(key_scheme.into(), &key).map_err(|e| anyhow!("--key: {e}"))?;
            let chain = Chain::connect(&rpc.rpc).await?;
            let payload = did::credential::issuance_payload(&chain.ctx.genesis_hash, &reg);
            let proof = IssuerProof {
                issuer: u8::try_from(index)?,
                method: method.into_bytes(),
                signature: Some(pair.sign(&payload)),
            };
            let encoded = codec::Encode::encode(&proof);
            write_json(
                &out,
                &json!({
                    "credential": json_hash(&credential),
                    "issuer": format_did(&issuer),
                    "proof": format!("0x{}", hex::encode(encoded)),
                }),
            )?;
            println!(
                "Endorsement by {} written to {}",
                format_did(&issuer),
                out.display()
            );
            Ok(())
        }
        DidCommand::Issue {
            credential,
            proof,
            as_issuer,
            send: args,
        } => {
            let credential = read_json(&credential)?;
            let registration = vc::registration(&credential)?;
            let hash = json_hash(&credential);
            let mut proofs = Vec::new();
            for p in &proof {
                let v = read_json(p)?;
                if v["credential"].as_str() != Some(hash.as_str()) {
                    bail!("{} endorses another credential", p.display());
                }
                let raw = v["proof"]
                    .as_str()
                    .and_then(|s| hex::decode(s.trim_start_matches("0x")).ok())
                    .ok_or_else(|| anyhow!("{}: no proof", p.display()))?;
                proofs.push(
                    <IssuerProof as codec::Decode>::decode(&mut &raw[..])
                        .map_err(|_| anyhow!("{}: not an endorsement", p.display()))?,
                );
            }
            if let Some(me) = as_issuer {
                let me = did_arg(&me, "--as-issuer")?;
                let index = registration
                    .issuers
                    .iter()
                    .position(|d| *d == me)
                    .ok_or_else(|| anyhow!("--as-issuer is not an issuer of this credential"))?;
                proofs.push(IssuerProof {
                    issuer: u8::try_from(index)?,
                    method: b"owner".to_vec(),
                    signature: None,
                });
            }
            let n = proofs.len();
            let call = RuntimeCall::Did(did::Call::Issue {
                registration,
                proofs,
            });
            send(
                call,
                &args,
                &format!("issue credential {hash} with {n} endorsements"),
            )
            .await
        }
        DidCommand::Revoke {
            credential,
            suspend,
            lift,
            send: args,
        } => {
            let hash = credential_hash_arg(&credential)?;
            let (purpose, value, what) = match (suspend, lift) {
                (true, _) => (Purpose::Suspension, true, "suspend"),
                (_, true) => (Purpose::Suspension, false, "lift the suspension of"),
                _ => (Purpose::Revocation, true, "revoke"),
            };
            let call = RuntimeCall::Did(did::Call::SetStatus {
                hash,
                purpose,
                value,
            });
            send(call, &args, &format!("{what} credential {hash:?}")).await
        }
        DidCommand::Reject {
            credential,
            send: args,
        } => {
            let hash = credential_hash_arg(&credential)?;
            let call = RuntimeCall::Did(did::Call::Reject { hash });
            send(call, &args, &format!("reject credential {hash:?}")).await
        }
        DidCommand::Present {
            credential,
            disclosures,
            claim,
            out,
        } => {
            let dpath = disclosures.unwrap_or_else(|| disclosures_path(&credential));
            let credential = read_json(&credential)?;
            let all: Vec<String> = serde_json::from_value(read_json(&dpath)?)
                .with_context(|| format!("{} is not a list of disclosures", dpath.display()))?;
            let p = vc::present(&credential, &all, &claim)?;
            write_json(&out, &p)?;
            println!(
                "Presentation of {} written to {}",
                claim.join(", "),
                out.display()
            );
            Ok(())
        }
        DidCommand::Verify {
            credential,
            presentation,
            rpc,
        } => {
            let (credential, claims) = match (credential, presentation) {
                (Some(c), _) => (read_json(&c)?, Vec::new()),
                (None, Some(p)) => vc::disclosed_claims(&read_json(&p)?)?,
                (None, None) => bail!("give --credential or --presentation"),
            };
            let reg = vc::registration(&credential)?;
            let hash = json_hash(&credential);
            let chain = Chain::connect(&rpc.rpc).await?;
            let status = chain.rpc("vc_status", vec![json!(hash)]).await?;
            if status.is_null() {
                bail!("credential {hash} is not registered on this chain");
            }
            let issuers: Vec<String> = reg.issuers.iter().map(format_did).collect();
            if status["issuers"] != json!(issuers)
                || status["subject"] != json!(format_did(&reg.subject))
            {
                bail!("credential {hash}: the chain records other issuers or another subject");
            }
            let state = status["status"].as_str().unwrap_or("?");
            println!("Credential {hash}: {state}");
            println!("  subject {}", format_did(&reg.subject));
            println!("  signed by {}", status["signedBy"]);
            for (name, value) in &claims {
                println!("  claim {name} = {value}");
            }
            if state != "issued" {
                bail!("credential {hash} is {state}");
            }
            println!("Valid.");
            Ok(())
        }
        DidCommand::Send {
            sender,
            to,
            message,
            key_id,
            send: args,
        } => {
            let from = did_arg(&sender, "--as")?;
            let to = did_arg(&to, "--to")?;
            let chain = Chain::connect(&args.rpc).await?;
            let doc = resolve(&chain, &to).await?;
            let want = format!("{}#{key_id}", format_did(&to));
            let public = doc["didDocument"]["verificationMethod"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|m| m["id"] == json!(want) && m["keyScheme"] == json!("mlkem768"))
                .and_then(|m| m["publicKeyMultibase"].as_str())
                .and_then(|s| s.strip_prefix('u'))
                .and_then(|s| {
                    use base64::Engine;
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(s)
                        .ok()
                })
                .and_then(|b| b.get(1..).map(<[u8]>::to_vec))
                .ok_or_else(|| anyhow!("{} has no ML-KEM-768 key #{key_id}", format_did(&to)))?;
            let sealed = vc::seal(&public, &from, &to, key_id.as_bytes(), message.as_bytes())?;
            let call = RuntimeCall::Did(did::Call::Send {
                to,
                message: did::Message {
                    from,
                    key: key_id.into_bytes(),
                    kem_ciphertext: sealed.kem_ciphertext,
                    nonce: sealed.nonce,
                    ciphertext: sealed.ciphertext,
                    sent: 0,
                    payer: Default::default(),
                    deposit: 0,
                },
            });
            send(
                call,
                &args,
                &format!("encrypted message to {}", format_did(&to)),
            )
            .await
        }
        DidCommand::Clear {
            did,
            seq,
            send: args,
        } => {
            let to = did_arg(&did, "--did")?;
            let call = RuntimeCall::Did(did::Call::Clear { to, seq });
            send(
                call,
                &args,
                &format!("clear message #{seq} of {}", format_did(&to)),
            )
            .await
        }
        DidCommand::Receive { did, key, rpc } => {
            let did = did_arg(&did, "--did")?;
            let chain = Chain::connect(&rpc.rpc).await?;
            let kem = vc::KemKey::from_seed(&seed_of(&key)?);
            let list = chain
                .rpc("did_messages", vec![json!(format_did(&did))])
                .await?;
            let hexv = |v: &Value| -> Result<Vec<u8>> {
                hex::decode(v.as_str().unwrap_or("").trim_start_matches("0x"))
                    .map_err(|_| anyhow!("the node returned bad hex"))
            };
            let mut failed = 0;
            for m in list.as_array().into_iter().flatten() {
                let from = did_arg(m["from"].as_str().unwrap_or(""), "sender")?;
                let key_id = m["key"]
                    .as_str()
                    .unwrap_or("")
                    .rsplit('#')
                    .next()
                    .unwrap_or("")
                    .to_string();
                let nonce: [u8; 12] = hexv(&m["nonce"])?
                    .try_into()
                    .map_err(|_| anyhow!("bad nonce"))?;
                let sealed = vc::Sealed {
                    kem_ciphertext: hexv(&m["kemCiphertext"])?,
                    nonce,
                    ciphertext: hexv(&m["ciphertext"])?,
                };
                match vc::open(&kem, &from, &did, key_id.as_bytes(), &sealed) {
                    Ok(text) => println!(
                        "#{} from {}: {}",
                        m["seq"],
                        format_did(&from),
                        String::from_utf8_lossy(&text)
                    ),
                    Err(e) => {
                        failed += 1;
                        println!("#{} from {}: {e}", m["seq"], format_did(&from));
                    }
                }
            }
            if failed > 0 {
                bail!("{failed} message(s) did not decrypt with this key");
            }
            Ok(())
        }
    }
}

fn json_hash(credential: &Value) -> String {
    format!("0x{}", hex::encode(vc::credential_hash(credential).0))
}
