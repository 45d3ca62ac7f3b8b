//! Reading a listings file: its format (by its first bytes, then its name), its text encoding
//! (UTF-8 with or without BOM, UTF-16 with BOM, or GB18030), its delimiter, and its rows.

use std::borrow::Cow;
use std::io::Cursor;

use calamine::{Data, Reader as _, Xlsx};
use encoding_rs::{Encoding, GB18030};

use crate::InputError;

/// The most columns a row may have.
pub const MAX_COLUMNS: usize = 1024;

/// The formats a listings file may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-, semicolon- or tab-separated text.
    Csv,
    /// An Excel workbook (Office Open XML).
    Xlsx,
    /// One JSON object per line.
    Jsonl,
}

/// A listings file, decoded: its text (or its sheet) and how it was read.
pub struct Decoded<'a> {
    /// The format found.
    pub format: Format,
    /// The text encoding found (`UTF-8`, `GB18030`, `UTF-16LE`...), or `XLSX`.
    pub encoding: &'static str,
    /// The CSV delimiter found.
    pub delimiter: Option<char>,
    inner: Inner<'a>,
}

enum Inner<'a> {
    Text(Cow<'a, str>),
    Sheet(calamine::Range<Data>),
}

/// One row of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// Its number: the line of a CSV or JSONL file, the row of a sheet (1-based).
    pub number: u64,
    /// Its cells, in header order, or why the row cannot be read.
    pub cells: Result<Vec<String>, String>,
    /// How far into the file the row ends, in units of [`Rows::total`].
    pub position: u64,
}

/// The header row and an iterator over the rows after it.
pub struct Rows<'a> {
    /// The header cells.
    pub headers: Vec<String>,
    /// The header's row number.
    pub header_row: u64,
    /// The size of the file in the units of [`Row::position`] (bytes of text, or rows).
    pub total: u64,
    iter: Box<dyn Iterator<Item = Row> + Send + 'a>,
}

impl Iterator for Rows<'_> {
    type Item = Row;
    fn next(&mut self) -> Option<Row> {
        self.iter.next()
    }
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const CFB_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Decodes a listings file named `name` (only its extension matters: `.jsonl`/`.ndjson` for
/// JSON lines; anything else that is text is CSV). A ZIP file is read as an XLSX workbook
/// (`sheet`, or its first sheet), whatever its name. Never panics.
pub fn decode<'a>(
    bytes: &'a [u8],
    name: &str,
    sheet: Option<&str>,
) -> Result<Decoded<'a>, InputError> {
    if bytes.is_empty() {
        return Err(InputError::Empty);
    }
    let lower = name.to_lowercase();
    if bytes.starts_with(ZIP_MAGIC) {
        return Ok(Decoded {
            format: Format::Xlsx,
            encoding: "XLSX",
            delimiter: None,
            inner: Inner::Sheet(read_sheet(bytes, sheet)?),
        });
    }
    if bytes.starts_with(CFB_MAGIC) {
        return Err(InputError::Xls);
    }
    if lower.ends_with(".xlsx") {
        return Err(InputError::Xlsx(String::from(
            "not a ZIP file, as every .xlsx workbook is",
        )));
    }
    let (text, encoding) = decode_text(bytes)?;
    if text.trim().is_empty() {
        return Err(InputError::Empty);
    }
    if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
        return Ok(Decoded {
            format: Format::Jsonl,
            encoding,
            delimiter: None,
            inner: Inner::Text(text),
        });
    }
    let delimiter = sniff_delimiter(&text);
    Ok(Decoded {
        format: Format::Csv,
        encoding,
        delimiter: Some(char::from(delimiter)),
        inner: Inner::Text(text),
    })
}

