//! `starmark verify TARGET`: the verdict for a verify URL, digits, or a photo of a QR code.

use std::path::Path;

use anyhow::Result;
use rayon::prelude::*;
use starmark_core::verdict::{verify_target, Context, Verdict, Verification};
use starmark_core::Report;

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
    let newer = superseded_by(&reg, &v)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&Report::new(&v, newer))?);
    } else {
        print_human(&v, newer);
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

/// The newest certification of the registry whose record `supersedes` the verified one, if any:
/// the same fact the site shows (docs/GUIDE.md, "Superseded certifications"). Records that cannot
/// be read are passed over here; `build` and `sign` name them.
fn superseded_by(reg: &Registry, v: &Verification) -> Result<Option<u64>> {
    let Some(claim) = &v.claim else {
        return Ok(None);
    };
    let pairs: Vec<(u64, u64)> = reg
        .record_files()?
        .par_iter()
        .filter_map(|path| reg.load_record(path).ok())
        .filter_map(|(record, _)| record.supersedes.map(|old| (old, record.serial)))
        .collect();
    Ok(starmark_core::report::superseded_by(pairs, claim.serial))
}

fn headline(v: &Verification, superseded: bool) -> &'static str {
    match v.verdict {
        Verdict::Valid if !v.stale && superseded => "VALID, SUPERSEDED: genuine and valid for the product versions it names; a newer certification covers a changed version",
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

fn print_human(v: &Verification, superseded_by: Option<u64>) {
    println!("{}", headline(v, superseded_by.is_some()));
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
    if let Some(newer) = superseded_by {
        println!(
            "  superseded    by {newer:08}: a newer certification covers a changed version of this product; this one still covers the versions its record names"
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
