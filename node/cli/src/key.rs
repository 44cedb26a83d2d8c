//! `qstack key`: generate and inspect keys of every scheme.

use anyhow::{anyhow, Result};
use clap::{Subcommand, ValueEnum};
use codec::Encode;
use qstack_core::{Address, KeyScheme, Pair};

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

fn show(pair: &Pair, phrase: Option<&str>, output: OutputArg) {
    let public = pair.public();
    let pk_hex = format!("0x{}", hex::encode(public.encode()));
    let address = Address::from(pair.account_id()).to_string();
    let account = format!("0x{}", hex::encode(pair.account_id().0));
    if output == OutputArg::Json {
        let mut v = serde_json::json!({
            "scheme": pair.scheme().name(),
            "address": address,
            "accountId": account,
            "publicKey": pk_hex,
        });
        if let Some(p) = phrase {
            v["secretPhrase"] = p.into();
        }
        println!("{v}");
    } else {
        if let Some(p) = phrase {
            println!("Secret phrase:  {p}");
            println!("  (write it down; anyone with it controls the account)");
        }
        println!("Scheme:         {}", pair.scheme().name());
        println!("Address:        {address}");
        println!("Account ID:     {account}");
        let shown = if pk_hex.len() > 80 {
            format!("{}… ({} bytes)", &pk_hex[..80], public.encode().len())
        } else {
            pk_hex
        };
        println!("Public key:     {shown}");
    }
}

/// Runs a key subcommand.
pub fn run(cmd: KeyCommand) -> Result<()> {
    match cmd {
        KeyCommand::Generate {
            scheme,
            words,
            output,
        } => {
            let (pair, phrase) =
                Pair::generate_with_phrase(scheme.into(), words).map_err(|e| anyhow!("{e}"))?;
            show(&pair, Some(&phrase), output);
        }
        KeyCommand::Inspect {
            suri,
            scheme,
            output,
        } => {
            let pair = Pair::from_suri(scheme.into(), &suri).map_err(|e| anyhow!("{e}"))?;
            show(&pair, None, output);
        }
    }
    Ok(())
}
