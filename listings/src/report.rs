//! Listings reports: CSV (UTF-8 with a byte-order mark, so Excel opens it as UTF-8) and JSON, one
//! line per listing, and the summary by result. Cells that a spreadsheet would run as a formula
//! are neutralised (OWASP CSV injection): see [`neutralise`].

use std::borrow::Cow;
use std::io;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use starmark_core::listings::{Certifications, Outcome, RowResult};
use starmark_core::Day;

/// The JSON report's `format`.
pub const FORMAT: &str = "starmark-listings-report-1";

/// The UTF-8 byte-order mark that starts a CSV report.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Makes a cell inert in a spreadsheet: a cell that starts with `=`, `+`, `-`, `@`, a tab, a
/// carriage return or a line feed (or their full-width forms `＝ ＋ － ＠`) gets a leading `'`,
/// so Excel, LibreOffice and Numbers show it as text and never run it as a formula.
pub fn neutralise(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r' | '\n' | '＝' | '＋' | '－' | '＠') => {
            Cow::Owned(format!("'{cell}"))
        }
        _ => Cow::Borrowed(cell),
    }
}

/// The report's columns, in order; `changed` only when the check remembers a previous run.
pub fn columns(with_changes: bool) -> Vec<&'static str> {
    let mut c = vec!["row", "listing_id", "shop", "result"];
    if with_changes {
        c.push("changed");
    }
    c.extend([
        "reason",
        "column",
        "also",
        "candidates",
        "listing_manufacturer",
        "listing_model",
        "listing_tier",
        "listing_certificate",
        "listing_label",
        "registry_certificate",
        "registry_manufacturer",
        "registry_manufacturer_en",
        "registry_model",
        "registry_tier",
        "registry_category",
        "registry_valid_from",
        "registry_valid_until",
        "registry_status",
        "registry_revoked_on",
        "registry_revocation_reason",
    ]);
    c
}

/// One report line's cells, in [`columns`] order, as text (not yet neutralised).
pub fn cells(r: &RowResult, with_changes: bool) -> Vec<Cow<'_, str>> {
    let b = Cow::Borrowed;
    let o = |s: String| Cow::Owned(s);
    let day = |d: Option<Day>| d.map_or(Cow::Borrowed(""), |d| Cow::Owned(d.to_string()));
    let mut out: Vec<Cow<'_, str>> = vec![
        o(r.row.to_string()),
        b(&r.listing_id),
        b(&r.shop),
        b(r.result.name()),
    ];
    if with_changes {
        out.push(b(r.changed.as_deref().unwrap_or("")));
    }
    let also: Vec<&str> = r.also.iter().map(|a| a.name()).collect();
    let candidates: Vec<String> = r.candidates.iter().map(u64::to_string).collect();
    out.extend([
        b(r.reason.as_str()),
        b(r.column.as_deref().unwrap_or("")),
        o(also.join(",")),
        o(candidates.join(",")),
        b(&r.listing.manufacturer),
        b(&r.listing.model),
        b(&r.listing.tier),
        b(&r.listing.certificate),
        b(&r.listing.label),
    ]);
    match &r.registry {
        None => out.extend(std::iter::repeat_n(b(""), 11)),
        Some(a) => out.extend([
            b(a.certificate.as_str()),
            b(&a.manufacturer),
            b(&a.manufacturer_en),
            b(&a.model),
            o(a.tier.to_string()),
            b(&a.category),
            day(Some(a.valid_from)),
            day(Some(a.valid_until)),
            b(a.status),
            day(a.revoked_on),
            b(a.revocation_reason.map_or("", |x| x.name())),
        ]),
    }
    out
}

/// The counts of a report by result.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    counts: [u64; 12],
    changed: u64,
}

impl Summary {
    /// Counts one line.
    pub fn add(&mut self, r: &RowResult) {
        if let Some(i) = Outcome::ALL.iter().position(|o| *o == r.result) {
            self.counts[i] += 1;
        }
        if r.changed.as_deref().is_some_and(|c| !c.is_empty()) {
            self.changed += 1;
        }
    }

