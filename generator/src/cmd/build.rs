//! `starmark build [REGISTRY] [--out DIR]`.

use anyhow::Result;

use crate::cli::BuildArgs;
use crate::site::{build, BuildOptions};
use crate::time;

pub fn run(args: &BuildArgs) -> Result<u8> {
    let at = args.at.as_deref().map(time::parse_instant).transpose()?;
    let opts = BuildOptions {
        registry: args.registry.clone(),
        out: args.out.clone(),
        quiet: args.quiet,
        full: args.full,
        at,
        sign_manifest: args.sign_manifest,
    };
    let summary = build(&opts)?;
    if !args.quiet {
        outln!("{summary}");
    }
    Ok(crate::EXIT_OK)
}
