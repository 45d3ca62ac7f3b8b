//! How a listing's cells are read and compared: the normalisation of manufacturers and models, and
//! the parsing of certificate numbers and tiers. The exact rules are in docs/GUIDE.md ("For
//! retailers"); each function here states its own.

use alloc::string::String;

use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

use crate::claim::Tier;

/// Unicode white space and the invisible format characters that copying from web pages and
/// spreadsheets leaves behind: U+00AD, U+200B–U+200F, U+202A–U+202E, U+2060–U+2064, U+FEFF.
fn blank(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{FEFF}'
        )
}

/// The hyphens and dashes a model is written with: `-`, U+2010–U+2015, U+2212, U+FE58, U+FE63
/// (after NFKC, which turns the full-width hyphen U+FF0D into `-`).
fn hyphen(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}'
    )
}

/// Characters dropped from model and manufacturer keys.
fn dropped(c: char) -> bool {
    blank(c) || hyphen(c)
}

/// Punctuation dropped from manufacturer names only (after NFKC, so full-width forms are
/// included): `. , ' ’ ‘ " “ ” ( ) [ ] 、 。 ·`.
fn maker_punctuation(c: char) -> bool {
    matches!(
        c,
        '.' | ',' | '\'' | '’' | '‘' | '"' | '“' | '”' | '(' | ')' | '[' | ']' | '、' | '。' | '·'
    )
}

/// Legal-form endings removed from a manufacturer key, longest first; at most one is removed, and
/// only when something is left.
pub const LEGAL_FORMS: [&str; 16] = [
    "股份有限公司",
    "有限责任公司",
    "incorporated",
    "corporation",
    "colimited",
    "有限公司",
    "株式会社",
    "limited",
    "company",
    "coltd",
    "ltd",
    "gmbh",
    "corp",
    "公司",
    "inc",
    "llc",
];

/// Applies NFKC (full-width letters, digits and punctuation become their ASCII forms, U+3000 a
/// space), then calls `f` with each character, lower-cased.
fn each_folded(s: &str, mut f: impl FnMut(char)) {
    let mut lower = |c: char| {
        if c.is_ascii() {
            f(c.to_ascii_lowercase());
        } else {
            c.to_lowercase().for_each(&mut f);
        }
    };
    if s.is_ascii() || is_nfkc_quick(s.chars()) == IsNormalized::Yes {
        s.chars().for_each(&mut lower);
    } else {
        s.nfkc().for_each(&mut lower);
    }
}

/// NFKC, lower case, without white space and invisible format characters (hyphens stay).
fn without_blanks(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    each_folded(s, |c| {
        if !blank(c) {
            out.push(c);
        }
    });
    out
}

/// The key a model is compared by: NFKC, lower case, without white space, hyphens, dashes and
/// invisible format characters. `XL-AX3000`, `xl ax3000` and `ＸＬ－ＡＸ３０００` have one key.
pub fn model_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    each_folded(s, |c| {
        if !dropped(c) {
            out.push(c);
        }
    });
    out
}

/// The key a manufacturer is compared by: the model key's rules, also without the punctuation
/// `. , ' ’ ‘ " “ ” ( ) [ ] 、 。 ·`, then without one legal-form ending of [`LEGAL_FORMS`]
/// (`有限公司`, `股份有限公司`, `Co., Ltd.`, `Inc.`, `GmbH`...), so `深圳市星联科技有限公司`
/// and `深圳市星联科技` have one key, and so do `Polaris Mesh Networks, Inc.` and
/// `POLARIS MESH NETWORKS`.
pub fn maker_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    each_folded(s, |c| {
        if !dropped(c) && !maker_punctuation(c) {
            out.push(c);
        }
    });
    for form in LEGAL_FORMS {
        if out.len() > form.len() && out.ends_with(form) {
            out.truncate(out.len() - form.len());
            break;
        }
    }
    out
}