    /// Lines with this result.
    pub fn count(&self, o: Outcome) -> u64 {
        Outcome::ALL
            .iter()
            .position(|x| *x == o)
            .map_or(0, |i| self.counts[i])
    }

    /// All lines.
    pub fn rows(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// Lines whose result is not `ok`.
    pub fn problems(&self) -> u64 {
        self.rows() - self.count(Outcome::Ok)
    }

    /// Lines whose result changed since the previous run.
    pub fn changed(&self) -> u64 {
        self.changed
    }

    /// One line per result with its count, `ok` first, for people.
    pub fn lines(&self) -> Vec<String> {
        let mut order = vec![Outcome::Ok];
        order.extend(Outcome::ALL.iter().copied().filter(|o| *o != Outcome::Ok));
        order
            .into_iter()
            .map(|o| format!("  {:<18} {:>9}", o.name(), self.count(o)))
            .collect()
    }
}

impl Serialize for Summary {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(Outcome::ALL.len() + 1))?;
        m.serialize_entry("rows", &self.rows())?;
        for o in Outcome::ALL {
            m.serialize_entry(o.name(), &self.count(o))?;
        }
        m.end()
    }
}

/// What a report says about the check itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Meta {
    /// [`FORMAT`].
    pub format: &'static str,
    /// The day of the check.
    pub at: Day,
    /// The time of the check (Unix seconds).
    pub at_unix: u64,
    /// How many verified certifications the listings were compared with.
    pub certifications: usize,
    /// The sequence of the revocation list used, if any.
    pub revocation_sequence: Option<u64>,
}

impl Meta {
    /// The meta of a check against `certs`.
    pub fn of(certs: &Certifications) -> Meta {
        let basis = certs.basis();
        Meta {
            format: FORMAT,
            at: Day::from_unix(basis.now()),
            at_unix: basis.now(),
            certifications: certs.len(),
            revocation_sequence: basis.revocations().map(|l| l.sequence),
        }
    }
}

/// A CSV report is [`csv_head`], then [`csv_rows`] of every line in order (in one piece or in
/// consecutive chunks: the bytes are the same). Lines end in CRLF.
fn csv_writer(out: &mut Vec<u8>) -> csv::Writer<&mut Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out)
}

/// The start of a CSV report: the byte-order mark and the header line.
pub fn csv_head(with_changes: bool) -> io::Result<Vec<u8>> {
    let mut out = BOM.to_vec();
    let mut w = csv_writer(&mut out);
    w.write_record(columns(with_changes))?;
    w.flush()?;
    drop(w);
    Ok(out)
}

/// CSV report lines, every text cell neutralised.
pub fn csv_rows(rows: &[RowResult], with_changes: bool) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(rows.len() * 320);
    let mut w = csv_writer(&mut out);
    for r in rows {
        for cell in cells(r, with_changes) {
            w.write_field(neutralise(&cell).as_bytes())?;
        }
        w.write_record(None::<&[u8]>)?;
    }
    w.flush()?;
    drop(w);
    Ok(out)
}

/// A JSON report is [`json_head`], then [`json_rows`] of every line in order (`first` for the
/// chunk that holds the first line), then [`json_tail`]: `{"format":...,"rows":[` one row per
/// line `],"summary":{...}}`.
pub fn json_head(meta: &Meta) -> io::Result<Vec<u8>> {
    let head = serde_json::to_string(meta)?;
    let open = head.strip_suffix('}').unwrap_or(&head);
    Ok(format!("{open},\"rows\":[").into_bytes())
}

/// JSON report lines; `first` when the first of them is the report's first.
pub fn json_rows(rows: &[RowResult], first: bool) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(rows.len() * 600);
    for (i, r) in rows.iter().enumerate() {
        out.extend_from_slice(if first && i == 0 { b"\n" } else { b",\n" });
        serde_json::to_writer(&mut out, r)?;
    }
    Ok(out)
}

