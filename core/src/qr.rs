//! The QR payload: a signed claim as decimal digits, and the verify URL that carries them in its
//! fragment (`<base_url>/verify/#<digits>`), so the code stays in numeric mode and never reaches a
//! server.
//!
//! Bytes are cut into groups of seven; each group is read as a big-endian integer and written as
//! exactly 17 decimal digits (zero-padded). A last group of k < 7 bytes is written with the fewest
//! digits that hold any k-byte number: 3, 5, 8, 10, 13 or 15 digits for k = 1..6. The mapping is a
//! bijection between byte strings and valid digit strings.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::DigitsError;

/// Digits per full group of seven bytes.
const GROUP_DIGITS: usize = 17;
/// Bytes per full group.
const GROUP_BYTES: usize = 7;
/// Digits for a group of k bytes, k = 0..=7.
const DIGITS_FOR: [usize; 8] = [0, 3, 5, 8, 10, 13, 15, 17];
/// The most digits a QR code can hold (version 40, error correction L).
pub const MAX_DIGITS: usize = 7089;

/// Writes bytes as decimal digits.
pub fn encode_digits(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len().div_ceil(GROUP_BYTES) * GROUP_DIGITS);
    for group in bytes.chunks(GROUP_BYTES) {
        let value = group.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        // Fixed-width decimal, most significant digit first, without an allocation per group.
        let width = DIGITS_FOR[group.len()];
        let mut buf = [b'0'; GROUP_DIGITS];
        let mut v = value;
        for d in buf[..width].iter_mut().rev() {
            *d = b'0' + (v % 10) as u8;
            v /= 10;
        }
        s.extend(buf[..width].iter().map(|&b| char::from(b)));
    }
    s
}

/// Reads decimal digits back into bytes. Never panics; rejects non-digits, impossible lengths,
/// groups out of range and more than [`MAX_DIGITS`] digits.
pub fn decode_digits(digits: &str) -> Result<Vec<u8>, DigitsError> {
    if digits.is_empty() {
        return Err(DigitsError::Empty);
    }
    if let Some((position, found)) = digits
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_digit())
    {
        return Err(DigitsError::NotADigit { position, found });
    }
    let len = digits.len();
    if len > MAX_DIGITS {
        return Err(DigitsError::TooLong {
            len,
            max: MAX_DIGITS,
        });
    }
    let tail_digits = len % GROUP_DIGITS;
    let tail_bytes = DIGITS_FOR
        .iter()
        .position(|&d| d == tail_digits)
        .ok_or(DigitsError::InvalidLength { len })?;
    let mut out = Vec::with_capacity(len / GROUP_DIGITS * GROUP_BYTES + tail_bytes);
    let digits = digits.as_bytes();
    let mut start = 0;
    let mut group = 0;
    while start < len {
        let (width, nbytes) = if len - start >= GROUP_DIGITS {
            (GROUP_DIGITS, GROUP_BYTES)
        } else {
            (tail_digits, tail_bytes)
        };
        let value = digits[start..start + width]
            .iter()
            .fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'));
        if nbytes < 8 && value >> (8 * nbytes) != 0 {
            return Err(DigitsError::GroupOutOfRange { group });
        }
        for i in (0..nbytes).rev() {
            out.push((value >> (8 * i)) as u8);
        }
        start += width;
        group += 1;
    }
    Ok(out)
}

/// The verify URL for a payload: `<base_url>/verify/#<digits>` (one slash between the parts).
pub fn verify_url(base_url: &str, payload: &[u8]) -> String {
    alloc::format!(
        "{}/verify/#{}",
        base_url.trim_end_matches('/'),
        encode_digits(payload)
    )
}

/// The white space ignored at either end of a pasted or scanned verify URL or digits, and nothing
/// else: tab, line feed, carriage return and space (what keyboards, QR scanners and copied lines
/// add), and U+3000 ideographic space (what a Chinese input method types in full-width mode). Every
/// other character, other Unicode white space included, is part of the input.
pub const IGNORED_WHITE_SPACE: [char; 5] = ['\t', '\n', '\r', ' ', '\u{3000}'];

