//! `starmark-listings`: reading retailers' listings files and writing listings reports, for
//! `starmark check-listings` and the site's "check listings" page alike. Bytes in, bytes out: no
//! files, no clock, no threads; builds for `wasm32-unknown-unknown`. The rules of the check are in
//! [`starmark_core::listings`]; this crate turns a file into [`Listing`]s and
//! [`RowResult`]s into reports, the same way in both places, so their reports are identical.
//!
//! Steps: [`input::decode`] finds the format and encoding, [`Mapping::new`] finds the columns by
//! header, [`Checker::prepare`] reads each row (duplicate ids, unreadable rows), and
//! [`Prepared::check`] checks it; [`report`] writes CSV or JSON, [`state`] remembers a run.
#![deny(missing_docs)]

pub mod input;
pub mod report;
pub mod state;

use std::collections::HashMap;

use starmark_core::listings::{
    header_key, spreadsheet_column, Certifications, Columns, Listing, Role, RowResult,
};
use thiserror::Error;

pub use input::{decode, Decoded, Format, Row, Rows};

/// The longest cell a listing's column may hold, in bytes.
pub const MAX_CELL: usize = 4096;

/// Why a listings file cannot be checked at all. Messages name the line, row or column.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum InputError {
    /// Nothing in the file.
    #[error("the file is empty")]
    Empty,
    /// A byte no text file has.
    #[error("not a text file: byte 0x{byte:02x} at offset {offset} (a listings file is CSV, XLSX or JSONL)")]
    Binary {
        /// The byte.
        byte: u8,
        /// Where.
        offset: usize,
    },
    /// An Excel 97-2003 workbook.
    #[error("an Excel 97-2003 workbook (.xls): save it as .xlsx or as CSV")]
    Xls,
    /// A workbook that cannot be read.
    #[error("not a readable XLSX workbook: {0}")]
    Xlsx(String),
    /// No sheet of that name.
    #[error("no sheet {name:?} in the workbook; its sheets: {sheets}")]
    NoSheet {
        /// The name asked for.
        name: String,
        /// The sheets there are.
        sheets: String,
    },
    /// Lines in UTF-8 and lines in another encoding.
    #[error("mixed encodings: line {utf8_line} is UTF-8 but line {other_line} is not; save the whole file in one encoding (UTF-8 or GB18030)")]
    MixedEncodings {
        /// A line in UTF-8 (with Chinese text).
        utf8_line: u64,
        /// The first line that is not UTF-8.
        other_line: u64,
    },
    /// Bytes that the file's byte-order mark's encoding cannot decode.
    #[error("line {line}: not valid {encoding}, although the file starts with a {encoding} byte-order mark")]
    BadBytes {
        /// The line.
        line: u64,
        /// The encoding of the byte-order mark.
        encoding: &'static str,
    },
    /// Neither UTF-8 nor GB18030.
    #[error("line {line}: neither UTF-8 nor GB18030 (GBK); save the file as UTF-8 or GB18030")]
    Undecodable {
        /// The first line that is neither.
        line: u64,
    },
    /// A line that cannot be parsed at all (before the first row).
    #[error("line {line}: {message}")]
    Csv {
        /// The line.
        line: u64,
        /// Why.
        message: String,
    },
    /// Only empty rows.
    #[error("no header row: every row is empty")]
    NoHeader,
    /// A header row wider than allowed.
    #[error("the header row has {count} columns, more than the {max} a listings file may have")]
    TooManyColumns {
        /// Its columns.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// No column says which certification a listing claims.
    #[error("no column says which certification a listing claims: a certificate number (证书编号), a label link (标签链接), or both a manufacturer (制造商) and a model (型号) are needed; headers found: {found}")]
    MissingColumns {
        /// The headers there are.
        found: String,
    },
    /// Two columns for one role.
    #[error("columns {first} and {second} are both a {role} column; choose one (in the CLI: --column {role}=HEADER)")]
    AmbiguousColumn {
        /// The role.
        role: &'static str,
        /// One column.
        first: String,
        /// The other.
        second: String,
    },
    /// A column chosen by header that is not there.
    #[error("no column {header:?} for {role}; headers found: {found}")]
    NoSuchColumn {
        /// The role.
        role: &'static str,
        /// The header asked for.
        header: String,
        /// The headers there are.
        found: String,
    },
    /// Only a header row.
    #[error("no listings: the file has a header row ({header_row}) and no row after it")]
    HeadersOnly {
        /// The header's row.
        header_row: u64,
    },
}