/// NFKC of a cell, trimmed of white space and invisible format characters at both ends.
pub fn clean(s: &str) -> String {
    let folded: String = if s.is_ascii() || is_nfkc_quick(s.chars()) == IsNormalized::Yes {
        String::from(s)
    } else {
        s.nfkc().collect()
    };
    String::from(folded.trim_matches(blank))
}

/// Why a certificate number cell was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NumberError {
    /// A character other than a digit, white space or a hyphen.
    NotADigit(char),
    /// More than fits a serial (20 digits, 18446744073709551615).
    TooLarge,
}

/// Reads a certificate number: after NFKC (so full-width digits count), white space and hyphens
/// are ignored and the rest must be decimal digits, leading zeros allowed (`00000042`, `42`,
/// `４２` and `0000 0042` are serial 42). `Ok(None)` for an empty cell.
pub fn parse_certificate_number(s: &str) -> Result<Option<u64>, NumberError> {
    let key = model_key(s);
    if key.is_empty() {
        return Ok(None);
    }
    if let Some(c) = key.chars().find(|c| !c.is_ascii_digit()) {
        return Err(NumberError::NotADigit(c));
    }
    let digits = key.trim_start_matches('0');
    if digits.is_empty() {
        return Ok(Some(0));
    }
    digits.parse().map(Some).map_err(|_| NumberError::TooLarge)
}

/// A tier cell that says no tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotATier;