/// The text of a file: UTF-8 (a BOM is dropped), UTF-16 with a BOM, or else GB18030. Refuses a
/// file with a NUL byte (binary), and one whose lines mix UTF-8 with another encoding.
fn decode_text(bytes: &[u8]) -> Result<(Cow<'_, str>, &'static str), InputError> {
    if let Some((enc, bom)) = Encoding::for_bom(bytes) {
        let body = &bytes[bom..];
        return match enc.decode_without_bom_handling_and_without_replacement(body) {
            Some(text) => {
                refuse_nul(&text)?;
                Ok((text, enc.name()))
            }
            None => Err(InputError::BadBytes {
                line: first_bad_line(enc, body),
                encoding: enc.name(),
            }),
        };
    }
    if let Some(offset) = bytes.iter().position(|b| *b == 0) {
        return Err(InputError::Binary { byte: 0, offset });
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => return Ok((Cow::Borrowed(text), "UTF-8")),
        Err(e) => {
            // A UTF-8 file with a stray invalid byte is a mix, not GB18030, when another of
            // its lines is UTF-8 with Chinese text in it.
            let other_line = line_of(bytes, e.valid_up_to());
            if let Some(utf8_line) = utf8_cjk_line(bytes) {
                return Err(InputError::MixedEncodings {
                    utf8_line,
                    other_line,
                });
            }
        }
    }
    match GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
        Some(text) => {
            refuse_nul(&text)?;
            Ok((text, "GB18030"))
        }
        None => Err(InputError::Undecodable {
            line: first_bad_line(GB18030, bytes),
        }),
    }
}

fn refuse_nul(text: &str) -> Result<(), InputError> {
    match text.bytes().position(|b| b == 0) {
        Some(offset) => Err(InputError::Binary { byte: 0, offset }),
        None => Ok(()),
    }
}

/// The 1-based line holding byte `offset`.
fn line_of(bytes: &[u8], offset: usize) -> u64 {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u64
        + 1
}

/// The first line that is valid UTF-8 and holds at least two CJK ideographs (which text in
/// another encoding almost never decodes to).
fn utf8_cjk_line(bytes: &[u8]) -> Option<u64> {
    bytes
        .split(|b| *b == b'\n')
        .enumerate()
        .find_map(|(i, line)| {
            let text = std::str::from_utf8(line).ok()?;
            let cjk = text
                .chars()
                .filter(|c| ('\u{4E00}'..='\u{9FFF}').contains(c))
                .count();
            (cjk >= 2).then_some(i as u64 + 1)
        })
}

/// The first line with bytes that `enc` cannot decode.
fn first_bad_line(enc: &'static Encoding, bytes: &[u8]) -> u64 {
    let mut decoder = enc.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(4096);
    let mut read = 0;
    while read < bytes.len() {
        let end = (read + 1024).min(bytes.len());
        let (result, n) = decoder.decode_to_string_without_replacement(
            &bytes[read..end],
            &mut out,
            end == bytes.len(),
        );
        match result {
            encoding_rs::DecoderResult::Malformed(_, _) => return line_of(bytes, read + n),
            encoding_rs::DecoderResult::OutputFull => out.reserve(4096),
            encoding_rs::DecoderResult::InputEmpty => {}
        }
        read += n;
        out.clear();
    }
    line_of(bytes, bytes.len())
}

/// The delimiter of a CSV file: the one of `,`, `;` and tab that occurs most often in its
/// first non-empty line, outside quotes (a comma when none does).
fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in first.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let delims = [b',', b';', b'\t'];
    let mut best = 0;
    for i in 1..3 {
        if counts[i] > counts[best] {
            best = i;
        }
    }
    delims[best]
}

fn read_sheet(bytes: &[u8], sheet: Option<&str>) -> Result<calamine::Range<Data>, InputError> {
    let mut wb: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| InputError::Xlsx(e.to_string()))?;
    let names = wb.sheet_names();
    let name = match sheet {
        Some(s) => {
            if !names.iter().any(|n| n == s) {
                return Err(InputError::NoSheet {
                    name: s.to_string(),
                    sheets: names
                        .iter()
                        .map(|n| format!("{n:?}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
            s.to_string()
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| InputError::Xlsx(String::from("the workbook has no sheet")))?,
    };
    wb.worksheet_range(&name)
        .map_err(|e| InputError::Xlsx(format!("sheet {name:?}: {e}")))
}

/// A sheet cell as text: numbers that are whole print without a fraction (a certificate number
/// stored as the number 42 reads `42`).
fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Float(f) => float_text(*f),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => String::from(if *b { "TRUE" } else { "FALSE" }),
        Data::DateTime(dt) => float_text(dt.as_f64()),
        Data::Error(e) => format!("#{e:?}"),
    }
}

fn float_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

impl Decoded<'_> {
    /// The header row (the first row with a non-empty cell) and the rows after it.
    pub fn rows(&self) -> Result<Rows<'_>, InputError> {
        match &self.inner {
            Inner::Sheet(range) => sheet_rows(range),
            Inner::Text(text) if self.format == Format::Jsonl => jsonl_rows(text),
            Inner::Text(text) => csv_rows(text, self.delimiter.map_or(b',', |c| c as u8)),
        }
    }
}

