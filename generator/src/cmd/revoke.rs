//! `starmark revoke SERIAL --reason R [--date D]` and `starmark revoke --refresh`.

use anyhow::{bail, Context, Result};
use starmark_core::date::SECONDS_PER_DAY;
use starmark_core::log::Entry;
use starmark_core::{Reason, Revocation};

use crate::cli::RevokeArgs;
use crate::registry::{Registry, REVOCATION_LIST_FILE};
use crate::{fsutil, time};

pub fn run(args: &RevokeArgs) -> Result<u8> {
    let reg = Registry::locate(args.registry.registry.as_deref(), None)?;
    let _lock = crate::lock::Lock::registry(&reg.dir, "revoke")?;
    let trust = reg.trust_list()?;
    let mut list = reg.revocation_list_for_resigning(&trust)?;
    let key = reg.issuer_secret()?;
    let key_id = key.public_key().key_id();
    match trust.issuer(key_id) {
        None => bail!("the issuer key {key_id} is not in the trust list"),
        Some(k) if k.compromised_since.is_some() => {
            bail!("the issuer key {key_id} is marked compromised; use another key")
        }
        Some(_) => {}
    }

    let message = if args.refresh {
        format!("refreshed, {} revoked", list.entries.len())
    } else {
        let serial = args.serial.context("SERIAL is required")?;
        let reason_name = args.reason.as_deref().unwrap_or_default();
        let reason = Reason::from_name(reason_name).with_context(|| {
            let names: Vec<&str> = Reason::ALL.iter().map(|r| r.name()).collect();
            format!(
                "--reason: unknown reason {reason_name:?} (one of: {})",
                names.join(", ")
            )
        })?;
        let date = time::day_or_today(args.date.as_deref(), "--date")?;
        // Drafts that do not parse yet must not block a revocation: look only at good records.
        let known = reg
            .record_files()?
            .iter()
            .filter_map(|p| reg.load_record(p).ok())
            .any(|(r, _)| r.serial == serial);
        if !known {
            bail!(
                "serial {serial}: no record in {} has this serial",
                reg.path(crate::registry::RECORDS_DIR).display()
            );
        }
        let previous = list.lookup(serial).copied();
        list.insert(Revocation {
            serial,
            date,
            reason,
        });
        match previous {
            Some(p) => format!(
                "serial {serial} was revoked already ({} on {}); now {} on {date}",
                p.reason.name(),
                p.date,
                reason.name()
            ),
            None => format!("revoked serial {serial}: {} on {date}", reason.name()),
        }
    };

    let now = time::now();
    list.key_id = key_id;
    list.sequence += 1;
    list.issued_at = now;
    list.next_update = now + u64::from(reg.config.revocation.validity_days) * SECONDS_PER_DAY;
    let bytes = list.sign(&key)?;
    // The log first: a list is never published that the log misses.
    let logged = crate::log::append(
        &reg,
        &trust,
        &trust,
        &[Entry::revocation_list(list.sequence, &bytes)],
    )?;
    fsutil::write_atomic(&reg.path(REVOCATION_LIST_FILE), &bytes)?;
    outln!("{message}");
    outln!(
        "revocation list #{} signed by key {key_id}; next update due {}",
        list.sequence,
        starmark_core::Day::from_unix(list.next_update)
    );
    if let Some(a) = logged {
        outln!("{a}");
    }
    Ok(crate::EXIT_OK)
}