/// Reads a tier claim: after NFKC, lower case and without white space, one of `1`, `2`, `3`,
/// `一`, `二`, `两`, `三`, or one to three `★` (any `☆` ignored), optionally followed by `星`,
/// `星级`, `级`, `star` or `stars`, or preceded by `tier`. `Ok(None)` for an empty cell, [`NotATier`]
/// for anything else.
pub fn parse_tier(s: &str) -> Result<Option<Tier>, NotATier> {
    let key = without_blanks(s);
    if key.is_empty() {
        return Ok(None);
    }
    let mut k = key.as_str();
    k = k.strip_prefix("tier").unwrap_or(k);
    for suffix in ["星级", "stars", "star", "星", "级"] {
        if let Some(rest) = k.strip_suffix(suffix) {
            k = rest;
            break;
        }
    }
    let stars = match k {
        "1" | "一" => 1,
        "2" | "二" | "两" => 2,
        "3" | "三" => 3,
        _ => {
            let filled = k.chars().filter(|c| *c == '★').count();
            if k.chars().all(|c| c == '★' || c == '☆') && (1..=3).contains(&filled) {
                filled as u8
            } else {
                return Err(NotATier);
            }
        }
    };
    Tier::from_stars(stars).map(Some).ok_or(NotATier)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn models_compare_without_case_space_hyphen_or_width() {
        let k = model_key("XL-AX3000");
        for same in [
            "xl-ax3000",
            "XL AX3000",
            "XLAX3000",
            "ＸＬ－ＡＸ３０００",
            " XL\u{2013}AX3000 ",
            "XL\u{200B}-AX3000",
            "XL\u{3000}AX3000",
        ] {
            assert_eq!(model_key(same), k, "{same:?}");
        }
        for other in ["XL-AX3001", "XL_AX3000", "XL.AX3000", "XLAX300"] {
            assert_ne!(model_key(other), k, "{other:?}");
        }
    }

    #[test]
    fn makers_compare_without_legal_form_and_punctuation() {
        let zh = maker_key("深圳市星联科技有限公司");
        assert_eq!(zh, "深圳市星联科技");
        for same in [
            "深圳市星联科技",
            "深圳市星联科技股份有限公司",
            "深圳市星联科技有限责任公司",
            "深圳市星联科技公司",
            " 深圳市星联科技 有限公司 ",
        ] {
            assert_eq!(maker_key(same), zh, "{same:?}");
        }
        assert_ne!(maker_key("星联科技有限公司"), zh);
        let en = maker_key("Shenzhen Xinglian Technology Co., Ltd.");
        assert_eq!(en, "shenzhenxingliantechnology");
        for same in [
            "SHENZHEN XINGLIAN TECHNOLOGY",
            "Shenzhen Xinglian Technology Co.,Ltd",
            "Shenzhen Xinglian Technology Co. Ltd.",
            "Shenzhen Xinglian Technology Limited",
            "Shenzhen-Xinglian Technology Co., Ltd.",
            "Ｓｈｅｎｚｈｅｎ Ｘｉｎｇｌｉａｎ Ｔｅｃｈｎｏｌｏｇｙ Ｃｏ．，Ｌｔｄ．",
        ] {
            assert_eq!(maker_key(same), en, "{same:?}");
        }
        assert_eq!(
            maker_key("Polaris Mesh Networks, Inc."),
            maker_key("polaris mesh networks")
        );
        assert_eq!(
            maker_key("Rheinfeld Automation GmbH"),
            "rheinfeldautomation"
        );
        assert_eq!(maker_key("湊电子株式会社"), "湊电子");
        // Only one ending goes, and never the whole name.
        assert_eq!(maker_key("公司"), "公司");
        assert_eq!(maker_key("股份有限公司"), "股份");
        assert_eq!(maker_key("Inc"), "inc");
        assert_eq!(maker_key("A Company Ltd"), "acompany");
    }

    #[test]
    fn certificate_numbers() {
        assert_eq!(parse_certificate_number("00000042"), Ok(Some(42)));
        assert_eq!(parse_certificate_number("42"), Ok(Some(42)));
        assert_eq!(parse_certificate_number("０００００４２"), Ok(Some(42)));
        assert_eq!(parse_certificate_number(" 0000 0042 "), Ok(Some(42)));
        assert_eq!(parse_certificate_number("0000-0042"), Ok(Some(42)));
        assert_eq!(parse_certificate_number("0"), Ok(Some(0)));
        assert_eq!(parse_certificate_number(""), Ok(None));
        assert_eq!(parse_certificate_number(" \u{3000}"), Ok(None));
        assert_eq!(
            parse_certificate_number("18446744073709551615"),
            Ok(Some(u64::MAX))
        );
        assert_eq!(
            parse_certificate_number("18446744073709551616"),
            Err(NumberError::TooLarge)
        );
        assert_eq!(
            parse_certificate_number("000000000000000000000000042"),
            Ok(Some(42))
        );
        assert_eq!(
            parse_certificate_number("No.42"),
            Err(NumberError::NotADigit('n'))
        );
        assert_eq!(
            parse_certificate_number("٤٢"),
            Err(NumberError::NotADigit('٤'))
        );
        assert_eq!(
            parse_certificate_number("4.2"),
            Err(NumberError::NotADigit('.'))
        );
    }

    #[test]
    fn tiers() {
        for (s, t) in [
            ("1", 1),
            ("2", 2),
            ("3", 3),
            ("３", 3),
            ("3星", 3),
            ("三星", 3),
            ("三星级", 3),
            ("二星级", 2),
            ("两星", 2),
            ("一星", 1),
            ("2 stars", 2),
            ("1 Star", 1),
            ("Tier 2", 2),
            ("★★", 2),
            ("★★☆", 2),
            ("★★★", 3),
            ("3级", 3),
        ] {
            assert_eq!(
                parse_tier(s).map(|t| t.map(Tier::stars)),
                Ok(Some(t)),
                "{s}"
            );
        }
        assert_eq!(parse_tier(""), Ok(None));
        for bad in ["0", "4", "四星", "★★★★", "☆☆", "x", "2.5", "-1", "12"] {
            assert_eq!(parse_tier(bad), Err(NotATier), "{bad}");
        }
    }

    #[test]
    fn clean_trims_and_folds() {
        assert_eq!(clean("\u{FEFF} ４２\u{3000}"), "42");
        assert_eq!(
            clean("https://x.cn/verify/#１２"),
            "https://x.cn/verify/#12"
        );
    }

    proptest! {
        #[test]
        fn keys_never_panic(s in "\\PC{0,60}") {
            prop_assert_eq!(model_key(&s), model_key(&s));
            let _ = maker_key(&s);
            let _ = parse_certificate_number(&s);
            let _ = parse_tier(&s);
            let _ = clean(&s);
        }
    }
}
