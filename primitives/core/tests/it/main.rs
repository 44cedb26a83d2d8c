//! Integration tests of qstack-core's public API (one binary per crate).

mod pair;
