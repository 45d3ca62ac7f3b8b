//! `starmark witness add FILE`.

use anyhow::Result;

use crate::cli::{WitnessAddArgs, WitnessCommand};
use crate::registry::Registry;
use crate::witness;

pub fn run(cmd: WitnessCommand) -> Result<u8> {
    match cmd {
        WitnessCommand::Add(a) => add(&a),
    }
}

fn add(args: &WitnessAddArgs) -> Result<u8> {
    let reg = Registry::locate(args.registry.registry.as_deref(), Some(&args.file))?;
    let added = witness::add(&reg, &args.file)?;
    outln!(
        "added the cosignature of {} to the checkpoint of size {}: {} of {} known witness{} cosigned it; run `starmark build` to publish it",
        added.names.join(", "),
        added.size,
        added.cosigned,
        added.known,
        if added.known == 1 { "" } else { "es" }
    );
    Ok(crate::EXIT_OK)
}
