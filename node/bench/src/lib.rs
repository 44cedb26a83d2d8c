//! The qstack node's benchmarks, behind `qstack benchmark …`: block import
//! per key scheme against bare signature verification ([`import`]), sync
//! over loopback libp2p against direct import ([`sync`]), and four BFT
//! validators in one process under a steady transfer load ([`bft`]), DID
//! resolution over RPC ([`did`]). Each
//! prints a table, or with `--json` one JSON object; the options are clap
//! structs the binary embeds as they are.

pub mod bft;
pub mod db;
pub mod did;
pub mod import;
pub mod sync;

use anyhow::Result;

/// `qstack benchmark …`.
#[derive(clap::Subcommand, Debug)]
pub enum BenchmarkCommand {
    /// Import throughput: transfers/s per key scheme and asset kind against bare signature verification.
    Import(import::ImportArgs),
    /// Sync throughput: a follower catching up over loopback libp2p against direct import of the same blocks.
    Sync(sync::SyncArgs),
    /// BFT: four validators in one process; blocks/s, finality latency and finalised transfers/s under load.
    Bft(bft::BftArgs),
    /// Database: one trie read and one write (with its share of the commit) on RocksDB, against the runtime's declared database weights.
    Db(db::DbArgs),
    /// DID resolution: `did_resolve` latency over JSON-RPC on a dev node holding many DIDs, against a bare RPC round trip.
    Did(did::DidArgs),
}

/// Runs a benchmark command.
pub fn run(cmd: BenchmarkCommand) -> Result<()> {
    match cmd {
        BenchmarkCommand::Import(args) => import::run(args),
        BenchmarkCommand::Sync(args) => sync::run(args),
        BenchmarkCommand::Bft(args) => bft::run(args),
        BenchmarkCommand::Db(args) => db::run(args),
        BenchmarkCommand::Did(args) => did::run(args),
    }
}
