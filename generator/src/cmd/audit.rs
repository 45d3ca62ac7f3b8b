//! `starmark audit TARGET [--root HEX] [--state FILE] [--rebuild] [--cosign KEY] [--json]`.

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{bail, Context, Result};
use starmark_core::{from_hex, to_hex, PublicKey};

use crate::audit::rebuild::Inputs;
use crate::audit::state::{Remembered, State, FORMAT};
use crate::audit::{self, target, witness, Options, Report};
use crate::cli::AuditArgs;
use crate::registry::{Registry, CONFIG_FILE};
use crate::{fsutil, keyfile, time};

/// What was written after a successful audit.
#[derive(Default, serde::Serialize)]
struct Written {
    /// The state file, when it was updated.
    state: Option<String>,
    /// The cosigned checkpoint, when one was written.
    cosignature: Option<String>,
    /// The witness's verifier key, when it cosigned.
    witness_vkey: Option<String>,
}

pub fn run(args: &AuditArgs) -> Result<u8> {
    let root_key = root_key(args)?;
    let at = match &args.at {
        Some(s) => time::parse_instant(s)?,
        None => time::now(),
    };
    let cosigner = match &args.cosign {
        Some(path) => {
            let key = keyfile::read_secret(path)?;
            let witness = witness::witness_key(&key, args.witness_name.as_deref())
                .context("--witness-name")?;
            Some((key, witness))
        }
        None => None,
    };
    let loaded = match &args.state {
        Some(path) => State::load(path)?,
        None => None,
    };
    if let (Some(path), Some(state)) = (&args.state, &loaded) {
        let ours = to_hex(&root_key.to_bytes());
        if state.root_key != ours {
            bail!(
                "{}: the state of an audit of another registry (root key {}), not of root key {ours}",
                path.display(),
                state.root_key
            );
        }
    }
    let remembered = match (&args.state, &loaded) {
        (None, _) => Remembered::Off,
        (Some(_), None) => Remembered::First,
        (Some(_), Some(s)) => Remembered::Seen(s),
    };
    let site = target::open(&args.target)?;
    let report = audit::audit(Options {
        target: site.as_ref(),
        root_key,
        at,
        state: remembered,
        rebuild: args.rebuild.then(|| Inputs {
            registry: args.registry.clone(),
        }),
        progress: !args.quiet && !args.json && std::io::stderr().is_terminal(),
    })?;
    let mut written = Written::default();
    if report.ok {
        if let (Some(path), Some(seen)) = (&args.state, &report.checkpoint) {
            State {
                format: FORMAT.to_string(),
                root_key: report.root_key.clone(),
                target: report.target.clone(),
                checkpoint: seen.note.clone(),
                trust_list_sequence: report.lists.trust_list_sequence.unwrap_or_default(),
                revocation_list_sequence: report.lists.revocation_list_sequence.unwrap_or_default(),
                audited_at: time::now(),
            }
            .save(path, loaded.as_ref())?;
            written.state = Some(path.display().to_string());
        }
        if let (Some((key, w)), Some(seen)) = (&cosigner, &report.checkpoint) {
            let note = witness::cosign(seen, key, w, time::now())?;
            fsutil::write_atomic(&args.cosignature, note.as_bytes())?;
            written.cosignature = Some(args.cosignature.display().to_string());
            written.witness_vkey = Some(w.to_vkey());
        }
    }
    let code = if report.ok {
        crate::EXIT_OK
    } else {
        crate::EXIT_NOT_VALID
    };
    crate::output::set_exit_code_if_closed(code);
    if args.json {
        let mut v = serde_json::to_value(&report)?;
        v["written"] = serde_json::to_value(&written)?;
        outln!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_report(&report, &written, args);
    }
    Ok(code)
}

/// The pinned root key: `--root`, or the root key of `--registry`, or of the registry whose
/// output TARGET is.
fn root_key(args: &AuditArgs) -> Result<PublicKey> {
    if let Some(hex) = &args.root {
        let bytes = from_hex::<32>(hex.trim())
            .with_context(|| format!("--root {hex:?} is not 64 hex digits"))?;
        return PublicKey::from_bytes(&bytes).with_context(|| format!("--root {hex}: refused"));
    }
    let registry = match &args.registry {
        Some(r) => r.clone(),
        None => match Path::new(&args.target)
            .parent()
            .filter(|p| p.join(CONFIG_FILE).is_file())
        {
            Some(p) => p.to_path_buf(),
            None => bail!(
                "no root key: pass --root HEX (the registry's pinned root public key) or --registry DIR"
            ),
        },
    };
    Registry::open(&registry)?.root_public_key()
}

use crate::plural::count as plural;

fn print_report(r: &Report, written: &Written, args: &AuditArgs) {
    outln!("audit of {} (root key {}):", r.target, r.root_key);
    print_files_and_lists(r);
    print_log_and_after(r, args);
    print_outcome(r, written, args);
}

