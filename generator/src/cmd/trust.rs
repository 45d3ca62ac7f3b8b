//! `starmark trust list | add | retire | compromised`: the trust list, re-signed with the root key.

use anyhow::{bail, Context, Result};
use starmark_core::log::Entry;
use starmark_core::{from_hex, IssuerKey, KeyId, TrustList};

use crate::cli::{PurposeArg, RegistryArg, RootKeyArg, TrustCommand};
use crate::registry::{Registry, TRUST_LIST_FILE};
use crate::{fsutil, keyfile, time};

pub fn run(cmd: TrustCommand) -> Result<u8> {
    match cmd {
        TrustCommand::List(a) => {
            let reg = Registry::locate(a.registry.registry.as_deref(), None)?;
            let trust = reg.trust_list()?;
            if a.json {
                outln!("{}", serde_json::to_string_pretty(&trust)?);
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
                if trust.issuer(key.key_id()).is_some() || trust.log_key(key.key_id()).is_some() {
                    bail!("key {} is already in the trust list", key.key_id());
                }
                let (keys, what) = match a.purpose {
                    PurposeArg::Issuer => (&mut trust.issuers, "issuer"),
                    PurposeArg::Log => (&mut trust.log_keys, "log"),
                };
                keys.push(IssuerKey::new(key, a.name.clone(), from, until));
                keys.sort_by_key(|k| k.key_id);
                Ok(format!(
                    "added {what} key {} ({}), valid {from} to {until}",
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
                    "retired {} key {id}: it signs nothing that starts after {date}",
                    purpose_of(trust, id)
                ))
            })
        }
        TrustCommand::Compromised(a) => {
            let id = parse_key_id(&a.key_id)?;
            let since = time::day_or_today(a.since.as_deref(), "--since")?;
            update(&a.registry, &a.root, |trust| {
                find(trust, id)?.compromised_since = Some(since);
                Ok(if trust.log_key(id).is_some() {
                    format!("marked log key {id} compromised since {since}: checkpoints it signs are refused")
                } else {
                    format!("marked issuer key {id} compromised since {since}: every label it signed now verifies as ISSUER KEY COMPROMISED")
                })
            })
        }
    }
}

fn parse_key_id(s: &str) -> Result<KeyId> {
    from_hex::<4>(s.trim())
        .map(KeyId)
        .with_context(|| format!("key id {s:?} is not 8 hex digits"))
}

/// The issuer or log key with this id.
fn find(trust: &mut TrustList, id: KeyId) -> Result<&mut IssuerKey> {
    trust
        .issuers
        .iter_mut()
        .chain(trust.log_keys.iter_mut())
        .find(|k| k.key_id == id)
        .with_context(|| format!("key {id} is not in the trust list"))
}

fn purpose_of(trust: &TrustList, id: KeyId) -> &'static str {
    if trust.log_key(id).is_some() {
        "log"
    } else {
        "issuer"
    }
}

/// Loads the trust list, applies `change`, bumps the sequence and re-signs with the root key.
fn update(
    reg: &RegistryArg,
    root: &RootKeyArg,
    change: impl FnOnce(&mut TrustList) -> Result<String>,
) -> Result<u8> {
    let reg = Registry::locate(reg.registry.as_deref(), None)?;
    let _lock = crate::lock::Lock::registry(&reg.dir, "trust")?;
    let current = reg.trust_list()?;
    let mut trust = current.clone();
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
    // The log first, its new checkpoint signed by a log key of the new list: a change that
    // would leave the configured log key unusable is refused before anything is written.
    let logged = crate::log::append(
        &reg,
        &current,
        &trust,
        &[Entry::trust_list(trust.sequence, &bytes)],
    )?;
    fsutil::write_atomic(&reg.path(TRUST_LIST_FILE), &bytes)?;
    outln!("{message}");
    outln!(
        "trust list #{} signed ({} issuer keys, {} log keys)",
        trust.sequence,
        trust.issuers.len(),
        trust.log_keys.len()
    );
    if let Some(a) = logged {
        outln!("{a}");
    }
    Ok(crate::EXIT_OK)
}

fn print_list(trust: &TrustList) {
    outln!(
        "trust list #{} ({} issuer keys, {} log keys)",
        trust.sequence,
        trust.issuers.len(),
        trust.log_keys.len()
    );
    let keys = trust
        .issuers
        .iter()
        .map(|k| ("issuer", k))
        .chain(trust.log_keys.iter().map(|k| ("log", k)));
    for (what, k) in keys {
        let status = match k.compromised_since {
            Some(d) => format!("COMPROMISED since {d}"),
            None => format!("valid {} to {}", k.valid_from, k.valid_until),
        };
        outln!("  {}  {what:<6}  {}  {status}", k.key_id, k.name);
    }
}