/// The end of a JSON report, with its summary.
pub fn json_tail(summary: &Summary) -> io::Result<Vec<u8>> {
    Ok(format!("\n],\"summary\":{}}}\n", serde_json::to_string(summary)?).into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use starmark_core::listings::{Listing, Role};

    fn bad(reason: &str) -> RowResult {
        let l = Listing {
            row: 3,
            listing_id: Some("=HYPERLINK(\"http://x\",\"y\")"),
            shop: Some("+cmd|' /C calc'!A0"),
            ..Listing::default()
        };
        RowResult::bad_row(&l, Some(Role::Certificate.name().into()), reason.into())
    }

    #[test]
    fn formulas_are_neutralised() {
        for (cell, want) in [
            ("=1+1", "'=1+1"),
            ("+cmd", "'+cmd"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("\nx", "'\nx"),
            ("＝1", "'＝1"),
            ("a=1", "a=1"),
            ("", ""),
            ("'quoted", "'quoted"),
        ] {
            assert_eq!(neutralise(cell), want, "{cell:?}");
        }
    }

    #[test]
    fn csv_report_bytes() {
        let r = bad("@SUM(1)");
        let out = [
            csv_head(false).unwrap(),
            csv_rows(std::slice::from_ref(&r), false).unwrap(),
        ]
        .concat();
        let out = String::from_utf8(out).unwrap();
        let mut lines = out.split("\r\n");
        assert_eq!(
            lines.next().unwrap(),
            format!("\u{feff}{}", columns(false).join(","))
        );
        assert_eq!(
            lines.next().unwrap(),
            "3,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'+cmd|' /C calc'!A0,bad_row,'@SUM(1),certificate,,,,,,,,,,,,,,,,,,"
        );
        assert_eq!(columns(true).len(), cells(&bad("x"), true).len());
        assert_eq!(columns(false).len(), cells(&bad("x"), false).len());
        // In chunks or at once: the same bytes.
        let rows = vec![r.clone(), bad("x"), r];
        let whole = csv_rows(&rows, true).unwrap();
        let parts = [
            csv_rows(&rows[..1], true).unwrap(),
            csv_rows(&rows[1..], true).unwrap(),
        ]
        .concat();
        assert_eq!(whole, parts);
    }

    #[test]
    fn json_report_shape() {
        let meta = Meta {
            format: FORMAT,
            at: Day(20_000),
            at_unix: 1_728_000_000,
            certifications: 2,
            revocation_sequence: Some(4),
        };
        let r = bad("x");
        let mut s = Summary::default();
        s.add(&r);
        s.add(&r);
        let out = [
            json_head(&meta).unwrap(),
            json_rows(std::slice::from_ref(&r), true).unwrap(),
            json_rows(std::slice::from_ref(&r), false).unwrap(),
            json_tail(&s).unwrap(),
        ]
        .concat();
        assert_eq!(
            out,
            [
                json_head(&meta).unwrap(),
                json_rows(&[r.clone(), r], true).unwrap(),
                json_tail(&s).unwrap()
            ]
            .concat()
        );
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["format"], FORMAT);
        assert_eq!(v["at"], "2024-10-04");
        assert_eq!(v["rows"].as_array().unwrap().len(), 2);
        assert_eq!(v["rows"][0]["result"], "bad_row");
        assert_eq!(v["rows"][0]["listing_id"], "=HYPERLINK(\"http://x\",\"y\")");
        assert_eq!(v["summary"]["bad_row"], 2);
        assert_eq!(v["summary"]["rows"], 2);
        assert_eq!(v["summary"]["ok"], 0);
        assert!(v["rows"][0].get("changed").is_none());
        assert_eq!(s.problems(), 2);
        assert_eq!(s.lines()[0], "  ok                         0");
    }
}