/// Which column holds each role.
#[derive(Clone, Debug)]
pub struct Mapping {
    index: [Option<usize>; 7],
    columns: Columns,
}

fn list_headers(headers: &[String], spreadsheet: bool) -> String {
    if headers.iter().all(|h| h.trim().is_empty()) {
        return String::from("(none)");
    }
    headers
        .iter()
        .enumerate()
        .filter(|(_, h)| !h.trim().is_empty())
        .map(|(i, h)| column_name(i, h, spreadsheet))
        .collect::<Vec<_>>()
        .join(", ")
}

fn column_name(index: usize, header: &str, spreadsheet: bool) -> String {
    if spreadsheet {
        spreadsheet_column(index, header)
    } else {
        format!("key {header:?}")
    }
}

impl Mapping {
    /// Finds each role's column from the headers (see [`Role::of_header`]); `chosen` names
    /// columns by header, overriding. Columns are named in messages by spreadsheet letter and
    /// header, or by key for JSON lines (`spreadsheet` false). Fails when no column says which
    /// certification a listing claims, when two columns claim one role, or when a chosen header
    /// is not there.
    pub fn new(
        headers: &[String],
        chosen: &[(Role, String)],
        spreadsheet: bool,
    ) -> Result<Mapping, InputError> {
        let mut index: [Option<usize>; 7] = [None; 7];
        for (role, header) in chosen {
            let want = header.trim();
            let found = headers.iter().position(|h| h.trim() == want).or_else(|| {
                headers
                    .iter()
                    .position(|h| header_key(h) == header_key(want))
            });
            match found {
                Some(i) => index[*role as usize] = Some(i),
                None => {
                    return Err(InputError::NoSuchColumn {
                        role: role.name(),
                        header: header.clone(),
                        found: list_headers(headers, spreadsheet),
                    })
                }
            }
        }
        let taken: Vec<usize> = index.iter().flatten().copied().collect();
        for (i, h) in headers.iter().enumerate() {
            let Some(role) = Role::of_header(h) else {
                continue;
            };
            if chosen.iter().any(|(r, _)| *r == role) || taken.contains(&i) {
                continue;
            }
            match index[role as usize] {
                None => index[role as usize] = Some(i),
                Some(first) => {
                    return Err(InputError::AmbiguousColumn {
                        role: role.name(),
                        first: column_name(first, &headers[first], spreadsheet),
                        second: column_name(i, h, spreadsheet),
                    })
                }
            }
        }
        let has = |r: Role| index[r as usize].is_some();
        if !(has(Role::Certificate)
            || has(Role::Label)
            || (has(Role::Manufacturer) && has(Role::Model)))
        {
            return Err(InputError::MissingColumns {
                found: list_headers(headers, spreadsheet),
            });
        }
        let mut columns = Columns::default();
        for role in Role::ALL {
            if let Some(i) = index[role as usize] {
                columns.set(role, column_name(i, &headers[i], spreadsheet));
            }
        }
        Ok(Mapping { index, columns })
    }

    /// How messages name the columns.
    pub fn columns(&self) -> &Columns {
        &self.columns
    }

    /// The column index of a role.
    pub fn index(&self, role: Role) -> Option<usize> {
        self.index[role as usize]
    }
}

