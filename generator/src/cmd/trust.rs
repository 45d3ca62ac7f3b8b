//! `starmark trust list | add | retire | compromised`: the trust list, re-signed with the root key.

use anyhow::{bail, Context, Result};
use starmark_core::{from_hex, IssuerKey, KeyId, TrustList};

use crate::cli::{RegistryArg, RootKeyArg, TrustCommand};
use crate::registry::{Registry, TRUST_LIST_FILE};
use crate::{fsutil, keyfile, time};

pub fn run(cmd: TrustCommand) -> Result<u8> {
    match cmd {
        TrustCommand::List(a) => {
            let reg = Registry::locate(a.registry.registry.as_deref(), None)?;
            let trust = reg.trust_list()?;
            if a.json {
                println!("{}", serde_json::to_string_pretty(&trust)?);
            } else {
                print_list(&trust);
            }
            Ok(crate::EXIT_OK)
        }
        TrustCommand::Add(a) => {
            let key = keyfile::read_public(&a.public_key)?;
            let from = time::day_or_today(a.valid_from.as_deref(), "--valid-from")?;
            let until = match a.valid_until.as_deref() {
                Some(s) => time::parse_day(s, "--valid-until")?,
                None => from.checked_add(5 * 365).unwrap_or(starmark_core::Day::MAX),
            };
            if until < from {
                bail!("--valid-until {until} is before --valid-from {from}");
            }
            update(&a.registry, &a.root, |trust| {
                if trust.issuer(key.key_id()).is_some() {
                    bail!("key {} is already in the trust list", key.key_id());
                }
                trust
                    .issuers
                    .push(IssuerKey::new(key, a.name.clone(), from, until));
                trust.issuers.sort_by_key(|k| k.key_id);
                Ok(format!(
                    "added issuer key {} ({}), valid {from} to {until}",
                    key.key_id(),
                    a.name
                ))
            })
        }
        TrustCommand::Retire(a) => {
            let id = parse_key_id(&a.key_id)?;
            let date = time::day_or_today(a.date.as_deref(), "--date")?;
            update(&a.registry, &a.root, |trust| {
                let k = find(trust, id)?;
                if date < k.valid_from {
                    bail!(
                        "--date {date} is before the key's first day {}",
                        k.valid_from
                    );
                }
                k.valid_until = date;
                Ok(format!(
                    "retired issuer key {id}: it signs nothing that starts after {date}"
                ))
            })
        }
        TrustCommand::Compromised(a) => {
            let id = parse_key_id(&a.key_id)?;
            let since = time::day_or_today(a.since.as_deref(), "--since")?;
            update(&a.registry, &a.root, |trust| {
                find(trust, id)?.compromised_since = Some(since);
                Ok(format!(
                    "marked issuer key {id} compromised since {since}: every label it signed now verifies as ISSUER KEY COMPROMISED"
                ))
            })
        }
    }
}

fn parse_key_id(s: &str) -> Result<KeyId> {
    from_hex::<4>(s.trim())
        .map(KeyId)
        .with_context(|| format!("key id {s:?} is not 8 hex digits"))
}

fn find(trust: &mut TrustList, id: KeyId) -> Result<&mut IssuerKey> {
    trust
        .issuers
        .iter_mut()
        .find(|k| k.key_id == id)
        .with_context(|| format!("key {id} is not in the trust list"))
}

/// Loads the trust list, applies `change`, bumps the sequence and re-signs with the root key.
fn update(
    reg: &RegistryArg,
    root: &RootKeyArg,
    change: impl FnOnce(&mut TrustList) -> Result<String>,
) -> Result<u8> {
    let reg = Registry::locate(reg.registry.as_deref(), None)?;
    let _lock = crate::lock::Lock::registry(&reg.dir, "trust")?;
    let mut trust = reg.trust_list()?;
    let root_key = reg.root_secret(root.root_key.as_deref())?;
    if root_key.public_key() != reg.root_public_key()? {
        bail!(
            "the root secret key does not match the pinned root public key {}",
            reg.config.keys.root_public.display()
        );
    }
    let message = change(&mut trust)?;
    trust.sequence += 1;
    trust.issued_at = time::now();
    let bytes = trust.sign(&root_key)?;
    fsutil::write_atomic(&reg.path(TRUST_LIST_FILE), &bytes)?;
    println!("{message}");
    println!(
        "trust list #{} signed ({} issuer keys)",
        trust.sequence,
        trust.issuers.len()
    );
    Ok(crate::EXIT_OK)
}

fn print_list(trust: &TrustList) {
    println!(
        "trust list #{} ({} issuer keys)",
        trust.sequence,
        trust.issuers.len()
    );
    for k in &trust.issuers {
        let status = match k.compromised_since {
            Some(d) => format!("COMPROMISED since {d}"),
            None => format!("valid {} to {}", k.valid_from, k.valid_until),
        };
        println!("  {}  {}  {status}", k.key_id, k.name);
    }
}
