//! Integration tests of the chain database, against in-memory and RocksDB
//! backends.

mod chain;
mod common;
mod corrupt;
mod crash;
mod prop;
mod pruning;
