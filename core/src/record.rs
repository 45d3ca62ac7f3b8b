//! The record: one certification as the issuer writes it, a Markdown file with TOML front matter
//! between `+++` lines. The Markdown body is the public summary of the test results.
//!
//! Parsing never panics. Every error names the field and the line (1-based, in the whole file).

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::claim::{check_category, record_digest, Claim, Tier, MAX_MANUFACTURER, MAX_MODEL};
use crate::date::Day;
use crate::keys::KeyId;
use crate::text::check_display_text;
use crate::uscc::check_uscc;
use crate::wire::{check_text, from_hex, to_hex};

/// A record that could not be parsed, with where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// 1-based line in the record file, when known.
    pub line: Option<usize>,
    /// The front-matter field, when the error is about one.
    pub field: Option<String>,
    /// What is wrong, in plain words (no parser wording).
    pub message: String,
    /// How to fix it, when there is a usual fix (the expected form, the corrected line).
    pub hint: Option<String>,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line {
            write!(f, "line {line}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field {field}: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "; hint: {hint}")?;
        }
        Ok(())
    }
}

/// The front-matter fields of a record, in the order FORMAT.md lists them.
pub const FIELDS: &[&str] = &[
    "serial",
    "manufacturer",
    "manufacturer_en",
    "manufacturer_uscc",
    "local_agent",
    "local_agent_uscc",
    "product",
    "model",
    "category",
    "firmware",
    "tier",
    "issued",
    "valid_from",
    "valid_until",
    "lab",
    "evidence",
    "supersedes",
];

/// The fields of an `[[evidence]]` entry.
pub const EVIDENCE_FIELDS: &[&str] = &["name", "sha256"];

/// What a field's value is, for messages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Date,
    Text,
    TextList,
    Tables,
}

fn kind_of(field: &str) -> Kind {
    match field {
        "serial" | "tier" | "supersedes" => Kind::Number,
        "issued" | "valid_from" | "valid_until" => Kind::Date,
        "firmware" => Kind::TextList,
        "evidence" => Kind::Tables,
        _ => Kind::Text,
    }
}

impl core::error::Error for RecordError {}

/// An evidence document: its name and the SHA-256 of its bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// File name of the document.
    pub name: String,
    /// SHA-256 of the document.
    #[serde(serialize_with = "hex32")]
    pub sha256: [u8; 32],
}

fn hex32<S: serde::Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&to_hex(v))
}

