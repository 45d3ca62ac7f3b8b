//! `starmark keygen PATH`.

use anyhow::Result;

use crate::cli::KeygenArgs;
use crate::keyfile;

pub fn run(args: &KeygenArgs) -> Result<u8> {
    let key = keyfile::generate(&args.path)?;
    outln!("key id {}", key.public_key().key_id());
    outln!(
        "secret key: {} (mode 0600; keep it secret)",
        keyfile::with_suffix(&args.path, "key").display()
    );
    outln!(
        "public key: {}",
        keyfile::with_suffix(&args.path, "pub").display()
    );
    Ok(crate::EXIT_OK)
}