fn blank(cells: &[String]) -> bool {
    cells.iter().all(|c| c.trim().is_empty())
}

fn check_header(headers: &[String]) -> Result<(), InputError> {
    if headers.len() > MAX_COLUMNS {
        return Err(InputError::TooManyColumns {
            count: headers.len(),
            max: MAX_COLUMNS,
        });
    }
    Ok(())
}

fn too_many(count: usize) -> String {
    format!("the row has {count} columns, more than the {MAX_COLUMNS} a listings file may have")
}

/// Line numbers of byte offsets, for offsets that only grow: the line of the first character at
/// or after an offset that is not a line end (where the next record starts, past blank lines).
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> LineCounter<'a> {
        LineCounter {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, offset: u64) -> u64 {
        let target = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        if target > self.offset {
            let newlines = self.text[self.offset..target]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            self.line += newlines as u64;
            self.offset = target;
        }
        let mut line = self.line;
        for b in &self.text[self.offset..] {
            match b {
                b'\n' => line += 1,
                b'\r' => {}
                _ => break,
            }
        }
        line
    }
}

fn csv_rows(text: &str, delimiter: u8) -> Result<Rows<'_>, InputError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::new(text);
    let headers = loop {
        let line = lines.line_at(reader.position().byte());
        match reader.read_record(&mut record) {
            Ok(false) => return Err(InputError::NoHeader),
            Ok(true) => {
                let cells: Vec<String> = record.iter().map(str::to_string).collect();
                if !blank(&cells) {
                    break (cells, line);
                }
            }
            Err(e) => {
                return Err(InputError::Csv {
                    line,
                    message: e.to_string(),
                })
            }
        }
    };
    check_header(&headers.0)?;
    let total = text.len() as u64;
    let iter = std::iter::from_fn(move || {
        let mut record = csv::StringRecord::new();
        let number = lines.line_at(reader.position().byte());
        match reader.read_record(&mut record) {
            Ok(false) => None,
            Ok(true) => {
                let cells = if record.len() > MAX_COLUMNS {
                    Err(too_many(record.len()))
                } else {
                    Ok(record.iter().map(str::to_string).collect())
                };
                Some(Row {
                    number,
                    cells,
                    position: reader.position().byte(),
                })
            }
            Err(e) => Some(Row {
                number,
                cells: Err(e.to_string()),
                position: reader.position().byte(),
            }),
        }
    });
    Ok(Rows {
        headers: headers.0,
        header_row: headers.1,
        total,
        iter: Box::new(iter),
    })
}

fn sheet_rows(range: &calamine::Range<Data>) -> Result<Rows<'_>, InputError> {
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let offset = col0 as usize;
    let total = range.height() as u64;
    let text_of = move |r: &[Data]| -> Vec<String> {
        let mut cells = vec![String::new(); offset];
        cells.extend(r.iter().map(cell_text));
        cells
    };
    let mut rows = range.rows().enumerate();
    let (headers, header_row) = loop {
        match rows.next() {
            None => return Err(InputError::NoHeader),
            Some((i, r)) => {
                let cells = text_of(r);
                if !blank(&cells) {
                    break (cells, u64::from(row0) + i as u64 + 1);
                }
            }
        }
    };
    check_header(&headers)?;
    let iter = rows.map(move |(i, r)| Row {
        number: u64::from(row0) + i as u64 + 1,
        cells: if r.len() + offset > MAX_COLUMNS {
            Err(too_many(r.len() + offset))
        } else {
            Ok(text_of(r))
        },
        position: i as u64 + 1,
    });
    Ok(Rows {
        headers,
        header_row,
        total,
        iter: Box::new(iter),
    })
}

/// A JSON value as a cell: strings as they are, numbers as JSON writes them, `null` empty.
fn json_cell(key: &str, v: &serde_json::Value) -> Result<String, String> {
    match v {
        serde_json::Value::Null => Ok(String::new()),
        serde_json::Value::String(s) => Ok(s.clone()),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Bool(b) => Ok(b.to_string()),
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
            Err(format!("key {key:?}: a list or object is not a cell value"))
        }
    }
}

