//! `starmark`: the command line of the starmark label registry.

#[macro_use]
mod output;

mod audit;
mod cli;
mod cmd;
mod fsutil;
mod http;
mod keyfile;
mod label;
mod listings;
mod lock;
mod log;
mod manifest;
mod mirror;
mod names;
mod plural;
mod qrcode_image;
mod registry;
mod signed;
mod site;
mod source;
mod time;
mod witness;

use std::process::ExitCode;

use clap::Parser;

/// Exit code: success (for `verify`: valid and not stale).
pub const EXIT_OK: u8 = 0;
/// Exit code: `verify` found any verdict other than valid-and-fresh.
pub const EXIT_NOT_VALID: u8 = 1;
/// Exit code: usage or input error.
pub const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cmd::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) if output::is_broken_pipe(&e) => output::exit_closed(),
        Err(e) => {
            errln!("starmark: error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
