//! `starmark verify TARGET`: the verdict for a verify URL, digits, or a photo of a QR code.

use std::path::Path;

use anyhow::Result;
use rayon::prelude::*;
use serde::Serialize;
use starmark_core::verdict::{verify_target, Context, Verdict, Verification};
use starmark_core::Report;

use crate::cli::VerifyArgs;
use crate::qrcode_image::{self, FoundCode};
use crate::registry::{Registry, REVOCATION_LIST_FILE};
use crate::time;

pub fn run(args: &VerifyArgs) -> Result<u8> {
    let reg = Registry::locate(args.registry.registry.as_deref(), None)?;
    let trust = reg.trust_list()?;
    let list_path = reg.path(REVOCATION_LIST_FILE);
    let revocations = if is_missing(&list_path) {
        errln!(
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
    let ctx = Context {
        trust: &trust,
        revocations: revocations.as_ref(),
        now,
        highest_seen_sequence: args.seen_sequence,
    };
    let supersessions = Supersessions::of(&reg)?;
    if !looks_like_image(&args.target) {
        let v = verify_target(&args.target, &ctx);
        return Ok(report_one(&v, &supersessions, args.json));
    }
    let path = Path::new(&args.target);
    let found = qrcode_image::decode_file(path)?;
    match found.as_slice() {
        [FoundCode { text: Ok(text), .. }] => {
            let v = verify_target(text, &ctx);
            Ok(report_one(&v, &supersessions, args.json))
        }
        _ => Ok(report_many(path, &found, &ctx, &supersessions, args.json)),
    }
}

/// The exit code of one verdict.
fn exit_code(v: &Verification) -> u8 {
    if v.is_valid_and_fresh() {
        crate::EXIT_OK
    } else {
        crate::EXIT_NOT_VALID
    }
}

/// Prints one verdict; returns its exit code.
fn report_one(v: &Verification, supersessions: &Supersessions, json: bool) -> u8 {
    let code = exit_code(v);
    crate::output::set_exit_code_if_closed(code);
    let newer = supersessions.of_claim(v);
    if json {
        outln!("{}", to_json(&Report::new(v, newer)));
    } else {
        print_human(v, newer);
    }
    code
}

/// Prints the verdict of every code of an image with several, each with its index and where it
/// is; returns the worst exit code (an unreadable code counts as not valid).
fn report_many(
    path: &Path,
    found: &[FoundCode],
    ctx: &Context<'_>,
    supersessions: &Supersessions,
    json: bool,
) -> u8 {
    let verifications: Vec<Result<Verification, &str>> = found
        .iter()
        .map(|f| match &f.text {
            Ok(text) => Ok(verify_target(text, ctx)),
            Err(e) => Err(e.as_str()),
        })
        .collect();
    let worst = verifications
        .iter()
        .map(|v| v.as_ref().map_or(crate::EXIT_NOT_VALID, exit_code))
        .max()
        .unwrap_or(crate::EXIT_NOT_VALID);
    crate::output::set_exit_code_if_closed(worst);
    if json {
        let codes: Vec<JsonCode<'_>> = found
            .iter()
            .zip(&verifications)
            .enumerate()
            .map(|(i, (f, v))| JsonCode {
                code: i + 1,
                x: f.x,
                y: f.y,
                width: f.width,
                height: f.height,
                error: v.as_ref().err().map(|e| format!("unreadable QR code: {e}")),
                verdict: v
                    .as_ref()
                    .ok()
                    .map(|v| Report::new(v, supersessions.of_claim(v))),
            })
            .collect();
        outln!("{}", to_json(&codes));
        return worst;
    }
    let n = found.len();
    outln!(
        "{}: {}",
        path.display(),
        crate::plural::count(n, "QR code", "QR codes")
    );
    for (i, (f, v)) in found.iter().zip(&verifications).enumerate() {
        outln!();
        outln!(
            "code {} of {n}, at x {} y {} ({} x {} px):",
            i + 1,
            f.x,
            f.y,
            f.width,
            f.height
        );
        match v {
            Ok(v) => print_human(v, supersessions.of_claim(v)),
            Err(e) => outln!("UNREADABLE: a QR code was detected here but could not be read ({e})"),
        }
    }
    worst
}

/// Pretty JSON; the types printed here always serialise.
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}

/// One code of an image with several, in `--json`: its index (from 1, in reading order), its
/// bounding box in pixels, and its verdict's fields, or `error` when it could not be read.
#[derive(Serialize)]
struct JsonCode<'a> {
    code: usize,
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(flatten)]
    verdict: Option<Report<'a>>,
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

/// Which certification of the registry supersedes which: `(old, new)` for every record with
/// `supersedes = old`, the same fact the site shows (docs/GUIDE.md, "Superseded
/// certifications"). Records that cannot be read are passed over here; `build` and `sign` name
/// them.
struct Supersessions(Vec<(u64, u64)>);

impl Supersessions {
    fn of(reg: &Registry) -> Result<Supersessions> {
        Ok(Supersessions(
            reg.record_files()?
                .par_iter()
                .filter_map(|path| reg.load_record(path).ok())
                .filter_map(|(record, _)| record.supersedes.map(|old| (old, record.serial)))
                .collect(),
        ))
    }

    /// The newest certification that supersedes the verified one, if any.
    fn of_claim(&self, v: &Verification) -> Option<u64> {
        let claim = v.claim.as_ref()?;
        starmark_core::report::superseded_by(self.0.iter().copied(), claim.serial)
    }
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
    outln!("{}", headline(v, superseded_by.is_some()));
    if let Some(c) = &v.claim {
        let stars =
            "★".repeat(usize::from(c.tier.stars())) + &"☆".repeat(3 - usize::from(c.tier.stars()));
        outln!("  serial        {}", c.serial);
        outln!("  manufacturer  {}", c.manufacturer);
        outln!("  model         {}", c.model);
        outln!("  tier          {stars} ({})", c.tier.stars());
        outln!("  category      {}", c.category);
        outln!("  valid         {} to {}", c.valid_from, c.valid_until);
        outln!(
            "  issuer        {} (key {})",
            v.issuer.as_deref().unwrap_or("?"),
            c.key_id
        );
    }
    if let Some(newer) = superseded_by {
        outln!(
            "  superseded    by {newer:08}: a newer certification covers a changed version of this product; this one still covers the versions its record names"
        );
    }
    if let Some(r) = &v.revocation {
        outln!("  revoked       {} ({})", r.date, r.reason.name());
    }
    if v.rollback {
        outln!("  warning       the revocation list is older than one seen before (rollback); it was ignored");
    }
    if v.stale && !v.rollback {
        if v.revocation_sequence.is_none() {
            outln!("  warning       no revocation list was used: whether the label is revoked is unknown");
        } else {
            outln!("  warning       the revocation list is past its next-update date");
        }
    }
    if let Some(d) = &v.detail {
        outln!("  detail        {d}");
    }
}
