//! The "check listings" page's WebAssembly: a retailer's listings file checked in the browser
//! against the site's signed data, with the same code as `starmark check-listings` (the rules of
//! `starmark_core::listings`, the reading and reports of `starmark_listings`), so the reports of
//! the page and of the CLI are the same bytes for the same file, source and day.

use serde::Serialize;
use starmark_core::bundle::Bundle;
use starmark_core::claim::SignedClaim;
use starmark_core::error::ListError;
use starmark_core::listings::{Basis, Certifications, RecordNames, Role};
use starmark_core::{from_hex, PublicKey, RevocationList, TrustList};
use starmark_listings::report::{
    csv_head, csv_rows, json_head, json_rows, json_tail, Meta, Summary,
};
use starmark_listings::{check_all, decode};
use wasm_bindgen::prelude::*;

/// What the page gets back: the reports, or why there are none.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ListingsOutcome {
    /// Why no report could be made (the file, its columns, or the site's data), in English.
    pub error: Option<String>,
    /// The JSON report, as `check-listings --format json` writes it.
    pub json: Option<String>,
    /// The CSV report (starting with the byte-order mark), as `check-listings` writes it.
    pub csv: Option<String>,
    /// What the site's data left out: claims that do not verify, a missing revocation list...
    pub problems: Vec<String>,
    /// The file's format and encoding, for people (`CSV, GB18030`).
    pub read_as: Option<String>,
}

fn root_key(hex: &str) -> Result<PublicKey, String> {
    let bytes = from_hex::<32>(hex.trim()).ok_or("root key: not 64 hex digits")?;
    PublicKey::from_bytes(&bytes).map_err(|e| format!("root key: {e}"))
}

/// `ROLE=HEADER` choices, separated by `;` or line ends.
fn chosen(columns: &str) -> Result<Vec<(Role, String)>, String> {
    columns
        .split([';', '\n'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            let (role, header) = c
                .split_once('=')
                .ok_or_else(|| format!("{c}: expected ROLE=HEADER"))?;
            let role = Role::from_name(role.trim())
                .ok_or_else(|| format!("{c}: unknown role {:?}", role.trim()))?;
            Ok((role, header.to_string()))
        })
        .collect()
}

/// The certifications of the site: lists verified under the root key, each claim of the bundle
/// verified under the trust list, record files used only when a verified claim signs them.
fn certifications(
    root_hex: &str,
    trust_list: &[u8],
    revocation_list: Option<&[u8]>,
    claims: &[u8],
    now: u64,
    base_url: Option<&str>,
    problems: &mut Vec<String>,
) -> Result<Certifications, String> {
    let root = root_key(root_hex)?;
    let trust = TrustList::decode_verified(trust_list, &root)
        .map_err(|e| format!("api/v1/trust-list.bin: trust list refused: {e}"))?;
    let revocations = match revocation_list {
        None => {
            problems.push(String::from(
                "api/v1/revocation-list.bin: no revocation list; every result is at best stale_data",
            ));
            None
        }
        Some(bytes) => match RevocationList::decode_verified(bytes, &trust) {
            Ok(list) => Some(list),
            Err(starmark_core::Error::List(ListError::CompromisedSigner { key_id })) => {
                problems.push(format!("api/v1/revocation-list.bin: signed by key {key_id}, now marked compromised; it is ignored and every result is at best stale_data"));
                None
            }
            Err(e) => {
                return Err(format!(
                    "api/v1/revocation-list.bin: revocation list refused: {e}"
                ))
            }
        },
    };
    let mut basis = Basis::new(trust, revocations, now, None);
    if let Some(url) = base_url.filter(|u| !u.is_empty()) {
        basis = basis.with_base_url(url);
    }
    // The shards of api/v1/claims/, one after the other.
    let bundle = Bundle::decode_all(claims)
        .map_err(|e| format!("api/v1/claims/: claims shards refused: {e}"))?;
    let mut certified = Vec::with_capacity(bundle.claims.len());
    for (i, bytes) in bundle.claims.iter().enumerate() {
        let name = format!("api/v1/claims/: claim #{}", i + 1);
        match SignedClaim::decode(bytes) {
            Err(e) => problems.push(format!("{name}: {e}")),
            Ok(claim) => match basis.certify(&claim) {
                Ok(c) => certified.push(c),
                Err(v) => problems.push(format!(
                    "{name}: claim refused ({}{})",
                    v.verdict.name(),
                    v.detail.map(|d| format!(": {d}")).unwrap_or_default()
                )),
            },
        }
    }
    let mut names = Vec::with_capacity(bundle.records.len());
    for (i, bytes) in bundle.records.iter().enumerate() {
        match RecordNames::read(bytes) {
            Ok(n) => names.push(n),
            Err(e) => problems.push(format!(
                "api/v1/claims/: record #{}: record not read ({e})",
                i + 1
            )),
        }
    }
    let (certs, left_out) = Certifications::new(basis, certified, names);
    problems.extend(left_out.iter().map(ToString::to_string));
    Ok(certs)
}

