//! The clock and date arguments: the only place that reads the system time.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{bail, Result};
use starmark_core::Day;

/// Now, in Unix seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Today (UTC).
pub fn today() -> Day {
    Day::from_unix(now())
}

/// Parses a `YYYY-MM-DD` argument; `what` names it in the error.
pub fn parse_day(s: &str, what: &str) -> Result<Day> {
    match Day::parse(s.trim()) {
        Some(d) => Ok(d),
        None => bail!("{what}: {s:?} is not a date (YYYY-MM-DD, 1970-01-01..2149-06-06)"),
    }
}

/// An optional date argument, today when absent.
pub fn day_or_today(s: Option<&str>, what: &str) -> Result<Day> {
    s.map_or_else(|| Ok(today()), |s| parse_day(s, what))
}

/// Parses `--at`: a date (00:00 UTC) or Unix seconds.
pub fn parse_instant(s: &str) -> Result<u64> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse()
            .map_err(|_| anyhow::anyhow!("--at: {s:?} is out of range"));
    }
    Ok(parse_day(s, "--at")?.start_unix())
}
