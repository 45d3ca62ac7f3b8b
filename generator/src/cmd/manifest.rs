//! `starmark manifest sign [REGISTRY]` and `starmark manifest verify DIR [--root HEX]`.

use std::path::Path;

use anyhow::{bail, Context, Result};
use starmark_core::{from_hex, PublicKey};

use crate::cli::{ManifestCommand, ManifestSignArgs, ManifestVerifyArgs};
use crate::manifest::{check_site, Report};
use crate::registry::{Registry, CONFIG_FILE};
use crate::site::{build, BuildOptions};

pub fn run(cmd: ManifestCommand) -> Result<u8> {
    match cmd {
        ManifestCommand::Sign(a) => sign(&a),
        ManifestCommand::Verify(a) => verify(&a),
    }
}

/// A build that signs: the site is brought up to date first, so the root signed is the one
/// published.
fn sign(args: &ManifestSignArgs) -> Result<u8> {
    let summary = build(&BuildOptions {
        registry: args.registry.clone(),
        out: args.out.clone(),
        quiet: args.quiet,
        full: false,
        at: None,
        sign_manifest: true,
    })?;
    if !args.quiet {
        outln!("{summary}");
    }
    Ok(crate::EXIT_OK)
}

fn root_key(args: &ManifestVerifyArgs) -> Result<PublicKey> {
    if let Some(hex) = &args.root {
        let bytes = from_hex::<32>(hex.trim())
            .with_context(|| format!("--root {hex:?} is not 64 hex digits"))?;
        return PublicKey::from_bytes(&bytes).with_context(|| format!("--root {hex}: refused"));
    }
    let registry = match &args.registry {
        Some(r) => r.clone(),
        None => match args.dir.parent().filter(|p| p.join(CONFIG_FILE).is_file()) {
            Some(p) => p.to_path_buf(),
            None => bail!(
                "no root key: pass --root HEX (the registry's pinned root public key) or --registry DIR"
            ),
        },
    };
    Registry::open(&registry)?.root_public_key()
}

fn verify(args: &ManifestVerifyArgs) -> Result<u8> {
    let key = root_key(args)?;
    let report = check_site(&args.dir, &key, args.allow_unsigned)?;
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        v["ok"] = serde_json::Value::Bool(report.problems.is_empty());
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_report(&args.dir, &report);
    }
    Ok(if report.problems.is_empty() {
        crate::EXIT_OK
    } else {
        crate::EXIT_NOT_VALID
    })
}

fn print_report(dir: &Path, r: &Report) {
    let signed = match &r.signed_by {
        Some(k) => format!("signed by issuer key {k}"),
        None => "not signed by a trusted key".to_string(),
    };
    match &r.root_sha256 {
        Some(h) => outln!("manifest of {}: root {h}, {signed}", dir.display()),
        None => outln!("manifest of {}:", dir.display()),
    }
    if let Some(c) = &r.checkpoint_sha256 {
        outln!("  log checkpoint {c}");
    }
    outln!(
        "  {} in {}; {}",
        crate::plural::count(r.files, "file", "files"),
        crate::plural::count(r.listings, "listing", "listings"),
        crate::plural::count(r.problems.len(), "problem", "problems")
    );
    for p in &r.problems {
        outln!("  {p}");
    }
}