/// The digits from what a user has: a verify URL (the part after its first `#`) or the digits
/// alone (one leading `#` allowed), after removing [`IGNORED_WHITE_SPACE`] at both ends of the
/// whole input. The input is a URL when it contains `://` or starts with `/`. Never panics; the
/// digits returned are checked by [`decode_digits`].
pub fn digits_of(target: &str) -> Result<&str, DigitsError> {
    let t = target.trim_matches(IGNORED_WHITE_SPACE);
    // A byte search: `str::contains(&str)` brings a substring searcher into the verifier.
    if t.as_bytes().windows(3).any(|w| w == b"://") || t.starts_with('/') {
        let (_, fragment) = t.split_once('#').ok_or(DigitsError::NoFragment)?;
        return Ok(fragment);
    }
    Ok(t.strip_prefix('#').unwrap_or(t))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_encodings() {
        assert_eq!(encode_digits(&[]), "");
        assert_eq!(encode_digits(&[0]), "000");
        assert_eq!(encode_digits(&[255]), "255");
        assert_eq!(encode_digits(&[0xff; 7]), "72057594037927935");
        assert_eq!(encode_digits(&[1, 2]), "00258");
        assert_eq!(decode_digits("72057594037927935").unwrap(), vec![0xff; 7]);
    }

    #[test]
    fn rejects_malformed_digits() {
        assert_eq!(decode_digits(""), Err(DigitsError::Empty));
        assert_eq!(
            decode_digits("12a"),
            Err(DigitsError::NotADigit {
                position: 2,
                found: 'a'
            })
        );
        assert_eq!(
            decode_digits("1234"),
            Err(DigitsError::InvalidLength { len: 4 })
        );
        assert_eq!(
            decode_digits("0000000000000000000"),
            Err(DigitsError::InvalidLength { len: 19 })
        );
        assert_eq!(
            decode_digits("256"),
            Err(DigitsError::GroupOutOfRange { group: 0 })
        );
        assert_eq!(
            decode_digits("72057594037927936"),
            Err(DigitsError::GroupOutOfRange { group: 0 })
        );
        assert_eq!(
            decode_digits("99999999999999999"),
            Err(DigitsError::GroupOutOfRange { group: 0 })
        );
        let long = "0".repeat(MAX_DIGITS + 17);
        assert!(matches!(
            decode_digits(&long),
            Err(DigitsError::TooLong { .. })
        ));
    }

    #[test]
    fn targets() {
        assert_eq!(digits_of("https://x.cn/verify/#123").unwrap(), "123");
        assert_eq!(digits_of(" 123\n").unwrap(), "123");
        assert_eq!(
            digits_of("\t\r\n \u{3000}123\u{3000} \r\n\t").unwrap(),
            "123"
        );
        assert_eq!(digits_of("/verify/#123\r\n").unwrap(), "123");
        // Only the ends of the whole input: white space inside a fragment stays, and is refused.
        assert_eq!(digits_of("https://x.cn/verify/# 123").unwrap(), " 123");
        assert_eq!(digits_of("#123").unwrap(), "123");
        assert_eq!(
            digits_of("https://x.cn/verify/"),
            Err(DigitsError::NoFragment)
        );
        assert_eq!(
            verify_url("https://x.cn/", &[1]),
            "https://x.cn/verify/#001"
        );
    }

    #[test]
    fn other_white_space_is_not_ignored() {
        let refused = [
            '\u{b}', '\u{c}', '\u{1c}', '\u{1d}', '\u{1e}', '\u{1f}', '\u{85}', '\u{a0}',
            '\u{1680}', '\u{2000}', '\u{2007}', '\u{200b}', '\u{2028}', '\u{2029}', '\u{202f}',
            '\u{205f}', '\u{feff}',
        ];
        for c in refused {
            let before = format!("{c}001");
            assert_eq!(
                digits_of(&before).and_then(decode_digits),
                Err(DigitsError::NotADigit {
                    position: 0,
                    found: c
                }),
                "{c:?} before"
            );
            let after = format!("https://x.cn/verify/#001{c}");
            assert_eq!(
                digits_of(&after).and_then(decode_digits),
                Err(DigitsError::NotADigit {
                    position: 3,
                    found: c
                }),
                "{c:?} after"
            );
        }
        for c in IGNORED_WHITE_SPACE {
            assert_eq!(digits_of(&format!("{c}001{c}")), Ok("001"), "{c:?}");
        }
    }

    proptest! {
        #[test]
        fn round_trip(b in proptest::collection::vec(any::<u8>(), 0..400)) {
            let d = encode_digits(&b);
            prop_assert!(d.bytes().all(|c| c.is_ascii_digit()));
            if b.is_empty() {
                prop_assert_eq!(decode_digits(&d), Err(DigitsError::Empty));
            } else {
                prop_assert_eq!(decode_digits(&d).unwrap(), b);
            }
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,200}") {
            let _ = decode_digits(&s);
            let _ = digits_of(&s);
        }

        #[test]
        fn arbitrary_digits_never_panic(s in "[0-9]{0,400}") {
            if let Ok(b) = decode_digits(&s) {
                prop_assert_eq!(encode_digits(&b), s);
            }
        }
    }
}