/// Checks a listings file (the Rust side of [`check_listings`]).
#[allow(clippy::too_many_arguments)]
pub fn check(
    file: &[u8],
    name: &str,
    sheet: Option<&str>,
    columns: &str,
    root_hex: &str,
    trust_list: &[u8],
    revocation_list: Option<&[u8]>,
    claims: &[u8],
    now: u64,
    base_url: Option<&str>,
) -> ListingsOutcome {
    let mut out = ListingsOutcome::default();
    let chosen = match chosen(columns) {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(format!("columns: {e}"));
            return out;
        }
    };
    let decoded = match decode(file, name, sheet.filter(|s| !s.is_empty())) {
        Ok(d) => d,
        Err(e) => {
            out.error = Some(format!("{name}: {e}"));
            return out;
        }
    };
    out.read_as = Some(match decoded.delimiter {
        Some(d) => format!("{:?}, {}, {:?}", decoded.format, decoded.encoding, d),
        None => format!("{:?}, {}", decoded.format, decoded.encoding),
    });
    let certs = match certifications(
        root_hex,
        trust_list,
        revocation_list,
        claims,
        now,
        base_url,
        &mut out.problems,
    ) {
        Ok(c) => c,
        Err(e) => {
            out.error = Some(e);
            return out;
        }
    };
    let rows = match check_all(&decoded, &chosen, &certs) {
        Ok(r) => r,
        Err(e) => {
            out.error = Some(format!("{name}: {e}"));
            return out;
        }
    };
    let mut summary = Summary::default();
    for r in &rows {
        summary.add(r);
    }
    let written = (|| -> std::io::Result<(Vec<u8>, Vec<u8>)> {
        let csv = [csv_head(false)?, csv_rows(&rows, false)?].concat();
        let json = [
            json_head(&Meta::of(&certs))?,
            json_rows(&rows, true)?,
            json_tail(&summary)?,
        ]
        .concat();
        Ok((csv, json))
    })();
    match written {
        Ok((csv, json)) => {
            out.csv = String::from_utf8(csv).ok();
            out.json = String::from_utf8(json).ok();
        }
        Err(e) => out.error = Some(format!("report: {e}")),
    }
    out
}

/// Checks a listings file in the browser: `file` its bytes and `name` its name (for its
/// extension), `sheet` an XLSX sheet (empty for the first), `columns` chosen columns
/// (`ROLE=HEADER; ...`), `root_hex` the pinned root key, the site's signed trust list, revocation
/// list (`undefined` when missing) and claims bundle, `now` the time of the check (Unix seconds),
/// `base_url` where the registry's label links lead. Returns a [`ListingsOutcome`] object; never
/// throws.
#[wasm_bindgen]
#[allow(clippy::too_many_arguments)]
pub fn check_listings(
    file: &[u8],
    name: &str,
    sheet: &str,
    columns: &str,
    root_hex: &str,
    trust_list: &[u8],
    revocation_list: Option<Vec<u8>>,
    claims: &[u8],
    now: f64,
    base_url: &str,
) -> JsValue {
    let out = check(
        file,
        name,
        Some(sheet),
        columns,
        root_hex,
        trust_list,
        revocation_list.as_deref(),
        claims,
        // `as` saturates and maps NaN to 0.
        now as u64,
        Some(base_url),
    );
    serde_wasm_bindgen::to_value(&out).unwrap_or(JsValue::NULL)
}
