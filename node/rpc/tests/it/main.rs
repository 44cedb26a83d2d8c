//! The RPC server over real loopback sockets, against the in-memory test
//! backend: every method's JSON shape, the subscriptions, and bad input.

mod amm;
mod bad_input;
mod chain_head;
mod common;
mod did;
mod gov;
mod guard;
mod methods;
mod network;
mod spec_common;
mod spec_v2;
mod staking;
mod subscriptions;
mod tokens;
