//! `starmark verify TARGET`: the verdict for a verify URL, digits, or a photo of a QR code.

use std::path::Path;

use anyhow::Result;
use serde::Serialize;
use starmark_core::verdict::{verify_target, Context, Verdict, Verification};
use starmark_core::{Claim, Day, Revocation};

use crate::cli::VerifyArgs;
use crate::registry::{Registry, REVOCATION_LIST_FILE};
use crate::{qrcode_image, time};

pub fn run(args: &VerifyArgs) -> Result<u8> {
    let reg = Registry::locate(args.registry.registry.as_deref(), None)?;
    let trust = reg.trust_list()?;
    let list_path = reg.path(REVOCATION_LIST_FILE);
    let revocations = if is_missing(&list_path) {
        eprintln!(
            "starmark: warning: {}: no revocation list; the verdict is computed without revocation data and marked stale",
            list_path.display()
        );
        None
    } else {
        reg.revocation_list_unless_compromised(&trust)?
    };
    let now = match &args.at {
        Some(s) => time::parse_instant(s)?,
        None => time::now(),
    };
    let target = if looks_like_image(&args.target) {
        qrcode_image::decode_file(Path::new(&args.target))?
    } else {
        args.target.clone()
    };
    let ctx = Context {
        trust: &trust,
        revocations: revocations.as_ref(),
        now,
        highest_seen_sequence: args.seen_sequence,
    };
    let v = verify_target(&target, &ctx);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&JsonVerdict::from(&v))?);
    } else {
        print_human(&v);
    }
    Ok(if v.is_valid_and_fresh() {
        crate::EXIT_OK
    } else {
        crate::EXIT_NOT_VALID
    })
}

/// Whether nothing at all is at `path`. Anything there (a damaged file, a directory, a dangling
/// link) is read and refused with an error instead.
fn is_missing(path: &Path) -> bool {
    matches!(std::fs::symlink_metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
}

fn looks_like_image(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    !target.contains('#') && [".png", ".jpg", ".jpeg"].iter().any(|e| lower.ends_with(e))
}

/// The `--json` output: a flat object, stable field names.
#[derive(Serialize)]
struct JsonVerdict<'a> {
    verdict: &'static str,
    stale: bool,
    rollback: bool,
    serial: Option<u64>,
    manufacturer: Option<&'a str>,
    model: Option<&'a str>,
    tier: Option<u8>,
    category: Option<&'a str>,
    valid_from: Option<Day>,
    valid_until: Option<Day>,
    key_id: Option<String>,
    issuer: Option<&'a str>,
    record_sha256: Option<String>,
    revocation: Option<&'a Revocation>,
    revocation_sequence: Option<u64>,
    detail: Option<&'a str>,
}

impl<'a> From<&'a Verification> for JsonVerdict<'a> {
    fn from(v: &'a Verification) -> Self {
        let c: Option<&Claim> = v.claim.as_ref();
        JsonVerdict {
            verdict: v.verdict.name(),
            stale: v.stale,
            rollback: v.rollback,
            serial: c.map(|c| c.serial),
            manufacturer: c.map(|c| c.manufacturer.as_str()),
            model: c.map(|c| c.model.as_str()),
            tier: c.map(|c| c.tier.stars()),
            category: c.map(|c| c.category.as_str()),
            valid_from: c.map(|c| c.valid_from),
            valid_until: c.map(|c| c.valid_until),
            key_id: c.map(|c| c.key_id.to_string()),
            issuer: v.issuer.as_deref(),
            record_sha256: c.map(|c| starmark_core::to_hex(&c.record_sha256)),
            revocation: v.revocation.as_ref(),
            revocation_sequence: v.revocation_sequence,
            detail: v.detail.as_deref(),
        }
    }
}

fn headline(v: &Verification) -> &'static str {
    match v.verdict {
        Verdict::Valid if v.stale => "VALID, BUT REVOCATION DATA IS STALE: the label is genuine; its revocation status could not be confirmed",
        Verdict::Valid => "VALID: genuine and valid",
        Verdict::Expired => "EXPIRED: genuine, but the certification has expired",
        Verdict::NotYetValid => "NOT YET VALID: genuine, but the certification has not started",
        Verdict::Revoked => "REVOKED: the certification was revoked",
        Verdict::Counterfeit => "COUNTERFEIT: the signature does not verify; this label was not issued as shown",
        Verdict::UnknownIssuer => "UNKNOWN ISSUER: not signed by a key of this registry",
        Verdict::IssuerCompromised => "ISSUER KEY COMPROMISED: the signing key was compromised; do not trust this label",
        Verdict::Malformed => "MALFORMED: the code is damaged or not a label code",
    }
}

fn print_human(v: &Verification) {
    println!("{}", headline(v));
    if let Some(c) = &v.claim {
        let stars =
            "★".repeat(usize::from(c.tier.stars())) + &"☆".repeat(3 - usize::from(c.tier.stars()));
        println!("  serial        {}", c.serial);
        println!("  manufacturer  {}", c.manufacturer);
        println!("  model         {}", c.model);
        println!("  tier          {stars} ({})", c.tier.stars());
        println!("  category      {}", c.category);
        println!("  valid         {} to {}", c.valid_from, c.valid_until);
        println!(
            "  issuer        {} (key {})",
            v.issuer.as_deref().unwrap_or("?"),
            c.key_id
        );
    }
    if let Some(r) = &v.revocation {
        println!("  revoked       {} ({})", r.date, r.reason.name());
    }
    if v.rollback {
        println!("  warning       the revocation list is older than one seen before (rollback); it was ignored");
    }
    if v.stale && !v.rollback {
        if v.revocation_sequence.is_none() {
            println!("  warning       no revocation list was used: whether the label is revoked is unknown");
        } else {
            println!("  warning       the revocation list is past its next-update date");
        }
    }
    if let Some(d) = &v.detail {
        println!("  detail        {d}");
    }
}
