//! Key files: one line of hex, with `#` comment lines. Secret files are written mode 0600 and
//! their contents are never printed.

use std::path::Path;

use anyhow::{bail, Context, Result};
use starmark_core::{from_hex, to_hex, PublicKey, SecretKey};

use crate::fsutil;

const SECRET_HEADER: &str =
    "# starmark Ed25519 secret key (seed). Keep it secret: never share, never print.\n";
const PUBLIC_HEADER: &str = "# starmark Ed25519 public key\n";

fn hex_line(path: &Path, what: &str) -> Result<[u8; 32]> {
    let text = fsutil::read_text(path)?;
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    match lines.as_slice() {
        [line] => from_hex::<32>(line)
            .with_context(|| format!("{}: not a {what} (expected 64 hex digits)", path.display())),
        _ => bail!(
            "{}: not a {what} (expected one line of 64 hex digits)",
            path.display()
        ),
    }
}

/// Reads a secret key file. Refuses a file that others can read.
pub fn read_secret(path: &Path) -> Result<SecretKey> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .with_context(|| format!("{}: cannot read secret key", path.display()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            bail!(
                "{}: secret key is readable by others (mode {:o}); run chmod 600 on it",
                path.display(),
                meta.permissions().mode() & 0o777
            );
        }
    }
    Ok(SecretKey::from_seed(&hex_line(path, "secret key")?))
}

/// Reads a public key file; refuses weak and non-canonical keys.
pub fn read_public(path: &Path) -> Result<PublicKey> {
    let bytes = hex_line(path, "public key")?;
    PublicKey::from_bytes(&bytes).with_context(|| format!("{}: public key refused", path.display()))
}

/// Writes a public key file.
pub fn write_public(path: &Path, key: &PublicKey) -> Result<()> {
    fsutil::write_atomic(
        path,
        format!("{PUBLIC_HEADER}{}\n", to_hex(&key.to_bytes())).as_bytes(),
    )
}

/// Generates a key pair and writes `base.key` (0600) and `base.pub`. Refuses to overwrite.
pub fn generate(base: &Path) -> Result<SecretKey> {
    let secret_path = with_suffix(base, "key");
    let public_path = with_suffix(base, "pub");
    for p in [&secret_path, &public_path] {
        if p.exists() {
            bail!(
                "{}: already exists; refusing to overwrite a key",
                p.display()
            );
        }
    }
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no system randomness: {e}"))?;
    let key = SecretKey::from_seed(&seed);
    fsutil::write_secret(
        &secret_path,
        format!("{SECRET_HEADER}{}\n", to_hex(&seed)).as_bytes(),
    )?;
    write_public(&public_path, &key.public_key())?;
    Ok(key)
}

/// `base` with `.ext` appended (keeping any dot already in the name: `issuer.v2` -> `issuer.v2.key`).
pub fn with_suffix(base: &Path, ext: &str) -> std::path::PathBuf {
    let mut s = base.as_os_str().to_os_string();
    s.push(".");
    s.push(ext);
    s.into()
}