fn json_object(line: &str) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    match serde_json::from_str::<serde_json::Value>(line) {
        Ok(serde_json::Value::Object(m)) => Ok(m),
        Ok(_) => Err(String::from("not a JSON object")),
        Err(e) => Err(format!("not a JSON object: {e}")),
    }
}

fn jsonl_rows(text: &str) -> Result<Rows<'_>, InputError> {
    let total = text.len() as u64;
    let mut lines = text.split('\n').enumerate();
    let mut consumed = 0u64;
    let (first, header_row) = loop {
        match lines.next() {
            None => return Err(InputError::NoHeader),
            Some((i, line)) => {
                consumed += line.len() as u64 + 1;
                if !line.trim().is_empty() {
                    let object = json_object(line).map_err(|message| InputError::Csv {
                        line: i as u64 + 1,
                        message,
                    })?;
                    break (object, i as u64 + 1);
                }
            }
        }
    };
    let headers: Vec<String> = first.keys().cloned().collect();
    check_header(&headers)?;
    let aligned = {
        let headers = headers.clone();
        move |m: &serde_json::Map<String, serde_json::Value>| -> Result<Vec<String>, String> {
            headers
                .iter()
                .map(|h| m.get(h).map_or(Ok(String::new()), |v| json_cell(h, v)))
                .collect()
        }
    };
    let first_row = Row {
        number: header_row,
        cells: aligned(&first),
        position: consumed,
    };
    let rest = lines.filter_map(move |(i, line)| {
        consumed += line.len() as u64 + 1;
        if line.trim().is_empty() {
            return None;
        }
        Some(Row {
            number: i as u64 + 1,
            cells: json_object(line).and_then(|m| aligned(&m)),
            position: consumed.min(total),
        })
    });
    Ok(Rows {
        headers,
        header_row,
        total,
        iter: Box::new(std::iter::once(first_row).chain(rest)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows_of(bytes: &[u8], name: &str) -> (Vec<String>, Vec<Row>) {
        let d = decode(bytes, name, None).unwrap();
        let rows = d.rows().unwrap();
        let headers = rows.headers.clone();
        (headers, rows.collect())
    }

    #[test]
    fn delimiters() {
        assert_eq!(sniff_delimiter("a,b,c\n1;2;3"), b',');
        assert_eq!(sniff_delimiter("a;b;c"), b';');
        assert_eq!(sniff_delimiter("a\tb\tc"), b'\t');
        assert_eq!(sniff_delimiter("\"a;b\",c"), b',');
        assert_eq!(sniff_delimiter("\n\nx;y"), b';');
        assert_eq!(sniff_delimiter("one"), b',');
    }

    #[test]
    fn encodings() {
        let utf8 = "证书编号,型号\n1,XL\n";
        let (t, e) = decode_text(utf8.as_bytes()).unwrap();
        assert_eq!((t.as_ref(), e), (utf8, "UTF-8"));
        let bom = [&[0xEF, 0xBB, 0xBF][..], utf8.as_bytes()].concat();
        let (t, e) = decode_text(&bom).unwrap();
        assert_eq!((t.as_ref(), e), (utf8, "UTF-8"));
        let (gbk, _, _) = GB18030.encode(utf8);
        let (t, e) = decode_text(&gbk).unwrap();
        assert_eq!((t.as_ref(), e), (utf8, "GB18030"));
        let mut utf16 = vec![0xFF, 0xFE];
        for u in utf8.encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        let (t, e) = decode_text(&utf16).unwrap();
        assert_eq!((t.as_ref(), e), (utf8, "UTF-16LE"));
    }

    #[test]
    fn mixed_and_bad_bytes() {
        let (gbk, _, _) = GB18030.encode("深圳市星联科技有限公司,XL\n");
        let mixed = [
            "证书编号,制造商\n".as_bytes(),
            "1,深圳市星联科技有限公司\n".as_bytes(),
            &b"2,"[..],
            &gbk,
        ]
        .concat();
        assert_eq!(
            decode_text(&mixed).unwrap_err(),
            InputError::MixedEncodings {
                utf8_line: 1,
                other_line: 3
            }
        );
        // 0xFF is neither UTF-8 nor GB18030.
        assert_eq!(
            decode_text(b"a,b\n1,2\n\xff\n").unwrap_err(),
            InputError::Undecodable { line: 3 }
        );
        assert_eq!(
            decode_text(b"a,b\n\x00").unwrap_err(),
            InputError::Binary { byte: 0, offset: 4 }
        );
        let bad_bom = [&[0xEF, 0xBB, 0xBF][..], b"a\n\xff"].concat();
        assert_eq!(
            decode_text(&bad_bom).unwrap_err(),
            InputError::BadBytes {
                line: 2,
                encoding: "UTF-8"
            }
        );
    }

    #[test]
    fn formats_by_content() {
        assert_eq!(decode(b"", "x.csv", None).err(), Some(InputError::Empty));
        assert_eq!(
            decode(b" \n\r\n", "x.csv", None).err(),
            Some(InputError::Empty)
        );
        assert_eq!(
            decode(CFB_MAGIC, "x.csv", None).err(),
            Some(InputError::Xls)
        );
        assert!(matches!(
            decode(b"a,b", "x.xlsx", None).err(),
            Some(InputError::Xlsx(_))
        ));
        assert!(matches!(
            decode(b"PK\x03\x04garbage", "x.csv", None).err(),
            Some(InputError::Xlsx(_))
        ));
        let d = decode(b"{\"a\":1}", "x.JSONL", None).unwrap();
        assert_eq!(d.format, Format::Jsonl);
    }

    #[test]
    fn csv_rows_with_line_numbers() {
        let (h, rows) = rows_of(b"\n\nid;model\n1;\"X\nY\"\n\n2;Z;extra\n", "l.csv");
        assert_eq!(h, ["id", "model"]);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].number, 4);
        assert_eq!(rows[0].cells, Ok(vec!["1".into(), "X\nY".into()]));
        assert_eq!(rows[1].number, 7);
        assert_eq!(rows[1].cells.as_ref().unwrap().len(), 3);
        let (_, rows) = rows_of(b"a,b\r\n1,2\r\n\r\n3,4\r\n", "crlf.csv");
        let numbers: Vec<u64> = rows.iter().map(|r| r.number).collect();
        assert_eq!(numbers, [2, 4]);
    }

    #[test]
    fn too_many_columns() {
        let wide = format!("a,b\n{}\n", vec!["x"; MAX_COLUMNS + 1].join(","));
        let (_, rows) = rows_of(wide.as_bytes(), "w.csv");
        assert_eq!(
            rows[0].cells,
            Err(format!(
                "the row has {} columns, more than the {MAX_COLUMNS} a listings file may have",
                MAX_COLUMNS + 1
            ))
        );
        let header = rows_header(MAX_COLUMNS + 1);
        let d = decode(header.as_bytes(), "w.csv", None).unwrap();
        assert!(matches!(
            d.rows().err(),
            Some(InputError::TooManyColumns { .. })
        ));
    }

    fn rows_header(n: usize) -> String {
        vec!["h"; n].join(",")
    }

    #[test]
    fn jsonl() {
        let text = "{\"证书编号\":\"1\",\"型号\":\"X\"}\n\n{\"证书编号\":2,\"型号\":null}\n[1]\n{\"型号\":[1]}\n";
        let (h, rows) = rows_of(text.as_bytes(), "l.jsonl");
        assert_eq!(h, ["型号", "证书编号"]);
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].cells, Ok(vec!["X".into(), "1".into()]));
        assert_eq!(
            (rows[1].number, &rows[1].cells),
            (3, &Ok(vec![String::new(), "2".into()]))
        );
        assert_eq!(rows[2].cells, Err("not a JSON object".into()));
        assert_eq!(
            rows[3].cells,
            Err("key \"型号\": a list or object is not a cell value".into())
        );
        assert!(matches!(
            decode(b"nope\n", "l.jsonl", None).unwrap().rows().err(),
            Some(InputError::Csv { line: 1, .. })
        ));
    }

    #[test]
    fn floats() {
        assert_eq!(float_text(42.0), "42");
        assert_eq!(float_text(-3.0), "-3");
        assert_eq!(float_text(2.5), "2.5");
        assert_eq!(float_text(1e20), "100000000000000000000");
    }
}
