//! `qstack export-blocks` and `qstack import-blocks`: the canonical chain to a
//! file and back, through the same import path as blocks from peers (every
//! block re-executed and its roots checked).
//!
//! File format (binary, little endian): the 8-byte magic `QSTKBLK1`, the
//! 32-byte genesis hash, the u32 number of the last finalised block exported,
//! the u32 number of records, then each record as a u32 length followed by the
//! SCALE encoding of `(block, Option<justification>)`.

use anyhow::{bail, Context, Result};
use codec::{Decode, Encode};
use indicatif::{ProgressBar, ProgressStyle};
use qstack_client::{Client, ImportOutcome, Justification};
use qstack_core::H256;
use qstack_runtime_primitives::OpaqueBlock;
use qstack_service::chain_spec::ChainSpec;
use qstack_service::open_client;
use qstack_storage::PruningMode;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

/// First bytes of an export file.
pub const MAGIC: &[u8; 8] = b"QSTKBLK1";

/// Largest record accepted on import (a full block plus its justification).
const MAX_RECORD: usize = 16 * 1024 * 1024;

/// One exported block.
type Record = (OpaqueBlock, Option<Justification>);

fn progress(len: u64, verb: &str, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(&format!(
        "{verb} {{bar:40}} {{pos}}/{{len}} blocks ({{per_sec}}, eta {{eta}})"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}

/// Writes canonical blocks `from..=to` (default: up to the best block) of the
/// chain at `db` to `output` (`-` for stdout).
pub fn export(
    spec: &ChainSpec,
    db: &Path,
    output: &Path,
    from: u32,
    to: Option<u32>,
    quiet: bool,
) -> Result<()> {
    if !db.exists() {
        bail!("no database at {}: nothing to export", db.display());
    }
    let client = open_client(spec, db, None)?;
    let info = client.info()?;
    let to = to.unwrap_or(info.best_number);
    if to > info.best_number {
        bail!("--to {to}: the best block is #{}", info.best_number);
    }
    if from > to {
        bail!("--from {from} is after --to {to}");
    }
    let mut out: Box<dyn Write> = if output.as_os_str() == "-" {
        Box::new(BufWriter::new(std::io::stdout().lock()))
    } else {
        let file = std::fs::File::create(output)
            .with_context(|| format!("creating {}", output.display()))?;
        Box::new(BufWriter::new(file))
    };
    let count = to - from + 1;
    out.write_all(MAGIC)?;
    out.write_all(&info.genesis_hash.0)?;
    out.write_all(&info.finalized_number.min(to).to_le_bytes())?;
    out.write_all(&count.to_le_bytes())?;
    let bar = progress(
        u64::from(count),
        "exporting",
        quiet || output.as_os_str() == "-",
    );
    for number in from..=to {
        let hash = client
            .hash_of(number)?
            .with_context(|| format!("no canonical block #{number}"))?;
        let record: Record = client
            .block(&hash)?
            .with_context(|| format!("block #{number} ({hash}) is missing its body"))?;
        let bytes = record.encode();
        out.write_all(&(bytes.len() as u32).to_le_bytes())?;
        out.write_all(&bytes)?;
        bar.inc(1);
    }
    out.flush()?;
    bar.finish_and_clear();
    eprintln!("exported blocks #{from}..=#{to} ({count} blocks)");
    Ok(())
}

/// What `import` did.
#[derive(Debug, Default)]
pub struct ImportSummary {
    /// Blocks imported.
    pub imported: u32,
    /// Blocks the database already had.
    pub known: u32,
}

/// Imports the blocks of `input` (`-` for stdin) into the chain at `db`.
/// Stops at the first bad block with its number and reason; every block
/// before it stays imported.
pub fn import(
    spec: &ChainSpec,
    db: &Path,
    pruning: Option<PruningMode>,
    input: &Path,
    quiet: bool,
) -> Result<ImportSummary> {
    let mut reader: Box<dyn Read> = if input.as_os_str() == "-" {
        Box::new(BufReader::new(std::io::stdin().lock()))
    } else {
        let file =
            std::fs::File::open(input).with_context(|| format!("opening {}", input.display()))?;
        Box::new(BufReader::new(file))
    };
    let mut magic = [0u8; 8];
    reader
        .read_exact(&mut magic)
        .context("reading the file header")?;
    if &magic != MAGIC {
        bail!(
            "{} is not a qstack block export (bad magic)",
            input.display()
        );
    }
    let mut genesis = [0u8; 32];
    reader
        .read_exact(&mut genesis)
        .context("reading the genesis hash")?;
    let finalized = read_u32(&mut reader).context("reading the finalised number")?;
    let count = read_u32(&mut reader).context("reading the block count")?;
    let client = open_client(spec, db, pruning)?;
    let ours = client.info()?.genesis_hash;
    if ours != H256(genesis) {
        bail!(
            "the file's blocks belong to the chain with genesis {}, but chain {} has genesis {ours}",
            H256(genesis),
            spec.id
        );
    }
    let bar = progress(u64::from(count), "importing", quiet);
    let mut summary = ImportSummary::default();
    for i in 0..count {
        let record = read_record(&mut reader)
            .with_context(|| format!("reading record {} of {count}", i + 1))?;
        let number = record.0.header.number;
        match import_one(&client, record, finalized)
            .with_context(|| format!("block #{number} (record {} of {count})", i + 1))?
        {
            ImportOutcome::Imported { .. } => summary.imported += 1,
            ImportOutcome::AlreadyKnown => summary.known += 1,
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let info = client.info()?;
    eprintln!(
        "imported {} blocks ({} already known); best #{} ({})",
        summary.imported, summary.known, info.best_number, info.best_hash
    );
    Ok(summary)
}

fn import_one(
    client: &Client,
    (block, justification): Record,
    finalized: u32,
) -> Result<ImportOutcome> {
    let is_final = block.header.number <= finalized;
    Ok(client.import_block(block, justification, is_final)?)
}

fn read_u32(r: &mut dyn Read) -> Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_record(r: &mut dyn Read) -> Result<Record> {
    let len = read_u32(r)? as usize;
    if len > MAX_RECORD {
        bail!("record of {len} bytes is over the {MAX_RECORD}-byte limit");
    }
    let mut bytes = vec![0u8; len];
    r.read_exact(&mut bytes)
        .context("file ends inside a record")?;
    let mut input = &bytes[..];
    let record = Record::decode(&mut input).context("undecodable block")?;
    if !input.is_empty() {
        bail!("{} trailing bytes after the block", input.len());
    }
    Ok(record)
}