/// A row ready to check: its role cells, or why it cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    row: u64,
    cells: [Option<String>; 7],
    duplicate_of: Option<u64>,
    /// The column and reason of a row that cannot be read.
    error: Option<(Option<Role>, String)>,
}

/// Reads rows in order: their role cells, duplicate listing ids, rows that cannot be read.
pub struct Checker {
    mapping: Mapping,
    seen: HashMap<String, u64>,
}

impl Checker {
    /// A checker for a file with these columns.
    pub fn new(mapping: Mapping) -> Checker {
        Checker {
            mapping,
            seen: HashMap::new(),
        }
    }

    /// The columns.
    pub fn mapping(&self) -> &Mapping {
        &self.mapping
    }

    /// Reads one row, in file order; `None` for a row whose cells are all empty.
    pub fn prepare(&mut self, row: Row) -> Option<Prepared> {
        let mut cells = match row.cells {
            Err(reason) => {
                return Some(Prepared {
                    row: row.number,
                    cells: Default::default(),
                    duplicate_of: None,
                    error: Some((None, reason)),
                })
            }
            Ok(cells) => cells,
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            return None;
        }
        let mut out: [Option<String>; 7] = Default::default();
        let mut error = None;
        for role in Role::ALL {
            if let Some(i) = self.mapping.index(role) {
                // Moved out of the row, or copied when another role reads the same column.
                let shared = Role::ALL
                    .iter()
                    .filter(|r| self.mapping.index(**r) == Some(i))
                    .count()
                    > 1;
                let cell = match cells.get_mut(i) {
                    Some(c) if shared => c.clone(),
                    Some(c) => std::mem::take(c),
                    None => String::new(),
                };
                if cell.len() > MAX_CELL && error.is_none() {
                    error = Some((
                        Some(role),
                        format!(
                            "the cell holds {} bytes, more than the {MAX_CELL} a listing's cell may",
                            cell.len()
                        ),
                    ));
                    out[role as usize] = Some(String::new());
                } else {
                    out[role as usize] = Some(cell);
                }
            }
        }
        let mut duplicate_of = None;
        if let Some(id) = out[Role::ListingId as usize].as_deref() {
            let id = id.trim();
            if !id.is_empty() {
                match self.seen.get(id) {
                    Some(first) => duplicate_of = Some(*first),
                    None => {
                        self.seen.insert(id.to_string(), row.number);
                    }
                }
            }
        }
        Some(Prepared {
            row: row.number,
            cells: out,
            duplicate_of,
            error,
        })
    }
}

impl Prepared {
    /// The row as the core reads it.
    pub fn listing(&self) -> Listing<'_> {
        let cell = |r: Role| self.cells[r as usize].as_deref();
        Listing {
            row: self.row,
            listing_id: cell(Role::ListingId),
            shop: cell(Role::Shop),
            manufacturer: cell(Role::Manufacturer),
            model: cell(Role::Model),
            tier: cell(Role::Tier),
            certificate: cell(Role::Certificate),
            label: cell(Role::Label),
            duplicate_of: self.duplicate_of,
        }
    }

    /// Checks the row ([`Certifications::check`]); a row that cannot be read is a `bad_row`.
    pub fn check(&self, certs: &Certifications, columns: &Columns) -> RowResult {
        let listing = self.listing();
        match &self.error {
            None => certs.check(&listing, columns),
            Some((role, reason)) => {
                let column = role.map(|r| columns.name(r));
                let reason = match &column {
                    Some(c) => format!("column {c}: {reason}"),
                    None => reason.clone(),
                };
                RowResult::bad_row(&listing, column, reason)
            }
        }
    }
}