/// One certification record, checked field by field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Record {
    /// Certificate serial, unique in the registry.
    pub serial: u64,
    /// Legal name as registered.
    pub manufacturer: String,
    /// English name, if any.
    pub manufacturer_en: Option<String>,
    /// The manufacturer's unified social credit code (GB 32100-2015), if any; check character
    /// verified.
    pub manufacturer_uscc: Option<String>,
    /// Local agent for a foreign maker, if any.
    pub local_agent: Option<String>,
    /// The local agent's unified social credit code, if any (only with a local agent).
    pub local_agent_uscc: Option<String>,
    /// Product name.
    pub product: String,
    /// Model.
    pub model: String,
    /// Catalogue category code.
    pub category: String,
    /// Firmware versions covered.
    pub firmware: Vec<String>,
    /// Star tier.
    pub tier: Tier,
    /// Day of issue.
    pub issued: Day,
    /// First day of validity.
    pub valid_from: Day,
    /// Last day of validity.
    pub valid_until: Day,
    /// Test lab.
    pub lab: String,
    /// Evidence documents.
    pub evidence: Vec<Evidence>,
    /// Serial of the certification this one replaces.
    pub supersedes: Option<u64>,
    /// Markdown summary of the test results.
    pub body: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecord {
    serial: i64,
    manufacturer: String,
    manufacturer_en: Option<String>,
    manufacturer_uscc: Option<String>,
    local_agent: Option<String>,
    local_agent_uscc: Option<String>,
    product: String,
    model: String,
    category: String,
    firmware: Vec<String>,
    tier: i64,
    issued: toml::value::Datetime,
    valid_from: toml::value::Datetime,
    valid_until: toml::value::Datetime,
    lab: String,
    #[serde(default)]
    evidence: Vec<RawEvidence>,
    supersedes: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvidence {
    name: String,
    sha256: String,
}

/// Longest name other than the manufacturer and the model (English name, local agent, product,
/// lab), in UTF-8 bytes.
pub const MAX_NAME: usize = 400;

/// The front-matter delimiter line.
pub const DELIMITER: &str = "+++";

impl Record {
    /// Parses a record file. Checks every field: types, unknown and missing fields, tier 1..=3,
    /// dates in order, lengths that fit a claim, evidence digests.
    pub fn parse(text: &str) -> Result<Record, RecordError> {
        let (front, body, front_line) = split_front_matter(text)?;
        let located = |field: &str, message: String| RecordError {
            line: field_line(front, field).map(|l| l + front_line),
            field: Some(field.to_string()),
            message,
            hint: None,
        };
        let raw: RawRecord =
            toml::from_str(front).map_err(|e| toml_error(front, front_line, &e))?;

        let serial = u64::try_from(raw.serial)
            .map_err(|_| located("serial", "must not be negative".into()))?;
        let tier = u8::try_from(raw.tier)
            .ok()
            .and_then(Tier::from_stars)
            .ok_or_else(|| {
                located(
                    "tier",
                    alloc::format!("{} is not a tier (1, 2 or 3)", raw.tier),
                )
            })?;
        let date = |field: &str, dt: &toml::value::Datetime| -> Result<Day, RecordError> {
            match (&dt.date, &dt.time, &dt.offset) {
                (Some(d), None, None) => {
                    Day::from_ymd(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                        .ok_or_else(|| {
                            located(
                                field,
                                alloc::format!("{dt} is outside 1970-01-01..2149-06-06"),
                            )
                        })
                }
                _ => Err(RecordError {
                    hint: Some(alloc::format!(
                        "a date is written YYYY-MM-DD, without a time: {field} = {}",
                        dt.date
                            .map(|d| d.to_string())
                            .unwrap_or_else(|| "2026-11-01".into())
                    )),
                    ..located(field, alloc::format!("{dt} is not a plain date"))
                }),
            }
        };
        let issued = date("issued", &raw.issued)?;
        let valid_from = date("valid_from", &raw.valid_from)?;
        let valid_until = date("valid_until", &raw.valid_until)?;
        if valid_until < valid_from {
            return Err(located(
                "valid_until",
                alloc::format!("{valid_until} is before valid_from {valid_from}"),
            ));
        }
        if valid_from < issued {
            return Err(located(
                "valid_from",
                alloc::format!("{valid_from} is before issued {issued}"),
            ));
        }
        // Every text shown to people as a name: its length, then the display-text rules.
        let names: [(&'static str, Option<&String>, usize); 6] = [
            ("manufacturer", Some(&raw.manufacturer), MAX_MANUFACTURER),
            ("manufacturer_en", raw.manufacturer_en.as_ref(), MAX_NAME),
            ("local_agent", raw.local_agent.as_ref(), MAX_NAME),
            ("product", Some(&raw.product), MAX_NAME),
            ("model", Some(&raw.model), MAX_MODEL),
            ("lab", Some(&raw.lab), MAX_NAME),
        ];
        for (field, value, max) in names {
            if let Some(v) = value {
                check_text(field, v, max).map_err(|e| located(field, e.to_string()))?;
                check_display_text(field, v).map_err(|e| located(field, e.problem.to_string()))?;
            }
        }
        for (field, value) in [
            ("manufacturer_uscc", &raw.manufacturer_uscc),
            ("local_agent_uscc", &raw.local_agent_uscc),
        ] {
            if let Some(code) = value {
                check_uscc(code).map_err(|e| located(field, e.to_string()))?;
            }
        }
        if raw.local_agent_uscc.is_some() && raw.local_agent.is_none() {
            return Err(located(
                "local_agent_uscc",
                "is set, but local_agent is not".into(),
            ));
        }
        check_category(&raw.category).map_err(|e| located("category", e.to_string()))?;
        if raw.firmware.is_empty() {
            return Err(located("firmware", "lists no firmware version".into()));
        }
        for v in &raw.firmware {
            check_text("firmware", v, 100).map_err(|e| located("firmware", e.to_string()))?;
        }
        let supersedes = raw
            .supersedes
            .map(|s| {
                u64::try_from(s).map_err(|_| located("supersedes", "must not be negative".into()))
            })
            .transpose()?;
        if supersedes == Some(serial) {
            return Err(located(
                "supersedes",
                "a certification cannot supersede itself".into(),
            ));
        }
        let evidence = raw
            .evidence
            .into_iter()
            .map(|e| {
                check_text("evidence name", &e.name, 200)
                    .map_err(|err| located("evidence", err.to_string()))?;
                let sha256 = from_hex::<32>(&e.sha256).ok_or_else(|| {
                    located(
                        "sha256",
                        alloc::format!("{:?} is not 64 hex digits", e.sha256),
                    )
                })?;
                Ok(Evidence {
                    name: e.name,
                    sha256,
                })
            })
            .collect::<Result<Vec<_>, RecordError>>()?;

        Ok(Record {
            serial,
            manufacturer: raw.manufacturer,
            manufacturer_en: raw.manufacturer_en,
            manufacturer_uscc: raw.manufacturer_uscc,
            local_agent: raw.local_agent,
            local_agent_uscc: raw.local_agent_uscc,
            product: raw.product,
            model: raw.model,
            category: raw.category,
            firmware: raw.firmware,
            tier,
            issued,
            valid_from,
            valid_until,
            lab: raw.lab,
            evidence,
            supersedes,
            body: body.to_string(),
        })
    }

    /// The claim for this record: what its label shows, bound to the file's exact bytes.
    /// `file` must be the bytes this record was parsed from.
    pub fn claim(&self, key_id: KeyId, file: &[u8]) -> Claim {
        Claim {
            key_id,
            serial: self.serial,
            tier: self.tier,
            category: self.category.clone(),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            manufacturer: self.manufacturer.clone(),
            model: self.model.clone(),
            record_sha256: record_digest(file),
        }
    }
}

/// Splits `+++\n<toml>\n+++\n<body>`; returns the TOML, the body and the number of lines before
/// the TOML (so TOML line n is file line n + that).
fn split_front_matter(text: &str) -> Result<(&str, &str, usize), RecordError> {
    let err = |line: usize, message: &str| RecordError {
        line: Some(line),
        field: None,
        message: message.into(),
        hint: None,
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != DELIMITER {
        return Err(err(
            1,
            "the record must start with a +++ line (TOML front matter)",
        ));
    }
    let start = first.len();
    let mut offset = start;
    for line in lines {
        if line.trim_end() == DELIMITER {
            return Ok((&text[start..offset], &text[offset + line.len()..], 1));
        }
        offset += line.len();
    }
    Err(err(1, "the front matter is not closed by a +++ line"))
}

/// The 1-based line of a record file where front-matter field `field` is set (the first
/// `field = ...` line between the `+++` lines), if it is.
pub fn line_of(text: &str, field: &str) -> Option<usize> {
    let (front, _, front_line) = split_front_matter(text).ok()?;
    field_line(front, field).map(|l| l + front_line)
}

/// The 1-based line (within the front matter) where `field = ...` is set.
fn field_line(front: &str, field: &str) -> Option<usize> {
    front
        .lines()
        .position(|l| {
            l.trim_start()
                .strip_prefix(field)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|i| i + 1)
}

fn toml_error(front: &str, front_line: usize, e: &toml::de::Error) -> RecordError {
    let line = e
        .span()
        .map(|s| front[..s.start.min(front.len())].matches('\n').count() + 1 + front_line);
    let raw = e.message();
    let named = ["unknown field `", "missing field `"].iter().find_map(|p| {
        raw.split_once(p)
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(f, _)| f.to_string())
    });
    // An error inside a value (e.g. an impossible date) names no field: take it from its line.
    let field = named.clone().or_else(|| {
        let l = line?.checked_sub(front_line + 1)?;
        let text = front.lines().nth(l)?;
        let (key, _) = text.split_once('=')?;
        let key = key.trim();
        (!key.is_empty() && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
            .then(|| key.to_string())
    });
    // The text after `=` on the field's line, as written.
    let value = |line: Option<usize>| -> Option<String> {
        let l = line?.checked_sub(front_line + 1)?;
        let (_, v) = front.lines().nth(l)?.split_once('=')?;
        Some(v.trim().to_string())
    };
    if raw.starts_with("missing field") {
        let f = named.unwrap_or_default();
        // Where it should go: the closing +++ line.
        let closing = front.lines().count() + front_line + 1;
        return RecordError {
            line: Some(closing),
            hint: Some(alloc::format!(
                "add it to the front matter, before this +++ line: {}",
                example(&f)
            )),
            message: "missing: every record sets it".into(),
            field: Some(f),
        };
    }
    if raw.starts_with("unknown field") {
        let f = named.unwrap_or_default();
        let known = if raw.contains("`sha256`") && !raw.contains("`serial`") {
            EVIDENCE_FIELDS
        } else {
            FIELDS
        };
        return RecordError {
            line: field_line(front, &f).map(|l| l + front_line).or(line),
            message: "unknown field".into(),
            hint: Some(alloc::format!("the fields are: {}", known.join(", "))),
            field: Some(f),
        };
    }
    let Some(f) = field else {
        return RecordError {
            line,
            field: None,
            message: alloc::format!("this line is not `field = value`: {}", plain_syntax(raw)),
            hint: None,
        };
    };
    let line = if raw.starts_with("duplicate key") {
        second_line(front, &f).map(|l| l + front_line).or(line)
    } else {
        field_line(front, &f).map(|l| l + front_line).or(line)
    };
    let written = value(line).unwrap_or_default();
    let (message, hint) = value_problem(&f, raw, &written);
    RecordError {
        line,
        field: Some(f),
        message,
        hint,
    }
}

/// An example line for a field, for hints.
fn example(field: &str) -> String {
    match kind_of(field) {
        Kind::Number => alloc::format!("{field} = 1"),
        Kind::Date => alloc::format!("{field} = 2026-11-01"),
        Kind::TextList => alloc::format!("{field} = [\"1.0.0\"]"),
        Kind::Tables => "[[evidence]] with name = \"...\" and sha256 = \"...\"".into(),
        Kind::Text => alloc::format!("{field} = \"...\""),
    }
}

/// The plain-words message and hint for a value TOML refused; `written` is the value as written.
fn value_problem(field: &str, raw: &str, written: &str) -> (String, Option<String>) {
    let kind = kind_of(field);
    if raw.starts_with("duplicate key") {
        return ("is set twice: keep one line".into(), None);
    }
    let unquoted = written.trim_matches(['"', '\'']);
    if kind == Kind::Date {
        let hint = match normal_date(unquoted) {
            Some(d) => {
                alloc::format!("a date is written YYYY-MM-DD, without quotes: {field} = {d}")
            }
            None => alloc::format!(
                "a date is written YYYY-MM-DD, without quotes, e.g. {field} = 2026-11-01"
            ),
        };
        let what = if written.starts_with(['"', '\'']) {
            alloc::format!("{written} is text in quotes, not a date")
        } else if let Some(reason) = raw.strip_prefix("invalid date, expected ") {
            alloc::format!("{written} is not a date ({})", date_reason(reason))
        } else {
            alloc::format!("{written} is not a date")
        };
        return (what, Some(hint));
    }
    if let Some(found) = found_type(raw) {
        return match (kind, found) {
            (Kind::Number, Found::Text) => match unquoted.parse::<i64>() {
                Ok(n) => (
                    alloc::format!("{written} is text in quotes, not a number"),
                    Some(alloc::format!(
                        "write the number without quotes: {field} = {n}"
                    )),
                ),
                Err(_) => (
                    alloc::format!("{written} is not a number"),
                    Some(alloc::format!(
                        "write a whole number without quotes, e.g. {}",
                        example(field)
                    )),
                ),
            },
            (Kind::Number, Found::Number) if raw.contains(" as i128") => {
                (alloc::format!("{written} is too large"), None)
            }
            (Kind::Number, _) => (
                alloc::format!("{written} is not a whole number"),
                Some(alloc::format!(
                    "write a whole number without quotes, e.g. {}",
                    example(field)
                )),
            ),
            (Kind::Text, Found::Number | Found::Boolean) => (
                alloc::format!("{written} is a number, not text in quotes"),
                Some(alloc::format!("put it in quotes: {field} = \"{written}\"")),
            ),
            (Kind::TextList, Found::Text) => (
                alloc::format!("{written} is one text, not a list"),
                Some(alloc::format!(
                    "write a list in brackets: {field} = [{written}]"
                )),
            ),
            (Kind::TextList, Found::Number | Found::Boolean) if written.starts_with('[') => (
                alloc::format!("{written} lists a number, not text in quotes"),
                Some(alloc::format!(
                    "put every version in quotes, e.g. {}",
                    example(field)
                )),
            ),
            _ => (
                alloc::format!("{written} is {}", found.words()),
                Some(alloc::format!("write it as {}", example(field))),
            ),
        };
    }
    if raw.contains("must be quoted") {
        let hint = match kind {
            Kind::Text => alloc::format!("put it in quotes: {field} = \"{written}\""),
            _ => alloc::format!("write it as {}", example(field)),
        };
        return (alloc::format!("{written} is not in quotes"), Some(hint));
    }
    (
        plain_syntax(raw),
        Some(alloc::format!("write it as {}", example(field))),
    )
}

/// What TOML found where another type was expected.
#[derive(Clone, Copy)]
enum Found {
    Text,
    Number,
    Boolean,
    List,
    Table,
    Date,
}

impl Found {
    fn words(self) -> &'static str {
        match self {
            Found::Text => "text",
            Found::Number => "a number",
            Found::Boolean => "true or false",
            Found::List => "a list",
            Found::Table => "a table",
            Found::Date => "a date",
        }
    }
}

/// The type named in serde's "invalid type: X, expected Y".
fn found_type(raw: &str) -> Option<Found> {
    let rest = raw.strip_prefix("invalid type: ")?;
    Some(if rest.starts_with("string") {
        Found::Text
    } else if rest.starts_with("integer") || rest.starts_with("floating point") {
        Found::Number
    } else if rest.starts_with("boolean") {
        Found::Boolean
    } else if rest.starts_with("sequence") {
        Found::List
    } else if rest.starts_with("map") {
        Found::Table
    } else {
        Found::Date
    })
}

/// Why a date TOML read as one is impossible, in plain words.
fn date_reason(reason: &str) -> String {
    if reason.contains("month") {
        "the month must be 01 to 12".into()
    } else if reason.contains("day") {
        "the day must be two digits, 01 to 31, and exist in that month".into()
    } else if reason.contains("year") {
        "the year must have four digits".into()
    } else {
        "the form is YYYY-MM-DD".into()
    }
}

/// A TOML syntax message in plain words.
fn plain_syntax(raw: &str) -> String {
    if raw.contains("invalid basic string") || raw.contains("invalid literal string") {
        "the text is not closed by a quote on the same line".into()
    } else if raw.contains("duplicate key") {
        "is set twice: keep one line".into()
    } else {
        alloc::format!(
            "cannot read this line ({})",
            raw.trim().replace("TOML ", "")
        )
    }
}

/// `2026/11/1`, `2026.11.01`, `2026-11-1` as `2026-11-01`, when it is a real date.
fn normal_date(s: &str) -> Option<String> {
    let parts: Vec<&str> = s.split(['/', '-', '.']).collect();
    let [y, m, d] = parts.as_slice() else {
        return None;
    };
    if y.len() != 4 || m.is_empty() || d.is_empty() || m.len() > 2 || d.len() > 2 {
        return None;
    }
    let (y, m, d): (i32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    Day::from_ymd(y, m, d)?;
    Some(alloc::format!("{y:04}-{m:02}-{d:02}"))
}

/// The 1-based line (within the front matter) where `field = ...` is set a second time.
fn second_line(front: &str, field: &str) -> Option<usize> {
    front
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            l.trim_start()
                .strip_prefix(field)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .nth(1)
        .map(|(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const SAMPLE: &str = "+++\nserial = 42\nmanufacturer = \"深圳市星联科技有限公司\"\nproduct = \"路由器\"\nmodel = \"XL-AX3000\"\ncategory = \"router\"\nfirmware = [\"1.2.0\"]\ntier = 2\nissued = 2026-07-03\nvalid_from = 2026-07-03\nvalid_until = 2029-07-02\nlab = \"CCRC\"\n[[evidence]]\nname = \"report.pdf\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000001\"\n+++\n## Results\n";

    #[test]
    fn parses_sample() {
        let r = Record::parse(SAMPLE).unwrap();
        assert_eq!(r.serial, 42);
        assert_eq!(r.tier, Tier::Two);
        assert_eq!(r.valid_from.to_string(), "2026-07-03");
        assert_eq!(r.evidence.len(), 1);
        assert_eq!(r.body, "## Results\n");
    }

    fn err(text: &str) -> RecordError {
        Record::parse(text).unwrap_err()
    }

    #[test]
    fn errors_name_field_and_line() {
        let e = err(&SAMPLE.replace("tier = 2", "tier = 4"));
        assert_eq!((e.line, e.field.as_deref()), (Some(8), Some("tier")));
        let e = err(&SAMPLE.replace("valid_until = 2029-07-02", "valid_until = 2025-07-02"));
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(11), Some("valid_until"))
        );
        let e = err(&SAMPLE.replace("lab = \"CCRC\"\n", "lab = \"CCRC\"\ncolour = \"red\"\n"));
        assert_eq!((e.line, e.field.as_deref()), (Some(13), Some("colour")));
        assert!(e.to_string().contains("unknown field"), "{e}");
        let e = err(&SAMPLE.replace("lab = \"CCRC\"\n", ""));
        assert_eq!(e.field.as_deref(), Some("lab"));
        assert_eq!(e.line, Some(15), "the closing +++ line: {e}");
        assert!(e.to_string().contains("missing"), "{e}");
        let e = err(&SAMPLE.replace("2029-07-02", "2029-13-02"));
        assert_eq!(
            (e.line, e.field.as_deref()),
            (Some(11), Some("valid_until")),
            "{e}"
        );
        let e = err(&SAMPLE.replace("= \"router\"", "= \"Router!\""));
        assert_eq!(e.field.as_deref(), Some("category"));
        let e = err(&SAMPLE.replace("000000000001\"", "00000000001\""));
        assert_eq!(e.field.as_deref(), Some("sha256"));
        let e = err(&SAMPLE.replace("firmware = [\"1.2.0\"]", "firmware = []"));
        assert_eq!(e.field.as_deref(), Some("firmware"));
        let e = err(&SAMPLE.replace("serial = 42", "serial = \"42\""));
        assert_eq!(e.line, Some(2), "{e}");
        assert_eq!(err("no front matter").line, Some(1));
        assert!(err("+++\nserial = 1\n").message.contains("not closed"));
    }

    /// The message and hint for one changed line of the sample.
    fn says(from: &str, to: &str) -> (Option<usize>, String, String) {
        let e = err(&SAMPLE.replace(from, to));
        (
            e.line,
            e.field.clone().unwrap_or_default(),
            alloc::format!("{}; hint: {}", e.message, e.hint.unwrap_or_default()),
        )
    }

    #[test]
    fn usual_mistakes_get_a_hint_in_plain_words() {
        let until = "valid_until = 2029-07-02";
        for (to, expected) in [
            ("valid_until = 2029/07/02", "2029/07/02 is not a date; hint: a date is written YYYY-MM-DD, without quotes: valid_until = 2029-07-02"),
            ("valid_until = 2029-07-2", "2029-07-2 is not a date (the day must be two digits, 01 to 31, and exist in that month); hint: a date is written YYYY-MM-DD, without quotes: valid_until = 2029-07-02"),
            ("valid_until = \"2029-07-02\"", "\"2029-07-02\" is text in quotes, not a date; hint: a date is written YYYY-MM-DD, without quotes: valid_until = 2029-07-02"),
            ("valid_until = 20290702", "20290702 is not a date; hint: a date is written YYYY-MM-DD, without quotes, e.g. valid_until = 2026-11-01"),
            ("valid_until = 2029-13-02", "2029-13-02 is not a date (the month must be 01 to 12); hint: a date is written YYYY-MM-DD, without quotes, e.g. valid_until = 2026-11-01"),
            ("valid_until = 2029-07-02T10:00:00", "2029-07-02T10:00:00 is not a plain date; hint: a date is written YYYY-MM-DD, without a time: valid_until = 2029-07-02"),
        ] {
            assert_eq!(says(until, to), (Some(11), "valid_until".into(), expected.into()), "{to}");
        }
        for (from, to, line, field, expected) in [
            ("serial = 42", "serial = \"42\"", 2, "serial", "\"42\" is text in quotes, not a number; hint: write the number without quotes: serial = 42"),
            ("tier = 2", "tier = \"two\"", 8, "tier", "\"two\" is not a number; hint: write a whole number without quotes, e.g. tier = 1"),
            ("tier = 2", "tier = 2.0", 8, "tier", "2.0 is not a whole number; hint: write a whole number without quotes, e.g. tier = 1"),
            ("model = \"XL-AX3000\"", "model = 3000", 5, "model", "3000 is a number, not text in quotes; hint: put it in quotes: model = \"3000\""),
            ("model = \"XL-AX3000\"", "model = XL-AX3000", 5, "model", "XL-AX3000 is not in quotes; hint: put it in quotes: model = \"XL-AX3000\""),
            ("firmware = [\"1.2.0\"]", "firmware = \"1.2.0\"", 7, "firmware", "\"1.2.0\" is one text, not a list; hint: write a list in brackets: firmware = [\"1.2.0\"]"),
            ("lab = \"CCRC\"", "labb = \"CCRC\"", 12, "labb", "unknown field; hint: the fields are: serial, manufacturer, manufacturer_en, manufacturer_uscc, local_agent, local_agent_uscc, product, model, category, firmware, tier, issued, valid_from, valid_until, lab, evidence, supersedes"),
            ("name = \"report.pdf\"", "nme = \"report.pdf\"", 14, "nme", "unknown field; hint: the fields are: name, sha256"),
            ("lab = \"CCRC\"", "lab = \"CCRC\"\nlab = \"x\"", 13, "lab", "is set twice: keep one line; hint: "),
            ("lab = \"CCRC\"\n", "", 15, "lab", "missing: every record sets it; hint: add it to the front matter, before this +++ line: lab = \"...\""),
        ] {
            assert_eq!(says(from, to), (Some(line), field.into(), expected.into()), "{to}");
        }
        // No parser wording reaches a message.
        for to in [
            "serial = \"42\"",
            "serial = 99999999999999999999",
            "tier = true",
            "lab = \"CCRC",
            "lab = [1]",
            "firmware = [1]",
            "issued = \"x\"",
        ] {
            let e = err(&SAMPLE.replace(
                to.split(' ')
                    .next()
                    .map(|f| SAMPLE.lines().find(|l| l.starts_with(f)).unwrap())
                    .unwrap(),
                to,
            ));
            let shown = e.to_string();
            for jargon in [
                "i64",
                "i128",
                "invalid type",
                "TOML",
                "expected a",
                "sequence",
                "datetime",
            ] {
                assert!(!shown.contains(jargon), "{to}: {shown}");
            }
            assert!(e.line.is_some() && e.field.is_some(), "{to}: {shown}");
        }
    }

    #[test]
    fn line_of_names_the_line_in_the_whole_file() {
        assert_eq!(line_of(SAMPLE, "category"), Some(6));
        assert_eq!(line_of(SAMPLE, "supersedes"), None);
        assert_eq!(line_of("no front matter", "serial"), None);
    }

    #[test]
    fn display_texts_follow_the_text_rules() {
        for (field, from, to) in [
            (
                "manufacturer",
                "深圳市星联科技有限公司",
                "深圳市星联\u{3164}科技有限公司",
            ),
            ("model", "XL-AX3000", "XL-AX3000 "),
            ("product", "路由器", "路由\u{202E}器"),
            ("lab", "CCRC", "ССRC"),
        ] {
            let e = err(&SAMPLE.replace(from, to));
            assert_eq!(e.field.as_deref(), Some(field), "{e}");
            assert!(e.line.is_some(), "{e}");
            assert!(!e.message.contains("field"), "the field is named once: {e}");
        }
        let e = err(&SAMPLE.replace(
            "lab = \"CCRC\"",
            "lab = \"CCRC\"\nlocal_agent = \"Agent\u{200B}Co\"",
        ));
        assert_eq!(e.field.as_deref(), Some("local_agent"));
        assert_eq!(
            e.to_string(),
            "line 13: field local_agent: U+200B ZERO WIDTH SPACE is not allowed (invisible: default-ignorable code point)"
        );
        let e = err(&SAMPLE.replace(
            "lab = \"CCRC\"",
            "lab = \"CCRC\"\nmanufacturer_en = \"Xinglian\u{FF34}ech\"",
        ));
        assert_eq!(e.field.as_deref(), Some("manufacturer_en"));
    }

    #[test]
    fn unified_social_credit_codes_are_checked() {
        let with = |extra: &str| {
            SAMPLE.replace("lab = \"CCRC\"", &alloc::format!("lab = \"CCRC\"\n{extra}"))
        };
        let r = Record::parse(&with("manufacturer_uscc = \"91440300708461136T\"\nlocal_agent = \"北京信诺认证咨询有限公司\"\nlocal_agent_uscc = \"914403001922038216\"")).unwrap();
        assert_eq!(r.manufacturer_uscc.as_deref(), Some("91440300708461136T"));
        assert_eq!(r.local_agent_uscc.as_deref(), Some("914403001922038216"));
        let e = err(&with("manufacturer_uscc = \"91440300708461136X\""));
        assert_eq!(e.field.as_deref(), Some("manufacturer_uscc"));
        assert_eq!(e.line, Some(13));
        assert!(e.message.contains("give 'T'"), "{e}");
        let e = err(&with(
            "local_agent = \"北京信诺\"\nlocal_agent_uscc = \"91440300708461136\"",
        ));
        assert_eq!(e.field.as_deref(), Some("local_agent_uscc"));
        let e = err(&with("local_agent_uscc = \"91440300708461136T\""));
        assert_eq!(e.field.as_deref(), Some("local_agent_uscc"));
        assert!(e.message.contains("local_agent is not"), "{e}");
    }

    #[test]
    fn claim_binds_the_exact_bytes() {
        let r = Record::parse(SAMPLE).unwrap();
        let c = r.claim(KeyId([0; 4]), SAMPLE.as_bytes());
        assert!(c.matches_record(SAMPLE.as_bytes()));
        assert!(!c.matches_record(SAMPLE.replace("Results", "Resultz").as_bytes()));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,300}") {
            let _ = Record::parse(&s);
            let _ = Record::parse(&alloc::format!("+++\n{s}\n+++\n"));
        }
    }
}
