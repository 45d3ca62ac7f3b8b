//! One module per command.

mod audit;
mod build;
mod check_listings;
mod demo;
mod init;
mod keygen;
mod log;
mod manifest;
mod mirror;
mod qr;
mod revoke;
mod serve;
mod sign;
mod trust;
mod verify;
mod witness;

use anyhow::Result;

use crate::cli::{Cli, Command};

/// Runs a command; returns the exit code (errors map to exit code 2 in `main`).
pub fn run(cli: Cli) -> Result<u8> {
    match cli.command {
        Command::Init(a) => init::run(&a),
        Command::Keygen(a) => keygen::run(&a),
        Command::Trust(c) => trust::run(c),
        Command::Sign(a) => sign::run(&a),
        Command::Revoke(a) => revoke::run(&a),
        Command::Qr(a) => qr::run(&a),
        Command::Verify(a) => verify::run(&a),
        Command::Build(a) => build::run(&a),
        Command::Serve(a) => serve::run(&a),
        Command::Demo(a) => demo::run(&a),
        Command::Log(c) => log::run(c),
        Command::Manifest(c) => manifest::run(c),
        Command::CheckListings(a) => check_listings::run(&a),
        Command::Audit(a) => audit::run(&a),
        Command::Witness(c) => witness::run(c),
        Command::Mirror(a) => mirror::run(&a),
    }
}