/// The manifest, lists and certifications lines.
fn print_files_and_lists(r: &Report) {
    let m = &r.manifest;
    let signed = m
        .signed_by
        .as_ref()
        .map_or("not signed by a trusted key".to_string(), |k| {
            format!("signed by issuer key {k}")
        });
    outln!(
        "  manifest: root {}, {signed}; {} in {}, {} checked{}",
        m.root_sha256.as_deref().unwrap_or("(none)"),
        plural(m.files, "file", "files"),
        plural(m.listings, "listing", "listings"),
        m.checked,
        if m.extra_files_checked {
            ", extra files looked for"
        } else {
            " (a URL cannot be listed: extra files not looked for)"
        }
    );
    let l = &r.lists;
    match l.trust_list_sequence {
        Some(seq) => out!(
            "  lists: trust list #{seq} ({}, {})",
            plural(l.issuer_keys, "issuer key", "issuer keys"),
            plural(l.log_keys, "log key", "log keys")
        ),
        None => out!("  lists: no trusted trust list"),
    }
    match l.revocation_list_sequence {
        Some(seq) => outln!(
            "; revocation list #{seq} ({} revoked), issued {}, next update {}: {}",
            l.revoked,
            l.revocation_issued.as_deref().unwrap_or(""),
            l.revocation_next_update.as_deref().unwrap_or(""),
            if l.fresh { "fresh" } else { "stale" }
        ),
        None => outln!("; no verified revocation list"),
    }
    let c = &r.certifications;
    outln!(
        "  certifications: {} on the site; {} and {} verified{}",
        c.on_site,
        plural(c.signatures_verified, "signature", "signatures"),
        plural(c.records_verified, "record", "records"),
        if c.by_compromised_keys > 0 {
            format!(
                " ({} by keys now marked compromised)",
                c.by_compromised_keys
            )
        } else {
            String::new()
        }
    );
}

/// The log, completeness, state, witnesses and rebuild lines.
fn print_log_and_after(r: &Report, args: &AuditArgs) {
    let g = &r.log;
    match &g.origin {
        Some(origin) => outln!(
            "  log: {origin}, {} ({}, {}, {}), checkpoint signed by log key {}; tree recomputed from the entries: {}",
            plural(g.size as usize, "entry", "entries"),
            plural(g.claims, "claim", "claims"),
            plural(g.trust_lists, "trust list", "trust lists"),
            plural(g.revocation_lists, "revocation list", "revocation lists"),
            g.log_key.as_deref().unwrap_or(""),
            if g.whole { "whole" } else { "does not match" }
        ),
        None => outln!("  log: not verified"),
    }
    let k = &r.completeness;
    if k.checked {
        outln!(
            "  completeness: {} of {} on the site {} in the log; {} in the log: {} on the site, {} revoked and not on the site; {}",
            k.site_in_log,
            plural(r.certifications.on_site, "certification", "certifications"),
            crate::plural::noun(k.site_in_log, "is", "are"),
            plural(k.log_serials, "serial", "serials"),
            k.log_on_site,
            k.revoked_not_on_site,
            plural(k.superseded_claims, "superseded claim", "superseded claims")
        );
    } else {
        outln!("  completeness: not checked (no whole log)");
    }
    let s = &r.state;
    match (&args.state, s.first, s.previous_size) {
        (None, _, _) => {
            outln!("  state: none (pass --state FILE to check that the log only grows)")
        }
        (Some(p), true, _) => outln!("  state: first audit with {}", p.display()),
        (Some(p), false, Some(size)) => outln!(
            "  state: {} the checkpoint seen before in {} (size {size})",
            if s.consistent {
                "consistent with"
            } else {
                "NOT shown consistent with"
            },
            p.display()
        ),
        (Some(p), false, None) => outln!("  state: {}", p.display()),
    }
    let w = &r.witnesses;
    let names: Vec<String> = w
        .witnesses
        .iter()
        .filter(|x| x.cosigned)
        .map(|x| format!("{} ({})", x.name, x.date.as_deref().unwrap_or("")))
        .collect();
    outln!(
        "  witnesses: {} of {} cosigned this checkpoint{}",
        w.cosigned,
        plural(w.known, "known witness", "known witnesses"),
        if names.is_empty() {
            String::new()
        } else {
            format!(": {}", names.join(", "))
        }
    );
    if let Some(b) = &r.rebuild {
        if b.built {
            outln!(
                "  rebuild (configuration from {}): {} compared, {} identical, {} different",
                b.config_from,
                plural(b.files, "file", "files"),
                b.identical,
                b.differences
            );
        } else {
            outln!(
                "  rebuild (configuration from {}): did not build",
                b.config_from
            );
        }
    }
}

/// The problems, and what was written.
fn print_outcome(r: &Report, written: &Written, args: &AuditArgs) {
    if r.problems.is_empty() {
        outln!("everything held");
    } else {
        outln!("{}:", plural(r.problems.len(), "problem", "problems"));
        for p in &r.problems {
            outln!("  {p}");
        }
    }
    if let Some(p) = &written.state {
        outln!("state written to {p}");
    } else if let Some(p) = &args.state {
        if !r.ok {
            outln!("state file {} not updated", p.display());
        }
    }
    if let (Some(p), Some(v)) = (&written.cosignature, &written.witness_vkey) {
        outln!("cosigned checkpoint written to {p}; the registry lists this witness as\n  [[witness]]\n  vkey = \"{v}\"");
    } else if args.cosign.is_some() && !r.ok {
        outln!("not cosigned: a witness cosigns only a checkpoint whose audit held");
    }
}