/// A whole file checked at once (the browser page's way; the CLI streams the same steps): every
/// row's result in file order.
pub fn check_all(
    decoded: &Decoded<'_>,
    chosen: &[(Role, String)],
    certs: &Certifications,
) -> Result<Vec<RowResult>, InputError> {
    let rows = decoded.rows()?;
    let mapping = Mapping::new(&rows.headers, chosen, decoded.format != Format::Jsonl)?;
    let header_row = rows.header_row;
    let columns = mapping.columns().clone();
    let mut checker = Checker::new(mapping);
    let results: Vec<RowResult> = rows
        .filter_map(|row| checker.prepare(row))
        .map(|p| p.check(certs, &columns))
        .collect();
    if results.is_empty() {
        return Err(InputError::HeadersOnly { header_row });
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn columns_by_header_and_choice() {
        let m = Mapping::new(&h(&["商品编号", "价格", "证书编号", "型号"]), &[], true).unwrap();
        assert_eq!(m.index(Role::Certificate), Some(2));
        assert_eq!(m.index(Role::ListingId), Some(0));
        assert_eq!(m.index(Role::Manufacturer), None);
        assert_eq!(m.columns().name(Role::Certificate), "C \"证书编号\"");
        let m = Mapping::new(
            &h(&["ID", "品牌", "型号"]),
            &[
                (Role::Manufacturer, "品牌".into()),
                (Role::ListingId, "id".into()),
            ],
            true,
        )
        .unwrap();
        assert_eq!(m.index(Role::Manufacturer), Some(1));
        assert_eq!(m.index(Role::ListingId), Some(0));
        let e = Mapping::new(&h(&["商品编号", "价格", ""]), &[], true).unwrap_err();
        assert_eq!(e.to_string(), "no column says which certification a listing claims: a certificate number (证书编号), a label link (标签链接), or both a manufacturer (制造商) and a model (型号) are needed; headers found: A \"商品编号\", B \"价格\"");
        let e = Mapping::new(&h(&["证书编号", "Certificate No"]), &[], true).unwrap_err();
        assert_eq!(e.to_string(), "columns A \"证书编号\" and B \"Certificate No\" are both a certificate column; choose one (in the CLI: --column certificate=HEADER)");
        // Choosing one settles it.
        let m = Mapping::new(
            &h(&["证书编号", "Certificate No"]),
            &[(Role::Certificate, "Certificate No".into())],
            true,
        )
        .unwrap();
        assert_eq!(m.index(Role::Certificate), Some(1));
        let e = Mapping::new(&h(&["a"]), &[(Role::Model, "型号".into())], false).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no column \"型号\" for model; headers found: key \"a\""
        );
    }

    #[test]
    fn rows_prepared_in_order() {
        let m = Mapping::new(&h(&["商品编号", "证书编号"]), &[], true).unwrap();
        let mut c = Checker::new(m);
        let row = |n: u64, cells: &[&str]| Row {
            number: n,
            cells: Ok(h(cells)),
            position: 0,
        };
        let a = c.prepare(row(2, &["L1", "1"])).unwrap();
        assert_eq!(a.listing().certificate, Some("1"));
        assert_eq!(c.prepare(row(3, &["", " "])), None);
        let dup = c.prepare(row(4, &[" L1 ", "2"])).unwrap();
        assert_eq!(dup.listing().duplicate_of, Some(2));
        let short = c.prepare(row(5, &["L2"])).unwrap();
        assert_eq!(short.listing().certificate, Some(""));
        let long = c
            .prepare(row(6, &["L3", &"9".repeat(MAX_CELL + 1)]))
            .unwrap();
        assert!(long
            .error
            .as_ref()
            .unwrap()
            .1
            .contains("more than the 4096"));
        // Two roles may read one column: each gets the cell.
        let m = Mapping::new(
            &h(&["名称", "证书编号"]),
            &[
                (Role::Manufacturer, "名称".into()),
                (Role::Model, "名称".into()),
            ],
            true,
        )
        .unwrap();
        let both = Checker::new(m).prepare(row(2, &["XL", "1"])).unwrap();
        assert_eq!(
            (both.listing().manufacturer, both.listing().model),
            (Some("XL"), Some("XL"))
        );
    }
}
