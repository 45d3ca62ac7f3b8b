//! End-to-end tests of the `starmark` binary: each test makes its own registry in a temp dir
//! with `starmark init DIR --issuer-valid-from 2026-01-01` and runs the real built binary.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Tests print freely (clippy.toml disallows printing macros for the binary's closed-pipe rule).
#![allow(clippy::disallowed_macros)]

mod audit;
mod bad_records;
mod cli;
mod common;
mod english;
mod labels;
mod listings;
mod log;
mod manifest;
mod mirror;
mod names;
mod publish;
mod qr;
mod records_walk;
mod revoke;
mod serve;
mod sign;
mod site;
mod trust;
mod verify;
mod walkthrough;
