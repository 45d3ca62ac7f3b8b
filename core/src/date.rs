//! Calendar days as used in every signed format: days since 1970-01-01 (UTC), as `u16`.

use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Seconds in one day.
pub const SECONDS_PER_DAY: u64 = 86_400;

/// A calendar day, counted from 1970-01-01 (day 0). Covers 1970-01-01 ..= 2149-06-06.
///
/// Guarantees: always a real date; `Display` and [`Day::parse`] round-trip as `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub u16);

impl Day {
    /// The last representable day, 2149-06-06.
    pub const MAX: Day = Day(u16::MAX);

    /// The day from a proleptic Gregorian year, month (1..=12) and day of month; `None` when the
    /// date does not exist or lies outside the representable range.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Day> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        let n = days_from_civil(year, month, day);
        u16::try_from(n).ok().map(Day)
    }

    /// Parses `YYYY-MM-DD` exactly (four-digit year, two-digit month and day); `None` otherwise.
    pub fn parse(s: &str) -> Option<Day> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let num = |r: core::ops::Range<usize>| -> Option<u32> {
            let part = s.get(r)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let y = i32::try_from(num(0..4)?).ok()?;
        Day::from_ymd(y, num(5..7)?, num(8..10)?)
    }

    /// The day that contains the given Unix time (seconds since 1970-01-01T00:00:00Z), saturating
    /// at [`Day::MAX`]: for showing a date. Decisions use [`Day::checked_from_unix`], since a time
    /// after 2149-06-06 is not on that day.
    pub fn from_unix(seconds: u64) -> Day {
        Day::checked_from_unix(seconds).unwrap_or(Day::MAX)
    }

    /// The day that contains the given Unix time, or `None` when that day is after [`Day::MAX`]
    /// (from Unix time 5662310400, 2149-06-07T00:00:00Z, on): such a time is after every day.
    pub fn checked_from_unix(seconds: u64) -> Option<Day> {
        u16::try_from(seconds / SECONDS_PER_DAY).ok().map(Day)
    }

    /// Unix time of 00:00:00 UTC on this day.
    pub fn start_unix(self) -> u64 {
        u64::from(self.0) * SECONDS_PER_DAY
    }

    /// Year, month and day of month.
    pub fn ymd(self) -> (i32, u32, u32) {
        civil_from_days(i64::from(self.0))
    }

    /// The day `n` days later, or `None` past [`Day::MAX`].
    pub fn checked_add(self, n: u16) -> Option<Day> {
        self.0.checked_add(n).map(Day)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Day, D::Error> {
        let s = <&str>::deserialize(d)?;
        Day::parse(s).ok_or_else(|| {
            serde::de::Error::custom("not a date (YYYY-MM-DD, 1970-01-01..2149-06-06)")
        })
    }
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's days_from_civil / civil_from_days.
fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_days() {
        assert_eq!(Day::parse("1970-01-01"), Some(Day(0)));
        assert_eq!(Day::parse("2026-07-01"), Some(Day(20_635)));
        assert_eq!(Day::parse("2149-06-06"), Some(Day::MAX));
        assert_eq!(Day::parse("2149-06-07"), None);
        assert_eq!(Day::parse("2025-02-29"), None);
        assert_eq!(
            Day::parse("2024-02-29").map(|d| d.to_string()),
            Some("2024-02-29".into())
        );
        assert_eq!(Day::parse("2025-13-01"), None);
        assert_eq!(Day::parse("2025-1-01"), None);
        assert_eq!(Day::parse("+025-01-01"), None);
        assert_eq!(Day::from_unix(1_782_864_000), Day(20_635));
    }

    #[test]
    fn unix_times_past_the_last_day_are_on_no_day() {
        let last_second = 65_536 * SECONDS_PER_DAY - 1;
        assert_eq!(last_second, 5_662_310_399);
        assert_eq!(
            Day::checked_from_unix(Day::MAX.start_unix()),
            Some(Day::MAX)
        );
        assert_eq!(Day::checked_from_unix(last_second), Some(Day::MAX));
        assert_eq!(Day::checked_from_unix(last_second + 1), None);
        assert_eq!(Day::checked_from_unix(u64::MAX), None);
        assert_eq!(Day::checked_from_unix(0), Some(Day(0)));
        // For display only, the day saturates.
        assert_eq!(Day::from_unix(u64::MAX), Day::MAX);
    }

    proptest! {
        #[test]
        fn display_parse_round_trip(n in any::<u16>()) {
            let d = Day(n);
            prop_assert_eq!(Day::parse(&d.to_string()), Some(d));
        }
    }
}
