//! Integration tests of `starmark-core`, one binary with a module per area: every verdict from
//! label digits to outcome, the public Ed25519 edge-case vectors, and the golden format vectors
//! under `tests/vectors/`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Tests print freely (clippy.toml disallows printing macros for the binary's closed-pipe rule).
#![allow(clippy::disallowed_macros)]

mod ed25519_vectors;
mod format_vectors;
mod listings;
mod verdict;
