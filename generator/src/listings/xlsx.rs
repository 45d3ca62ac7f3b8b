//! The XLSX report (rust_xlsxwriter, constant-memory mode: rows go to disk as they come): the
//! same columns and cells as the CSV report, every text cell neutralised the same way.

use std::path::Path;

use anyhow::{bail, Context, Result};
use rust_xlsxwriter::{Format, Workbook};
use starmark_core::listings::RowResult;
use starmark_listings::report::{cells, columns, neutralise};

/// The most rows a sheet holds, header included.
const MAX_ROWS: u32 = 1_048_576;
/// The longest text a cell holds.
const MAX_TEXT: usize = 32_767;

/// An XLSX report being written.
pub struct XlsxReport {
    wb: Workbook,
    next: u32,
    with_changes: bool,
}

fn cut(s: &str) -> &str {
    match s.char_indices().nth(MAX_TEXT) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

impl XlsxReport {
    /// Starts a report: one sheet, `listings`, with the header row.
    pub fn new(with_changes: bool) -> Result<XlsxReport> {
        let mut wb = Workbook::new();
        let bold = Format::new().set_bold();
        let ws = wb
            .add_worksheet_with_constant_memory()
            .context("XLSX report")?;
        ws.set_name("listings").context("XLSX report")?;
        for (i, name) in columns(with_changes).iter().enumerate() {
            let col = u16::try_from(i).context("XLSX report: too many columns")?;
            ws.write_string_with_format(0, col, *name, &bold)
                .context("XLSX report")?;
        }
        Ok(XlsxReport {
            wb,
            next: 1,
            with_changes,
        })
    }

    /// Writes one line; the row number as a number, every other cell as neutralised text.
    pub fn row(&mut self, r: &RowResult) -> Result<()> {
        if self.next >= MAX_ROWS {
            bail!(
                "an XLSX sheet holds at most {} listings; write the report as CSV or JSON (--format csv)",
                MAX_ROWS - 1
            );
        }
        let ws = self.wb.worksheet_from_index(0).context("XLSX report")?;
        for (i, cell) in cells(r, self.with_changes).iter().enumerate() {
            let col = u16::try_from(i).context("XLSX report: too many columns")?;
            if i == 0 {
                ws.write_number(self.next, col, r.row as f64)
                    .context("XLSX report")?;
            } else if !cell.is_empty() {
                ws.write_string(self.next, col, cut(&neutralise(cell)))
                    .context("XLSX report")?;
            }
        }
        self.next += 1;
        Ok(())
    }

    /// Writes the workbook to `path`.
    pub fn save(mut self, path: &Path) -> Result<()> {
        self.wb
            .save(path)
            .with_context(|| format!("{}: cannot write the XLSX report", path.display()))
    }
}
