//! The `qstack` binary end to end, in one test binary (one link of the
//! whole node instead of one per file): real processes on loopback, free
//! ports, temporary base paths; every node is killed when its test ends.

mod common;

mod accounts_e2e;
mod amm_e2e;
mod bft_adversary;
mod bft_e2e;
mod dev_seal;
mod did_e2e;
mod e2e;
mod local_testnet;
mod network_e2e;
mod network_garbage;
mod node_key_cli;
mod operator_flags;
mod polkadot_js;
mod python;
mod rpc_flags;
mod staking_e2e;
mod subxt;
mod tokens_e2e;
mod tx_call;
mod upgrade_e2e;
