//! The unified social credit code (统一社会信用代码, GB 32100-2015): the 18-character number
//! under which a Chinese organisation is registered, so that two makers with similar names can be
//! told apart.
//!
//! Its characters come from the 31 of [`ALPHABET`] (digits and upper-case letters without I, O,
//! S, V and Z). The 18th is a check character: with `v(c)` the index of `c` in the alphabet and
//! weights `W = 1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28` (3^(i-1) mod 31),
//! it is the character of index `(31 - (sum of v(c_i) * W_i for i = 1..17) mod 31) mod 31`.

use core::fmt;

/// The code's 31 characters, in the order of their values 0..=30.
pub const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// The length of a code.
pub const LEN: usize = 18;

const WEIGHTS: [u32; LEN - 1] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Why a unified social credit code is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsccError {
    /// Not 18 characters.
    Length {
        /// The number of characters found.
        len: usize,
    },
    /// A character outside the code's alphabet (lower case included).
    Character {
        /// 1-based position.
        position: usize,
        /// The character found.
        found: char,
    },
    /// The 18th character is not the check character of the first 17.
    CheckCharacter {
        /// The check character the first 17 characters give.
        expected: char,
        /// The 18th character found.
        found: char,
    },
}

impl fmt::Display for UsccError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            UsccError::Length { len } => write!(
                f,
                "a unified social credit code has 18 characters, not {len}"
            ),
            UsccError::Character { position, found } => write!(
                f,
                "character {position} is {found:?}, which a unified social credit code does not use (0-9 and upper-case A-Y without I, O, S, V)"
            ),
            UsccError::CheckCharacter { expected, found } => write!(
                f,
                "check character (the 18th) is {found:?}, but the first 17 characters give {expected:?}: mistyped code"
            ),
        }
    }
}

impl core::error::Error for UsccError {}

/// The value of a character of the code, `None` outside the alphabet.
fn value(c: char) -> Option<u32> {
    let b = u8::try_from(c).ok()?;
    ALPHABET.iter().position(|&a| a == b).map(|v| v as u32)
}

/// The check character of the first 17 characters; `None` unless `first17` is exactly 17
/// characters of the alphabet.
pub fn check_character(first17: &str) -> Option<char> {
    if first17.chars().count() != LEN - 1 {
        return None;
    }
    let mut sum = 0u32;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += value(c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    ALPHABET.get(check as usize).map(|&b| char::from(b))
}

/// Checks a unified social credit code: 18 characters of the alphabet, the last the check
/// character of the others. Never panics.
pub fn check_uscc(code: &str) -> Result<(), UsccError> {
    let len = code.chars().count();
    if len != LEN {
        return Err(UsccError::Length { len });
    }
    for (i, c) in code.chars().enumerate() {
        if value(c).is_none() {
            return Err(UsccError::Character {
                position: i + 1,
                found: c,
            });
        }
    }
    let split = code.len() - 1;
    let (first17, last) = code.split_at(split);
    let found = last.chars().next().unwrap_or('?');
    match check_character(first17) {
        Some(expected) if expected == found => Ok(()),
        Some(expected) => Err(UsccError::CheckCharacter { expected, found }),
        None => Err(UsccError::Length { len }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Published codes, as printed on business licences and in the national enterprise credit
    /// information system: Huawei Technologies Co., Ltd., Shenzhen Tencent Computer Systems Co.,
    /// Ltd. and Beijing Xiaomi Technology Co., Ltd. The algorithm must accept each.
    const PUBLISHED: [&str; 3] = [
        "914403001922038216",
        "91440300708461136T",
        "91110108551385082Q",
    ];

    #[test]
    fn accepts_published_codes() {
        for code in PUBLISHED {
            assert_eq!(check_uscc(code), Ok(()), "{code}");
        }
    }

    #[test]
    fn check_character_comes_from_the_weights() {
        assert_eq!(check_character("91440300192203821"), Some('6'));
        assert_eq!(check_character("91440300708461136"), Some('T'));
        // The value 0 comes from a sum that is a multiple of 31: all zeros.
        assert_eq!(check_character("00000000000000000"), Some('0'));
        assert_eq!(check_character("9144030070846113"), None);
        assert_eq!(check_character("9144030070846113I"), None);
    }

    #[test]
    fn refuses_each_kind_of_mistake() {
        assert_eq!(
            check_uscc("91440300708461136X"),
            Err(UsccError::CheckCharacter {
                expected: 'T',
                found: 'X'
            })
        );
        // Two neighbouring characters swapped.
        assert!(matches!(
            check_uscc("91440300708461163T"),
            Err(UsccError::CheckCharacter { .. })
        ));
        assert_eq!(
            check_uscc("91440300708461136t"),
            Err(UsccError::Character {
                position: 18,
                found: 't'
            })
        );
        assert_eq!(
            check_uscc("9144O300708461136T"),
            Err(UsccError::Character {
                position: 5,
                found: 'O'
            })
        );
        assert_eq!(
            check_uscc("9144030070846113T"),
            Err(UsccError::Length { len: 17 })
        );
        assert_eq!(
            check_uscc("９1440300708461136T"),
            Err(UsccError::Character {
                position: 1,
                found: '９'
            })
        );
        let e = check_uscc("91440300708461136X").unwrap_err().to_string();
        assert!(e.contains("the first 17 characters give 'T'"), "{e}");
    }

    #[test]
    fn every_single_character_change_is_caught() {
        for code in PUBLISHED {
            for i in 0..LEN {
                for &b in ALPHABET {
                    let mut changed = code.as_bytes().to_vec();
                    if changed[i] == b {
                        continue;
                    }
                    changed[i] = b;
                    let changed = String::from_utf8(changed).unwrap();
                    assert!(check_uscc(&changed).is_err(), "{changed}");
                }
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,20}") {
            let _ = check_uscc(&s);
        }
    }
}
