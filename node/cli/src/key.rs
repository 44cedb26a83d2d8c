//! `qstack key`: generate and inspect keys of every scheme, and the node's
//! network (libp2p ed25519) key.

use anyhow::{anyhow, bail, Context, Result};
use clap::{Subcommand, ValueEnum};
use codec::Encode;
use qstack_core::{Address, KeyScheme, Pair};
use std::path::{Path, PathBuf};

/// Key subcommands.
#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Generate a new BIP-39 mnemonic and show its key.
    Generate {
        /// Key scheme.
        #[arg(long, default_value = "sr25519")]
        scheme: SchemeArg,
        /// Mnemonic length (12, 15, 18, 21 or 24 words).
        #[arg(long, default_value_t = 12)]
        words: usize,
        /// Output format.
        #[arg(long, default_value = "text")]
        output: OutputArg,
        /// SS58 prefix of the SS58 forms shown (the chain spec's `ss58Format`).
        #[arg(long, default_value_t = qstack_core::DEFAULT_SS58_PREFIX, value_parser = clap::value_parser!(u16).range(0..=16383))]
        ss58_prefix: u16,
    },
    /// Show the key of a secret URI (`//Alice`, a mnemonic, `mnemonic//hard///password`, `0x<seed>`).
    Inspect {
        /// The secret URI.
        suri: String,
        /// Key scheme.
        #[arg(long, default_value = "sr25519")]
        scheme: SchemeArg,
        /// Output format.
        #[arg(long, default_value = "text")]
        output: OutputArg,
        /// SS58 prefix of the SS58 forms shown (the chain spec's `ss58Format`).
        #[arg(long, default_value_t = qstack_core::DEFAULT_SS58_PREFIX, value_parser = clap::value_parser!(u16).range(0..=16383))]
        ss58_prefix: u16,
    },
    /// Generate a network (libp2p ed25519) key for `--node-key-file`: the
    /// secret (64 hex characters) goes to `--file` or stdout, the peer id to stderr.
    GenerateNodeKey {
        /// Write the secret to this file (readable by the owner only); never overwritten.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Store a validator's consensus key in the node's keystore
    /// (`<base>/chains/<id>/keystore/validator.json`), used with `--validator`.
    Insert {
        /// The secret URI (`//Alice`, a mnemonic, …).
        #[arg(long)]
        suri: String,
        /// Key scheme.
        #[arg(long, default_value = "sr25519")]
        scheme: SchemeArg,
        /// Chain spec: `dev`, `local` or a path.
        #[arg(long, default_value = "dev")]
        chain: String,
        /// Base path (default: ~/.local/share/qstack).
        #[arg(short = 'd', long)]
        base_path: Option<PathBuf>,
    },
    /// Print the peer id of a network key file (64 hex characters or 32 raw bytes).
    InspectNodeKey {
        /// The node key file.
        #[arg(long)]
        file: PathBuf,
    },
}

/// A key scheme on the command line.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum SchemeArg {
    /// sr25519 (Schnorr/Ristretto).
    Sr25519,
    /// Falcon-512.
    Falcon512,
    /// ML-DSA-44.
    Mldsa44,
    /// Falcon-512 + ML-DSA-44, both must verify.
    Hybrid,
}

impl From<SchemeArg> for KeyScheme {
    fn from(s: SchemeArg) -> Self {
        match s {
            SchemeArg::Sr25519 => KeyScheme::Sr25519,
            SchemeArg::Falcon512 => KeyScheme::Falcon512,
            SchemeArg::Mldsa44 => KeyScheme::MlDsa44,
            SchemeArg::Hybrid => KeyScheme::Hybrid,
        }
    }
}

/// Output format.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum OutputArg {
    /// For people.
    Text,
    /// For programs.
    Json,
}

/// Shows a key: its `q…` address, the same account id in SS58 form, the
/// account id and the public key. For sr25519 also the SS58 form of the
/// public key, which is what Substrate tools (polkadot.js's keyring, subkey)
/// call the key's address; here the account is a hash of the key, so that
/// string names no qstack account.
fn show(pair: &Pair, phrase: Option<&str>, output: OutputArg, ss58_prefix: u16) {
    let public = pair.public();
    let pk_hex = format!("0x{}", hex::encode(public.encode()));
    let address = Address::from(pair.account_id()).to_string();
    let ss58 = Address::from(pair.account_id()).to_ss58(ss58_prefix);
    let account = format!("0x{}", hex::encode(pair.account_id().0));
    let sr25519_public_ss58 = match &public {
        qstack_core::PublicKey::Sr25519(pk) => {
            Some(Address::from(qstack_core::AccountId(*pk)).to_ss58(ss58_prefix))
        }
        _ => None,
    };
    if output == OutputArg::Json {
        let mut v = serde_json::json!({
            "scheme": pair.scheme().name(),
            "address": address,
            "ss58Address": ss58,
            "ss58Prefix": ss58_prefix,
            "accountId": account,
            "publicKey": pk_hex,
        });
        if let Some(p) = phrase {
            v["secretPhrase"] = p.into();
        }
        if let Some(k) = &sr25519_public_ss58 {
            v["publicKeySs58"] = k.as_str().into();
        }
        println!("{v}");
    } else {
        if let Some(p) = phrase {
            println!("Secret phrase:  {p}");
            println!("  (write it down; anyone with it controls the account)");
        }
        println!("Scheme:         {}", pair.scheme().name());
        println!("Address:        {address}");
        println!("SS58 address:   {ss58} (the same account, prefix {ss58_prefix})");
        println!("Account ID:     {account}");
        let shown = if pk_hex.len() > 80 {
            format!("{}… ({} bytes)", &pk_hex[..80], public.encode().len())
        } else {
            pk_hex
        };
        println!("Public key:     {shown}");
        if let Some(k) = sr25519_public_ss58 {
            println!("Public key (SS58): {k}");
            println!("  (what polkadot.js and subkey show as this key's address; the");
            println!("   account is a hash of the key, so send to the address above)");
        }
    }
}

fn generate_node_key(file: Option<&Path>) -> Result<()> {
    let key = qstack_network::node_key::generate();
    let secret = qstack_network::node_key::secret_hex(&key)
        .ok_or_else(|| anyhow!("the generated node key is not ed25519"))?;
    let peer_id = key.public().to_peer_id();
    match file {
        Some(path) => {
            if path.exists() {
                bail!(
                    "node key file {} already exists; refusing to overwrite it \
                     (delete it first or choose another --file)",
                    path.display()
                );
            }
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
            qstack_network::node_key::write_private(path, secret.as_bytes()).map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    anyhow!(
                        "node key file {} already exists; refusing to overwrite it",
                        path.display()
                    )
                } else {
                    anyhow!("writing node key file {}: {e}", path.display())
                }
            })?;
        }
        None => println!("{secret}"),
    }
    eprintln!("{peer_id}");
    Ok(())
}

fn inspect_node_key(path: &Path) -> Result<()> {
    let bytes =
        std::fs::read(path).with_context(|| format!("reading node key file {}", path.display()))?;
    let key = qstack_network::node_key::parse(&bytes)
        .map_err(|why| anyhow!("node key file {}: {why}", path.display()))?;
    println!("{}", key.public().to_peer_id());
    Ok(())
}

fn hex_public(pair: &Pair) -> String {
    format!("0x{}", hex::encode(pair.public().encode()))
}

/// Runs a key subcommand.
pub fn run(cmd: KeyCommand) -> Result<()> {
    match cmd {
        KeyCommand::Generate {
            scheme,
            words,
            output,
            ss58_prefix,
        } => {
            let (pair, phrase) =
                Pair::generate_with_phrase(scheme.into(), words).map_err(|e| anyhow!("{e}"))?;
            show(&pair, Some(&phrase), output, ss58_prefix);
        }
        KeyCommand::Inspect {
            suri,
            scheme,
            output,
            ss58_prefix,
        } => {
            let pair = Pair::from_suri(scheme.into(), &suri).map_err(|e| anyhow!("{e}"))?;
            show(&pair, None, output, ss58_prefix);
        }
        KeyCommand::GenerateNodeKey { file } => generate_node_key(file.as_deref())?,
        KeyCommand::InspectNodeKey { file } => inspect_node_key(&file)?,
        KeyCommand::Insert {
            suri,
            scheme,
            chain,
            base_path,
        } => {
            let spec = qstack_service::chain_spec::ChainSpec::load(&chain)?;
            let base = crate::base_path(base_path)?;
            let path = qstack_service::keystore::validator_key_path(&base, &spec.id);
            let pair = qstack_service::keystore::insert(&path, scheme.into(), &suri)?;
            let public = hex_public(&pair);
            let shown = if public.len() > 74 {
                format!("{}…", &public[..74])
            } else {
                public
            };
            println!(
                "Stored the {} key {shown} ({}) in {}",
                pair.scheme().name(),
                Address::from(pair.public().account_id()),
                path.display()
            );
        }
    }
    Ok(())
}
