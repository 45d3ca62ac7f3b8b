//! The rules for every text that people read as a name: the manufacturer and its English name,
//! the local agent, the product, the model and the lab, in records and in signed claims.
//!
//! A text that passes cannot hide characters, reorder its neighbours or mix scripts into a
//! look-alike of another name. The checks, in this order (the first failure is reported, with
//! the code point; docs/FORMAT.md section 9 is the specification):
//!
//! 1. each character in turn: no control character (General_Category Cc); no bidi control
//!    (Bidi_Control); no default-ignorable code point (Default_Ignorable_Code_Point: soft hyphen,
//!    zero-width characters, Hangul fillers, variation selectors...); no white space but U+0020
//!    SPACE (White_Space); no full-width form of an ASCII letter or digit (U+FF10..U+FF19,
//!    U+FF21..U+FF3A, U+FF41..U+FF5A, which NFC keeps);
//! 2. no space at the start or the end, no two spaces in a row;
//! 3. each character in turn: no code point of script Unknown (unassigned, private use,
//!    noncharacters);
//! 4. NFC: the Unicode Normalization Form C quick check (UAX #15) answers YES;
//! 5. UTS #39 "highly restrictive": one script, or Latin with Han and Bopomofo, Han and
//!    Hiragana and Katakana, or Han and Hangul (characters of Common and Inherited script go
//!    with any).
//!
//! A record's names must pass all five ([`check_display_text`]: `sign` and `build`). A claim's
//! manufacturer and model must pass 1 and 2 ([`check_claim_text`]: every verifier, the browser
//! included): these need two small code point sets, while the script data (8.6 KB gzipped) and the
//! NFC data (5.1 KB) would not fit the verify page's budget. A claim failing 3 to 5 was signed
//! by a tool that did not check its record; the issuer's `sign` never makes one.
//!
//! Character properties are those of Unicode 17.0 (`icu_properties` 2.1); the NFC quick check is
//! `unicode-normalization`'s. Whether two names look alike (the UTS #39 skeleton) compares
//! records with one another, which only the issuer's tools do: it is not here.

use core::fmt;

use icu_properties::props::{BidiControl, DefaultIgnorableCodePoint, Script};
use icu_properties::script::ScriptWithExtensions;
use icu_properties::CodePointSetData;
use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{is_nfc_quick, IsNormalized};

/// A display text that breaks the rules: the field and what is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextError {
    /// The field.
    pub field: &'static str,
    /// What is wrong.
    pub problem: TextProblem,
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field {}: {}", self.field, self.problem)
    }
}

impl core::error::Error for TextError {}

/// Why a display text is refused; each case names the offending code point where there is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TextProblem {
    /// A control character (General_Category Cc).
    Control(char),
    /// A bidi control: it reorders the text around it.
    Bidi(char),
    /// A default-ignorable code point: it shows as nothing.
    Invisible(char),
    /// White space other than U+0020 SPACE.
    Space(char),
    /// The full-width form of an ASCII letter or digit.
    FullWidth(char),
    /// A code point of script Unknown: unassigned, private use or a noncharacter.
    Unassigned(char),
    /// A space at the start.
    LeadingSpace,
    /// A space at the end.
    TrailingSpace,
    /// Two spaces in a row.
    DoubleSpace,
    /// The text is not in NFC (its quick check fails at this character).
    NotNfc(char),
    /// This character shares no script with an earlier one (`None` when no single earlier
    /// character conflicts with it, only several together).
    MixedScripts(char, Option<char>),
}

impl fmt::Display for TextProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TextProblem::Control(c) => {
                write!(f, "{} is not allowed (control character)", Cp(c, false))
            }
            TextProblem::Bidi(c) => write!(f, "{} is not allowed (bidi control)", Cp(c, false)),
            TextProblem::Invisible(c) => write!(
                f,
                "{} is not allowed (invisible: default-ignorable code point)",
                Cp(c, false)
            ),
            TextProblem::Space(c) => write!(
                f,
                "{} is not allowed (the only space allowed is U+0020 SPACE)",
                Cp(c, false)
            ),
            TextProblem::FullWidth(c) => write!(
                f,
                "{} is not allowed (full-width look-alike of an ASCII letter or digit)",
                Cp(c, true)
            ),
            TextProblem::Unassigned(c) => write!(
                f,
                "{} is not allowed (unassigned or private-use code point)",
                Cp(c, false)
            ),
            TextProblem::LeadingSpace => f.write_str("starts with a space"),
            TextProblem::TrailingSpace => f.write_str("ends with a space"),
            TextProblem::DoubleSpace => f.write_str("has two spaces in a row"),
            TextProblem::NotNfc(c) => write!(
                f,
                "not in Unicode normalization form NFC (the NFC quick check fails at {})",
                Cp(c, false)
            ),
            TextProblem::MixedScripts(c, Some(other)) => write!(
                f,
                "{} and {} are of different scripts (mixed scripts can imitate another name)",
                Cp(other, true),
                Cp(c, true)
            ),
            TextProblem::MixedScripts(c, None) => write!(
                f,
                "{} shares no script with the text before it (mixed scripts can imitate another name)",
                Cp(c, true)
            ),
        }
    }
}

/// A code point as messages show it: `U+202E RIGHT-TO-LEFT OVERRIDE` for the invisible ones
/// people meet most, `U+0422 'Т'` for a visible one (`true`: the caller knows it is visible).
struct Cp(char, bool);

impl fmt::Display for Cp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Cp(c, visible) = *self;
        write!(f, "U+{:04X}", u32::from(c))?;
        let selector = match c {
            '\u{FE00}'..='\u{FE0F}' => Some(u32::from(c) - 0xFE00 + 1),
            '\u{E0100}'..='\u{E01EF}' => Some(u32::from(c) - 0xE0100 + 17),
            _ => None,
        };
        match (name(c), selector) {
            (Some(n), _) => write!(f, " {n}"),
            (None, Some(n)) => write!(f, " VARIATION SELECTOR-{n}"),
            (None, None) if visible => write!(f, " '{c}'"),
            (None, None) => Ok(()),
        }
    }
}

/// Names of the invisible code points that spoofed names use most.
fn name(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{00A0}' => "NO-BREAK SPACE",
        '\u{00AD}' => "SOFT HYPHEN",
        '\u{034F}' => "COMBINING GRAPHEME JOINER",
        '\u{061C}' => "ARABIC LETTER MARK",
        '\u{115F}' => "HANGUL CHOSEONG FILLER",
        '\u{1160}' => "HANGUL JUNGSEONG FILLER",
        '\u{200B}' => "ZERO WIDTH SPACE",
        '\u{200C}' => "ZERO WIDTH NON-JOINER",
        '\u{200D}' => "ZERO WIDTH JOINER",
        '\u{200E}' => "LEFT-TO-RIGHT MARK",
        '\u{200F}' => "RIGHT-TO-LEFT MARK",
        '\u{202A}' => "LEFT-TO-RIGHT EMBEDDING",
        '\u{202B}' => "RIGHT-TO-LEFT EMBEDDING",
        '\u{202C}' => "POP DIRECTIONAL FORMATTING",
        '\u{202D}' => "LEFT-TO-RIGHT OVERRIDE",
        '\u{202E}' => "RIGHT-TO-LEFT OVERRIDE",
        '\u{2060}' => "WORD JOINER",
        '\u{2066}' => "LEFT-TO-RIGHT ISOLATE",
        '\u{2067}' => "RIGHT-TO-LEFT ISOLATE",
        '\u{2068}' => "FIRST STRONG ISOLATE",
        '\u{2069}' => "POP DIRECTIONAL ISOLATE",
        '\u{3000}' => "IDEOGRAPHIC SPACE",
        '\u{3164}' => "HANGUL FILLER",
        '\u{FEFF}' => "ZERO WIDTH NO-BREAK SPACE",
        '\u{FFA0}' => "HALFWIDTH HANGUL FILLER",
        _ => return None,
    })
}

/// The CJK Unified Ideographs block, all assigned since Unicode 14.0.
fn is_common_ideograph(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}')
}

/// Full-width forms of `0-9`, `A-Z` and `a-z`: NFC keeps them, and they read as ASCII.
fn is_full_width_alphanumeric(c: char) -> bool {
    matches!(c, '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}')
}

/// Checks a name in a record (manufacturer, manufacturer_en, local_agent, product, model, lab)
/// against every rule of this module, 1 to 5. Never panics; length and emptiness are checked by
/// the caller (they depend on the field).
pub fn check_display_text(field: &'static str, s: &str) -> Result<(), TextError> {
    check_visible(s)
        .and_then(|()| check_form_and_scripts(s))
        .map_err(|problem| TextError { field, problem })
}

/// Checks a claim's manufacturer or model against rules 1 and 2 of this module: what every
/// verifier refuses as malformed. A text that passes [`check_display_text`] passes this. Never
/// panics.
pub fn check_claim_text(field: &'static str, s: &str) -> Result<(), TextError> {
    check_visible(s).map_err(|problem| TextError { field, problem })
}

/// ASCII and the CJK Unified Ideographs block: every character assigned, visible, no space but
/// U+0020, NFC quick check Yes with combining class 0, of script Latin, Common or Han, which mix
/// within "highly restrictive". Only controls and spaces can fail (most names are such).
fn is_plain(s: &str) -> bool {
    s.chars().all(|c| c.is_ascii() || is_common_ideograph(c))
}

/// Rules 1 and 2.
fn check_visible(s: &str) -> Result<(), TextProblem> {
    if is_plain(s) {
        if let Some(c) = s.chars().find(char::is_ascii_control) {
            return Err(TextProblem::Control(c));
        }
        return check_spaces(s);
    }
    check_every_visibility_rule(s)
}

fn check_every_visibility_rule(s: &str) -> Result<(), TextProblem> {
    let bidi = CodePointSetData::new::<BidiControl>();
    let ignorable = CodePointSetData::new::<DefaultIgnorableCodePoint>();
    for c in s.chars() {
        if c.is_control() {
            return Err(TextProblem::Control(c));
        }
        if bidi.contains(c) {
            return Err(TextProblem::Bidi(c));
        }
        if ignorable.contains(c) {
            return Err(TextProblem::Invisible(c));
        }
        if c.is_whitespace() && c != ' ' {
            return Err(TextProblem::Space(c));
        }
        if is_full_width_alphanumeric(c) {
            return Err(TextProblem::FullWidth(c));
        }
    }
    check_spaces(s)
}

/// Rules 3 to 5.
fn check_form_and_scripts(s: &str) -> Result<(), TextProblem> {
    if is_plain(s) {
        return Ok(());
    }
    check_every_form_and_script_rule(s)
}

fn check_every_form_and_script_rule(s: &str) -> Result<(), TextProblem> {
    let scripts = ScriptWithExtensions::new();
    if let Some(c) = s
        .chars()
        .find(|&c| scripts.get_script_val(c) == Script::Unknown)
    {
        return Err(TextProblem::Unassigned(c));
    }
    check_nfc(s)?;
    check_scripts(s, scripts)
}

fn check_spaces(s: &str) -> Result<(), TextProblem> {
    if s.starts_with(' ') {
        Err(TextProblem::LeadingSpace)
    } else if s.ends_with(' ') {
        Err(TextProblem::TrailingSpace)
    } else if s.as_bytes().windows(2).any(|w| w == b"  ") {
        Err(TextProblem::DoubleSpace)
    } else {
        Ok(())
    }
}

/// The NFC quick check of UAX #15, character by character so that the error can name where it
/// fails: canonical combining classes in order, and every character NFC_Quick_Check=Yes.
fn check_nfc(s: &str) -> Result<(), TextProblem> {
    if is_nfc_quick(s.chars()) == IsNormalized::Yes {
        return Ok(());
    }
    let mut last_class = 0u8;
    for c in s.chars() {
        let class = canonical_combining_class(c);
        if (class != 0 && last_class > class)
            || is_nfc_quick(core::iter::once(c)) != IsNormalized::Yes
        {
            return Err(TextProblem::NotNfc(c));
        }
        last_class = class;
    }
    // The whole-text check failed, so one character above did too; this is not reached.
    Err(TextProblem::NotNfc(s.chars().next().unwrap_or(' ')))
}

/// A UTS #39 augmented script set: scripts (bits by ICU script code) plus the writing systems
/// Hanb (Han with Bopomofo), Jpan (Han with kana) and Kore (Han with Hangul); `all` for
/// characters of every script (Common, Inherited).
#[derive(Clone, Copy, PartialEq, Eq)]
struct ScriptSet {
    all: bool,
    bits: [u64; 4],
    hanb: bool,
    jpan: bool,
    kore: bool,
}

impl ScriptSet {
    const ALL: ScriptSet = ScriptSet {
        all: true,
        bits: [u64::MAX; 4],
        hanb: true,
        jpan: true,
        kore: true,
    };

    fn of(c: char, scripts: icu_properties::script::ScriptWithExtensionsBorrowed<'_>) -> Self {
        let ext = scripts.get_script_extensions_val(c);
        if ext.contains(&Script::Common) || ext.contains(&Script::Inherited) {
            return ScriptSet::ALL;
        }
        let mut set = ScriptSet {
            all: false,
            bits: [0; 4],
            hanb: false,
            jpan: false,
            kore: false,
        };
        for script in ext.iter() {
            let code = usize::from(script.to_icu4c_value());
            // ICU script codes stop near 210; a larger one would be in no set (always mixed).
            if let Some(word) = set.bits.get_mut(code / 64) {
                *word |= 1 << (code % 64);
            }
            if script == Script::Han {
                (set.hanb, set.jpan, set.kore) = (true, true, true);
            }
            if script == Script::Hiragana || script == Script::Katakana {
                set.jpan = true;
            }
            if script == Script::Hangul {
                set.kore = true;
            }
            if script == Script::Bopomofo {
                set.hanb = true;
            }
        }
        set
    }

    fn intersect(self, other: ScriptSet) -> ScriptSet {
        ScriptSet {
            all: self.all && other.all,
            bits: [0, 1, 2, 3].map(|i| self.bits[i] & other.bits[i]),
            hanb: self.hanb && other.hanb,
            jpan: self.jpan && other.jpan,
            kore: self.kore && other.kore,
        }
    }

    fn is_empty(&self) -> bool {
        self.bits == [0; 4] && !self.hanb && !self.jpan && !self.kore
    }

    fn has_cjk(&self) -> bool {
        self.hanb || self.jpan || self.kore
    }

    fn has_latin(&self) -> bool {
        let code = usize::from(Script::Latin.to_icu4c_value());
        self.bits[code / 64] & (1 << (code % 64)) != 0
    }
}

/// UTS #39 restriction level "highly restrictive" at most: the text's resolved script set is not
/// empty (single script), or that of its characters outside Latin holds Hanb, Jpan or Kore.
fn check_scripts(
    s: &str,
    scripts: icu_properties::script::ScriptWithExtensionsBorrowed<'_>,
) -> Result<(), TextProblem> {
    let restrictive =
        |whole: ScriptSet, non_latin: ScriptSet| !whole.is_empty() || non_latin.has_cjk();
    let mut whole = ScriptSet::ALL;
    let mut non_latin = ScriptSet::ALL;
    for (i, c) in s.char_indices() {
        let set = ScriptSet::of(c, scripts);
        whole = whole.intersect(set);
        if !set.has_latin() {
            non_latin = non_latin.intersect(set);
        }
        if !restrictive(whole, non_latin) {
            // The first earlier character that alone conflicts with this one, if any.
            // `get`, not `[..i]` (i is a char boundary): keeps the slicing panic, and its
            // formatting, out of the browser verifier.
            let other = s.get(..i).unwrap_or_default().chars().find(|&o| {
                let before = ScriptSet::of(o, scripts);
                let pair = before.intersect(set);
                let pair_non_latin = [before, set]
                    .into_iter()
                    .filter(|x| !x.has_latin())
                    .fold(ScriptSet::ALL, ScriptSet::intersect);
                !restrictive(pair, pair_non_latin)
            });
            return Err(TextProblem::MixedScripts(c, other));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(s: &str) -> Option<TextProblem> {
        check_display_text("manufacturer", s)
            .err()
            .map(|e| e.problem)
    }

    #[test]
    fn accepts_real_names() {
        for s in [
            "星联 AX3000",
            "深圳市星联科技有限公司",
            "Rheinfeld Automation GmbH",
            "Chengdu Shu'an IoT Technology Co., Ltd.",
            "西门子（中国）有限公司",
            "中国网络安全审查认证和市场监管大数据中心 (CCRC) 检测实验室",
            "湊電子株式会社 ミナト",
            "한강 스마트홈 Co., Ltd.",
            "Müller & Söhne",
            "Ελληνικά",
            "ООО Ромашка",
            "XL-AX3000",
        ] {
            assert_eq!(problem(s), None, "{s}");
        }
    }

    #[test]
    fn refuses_each_spoof_with_its_code_point() {
        let cases: &[(&str, TextProblem)] = &[
            ("\u{202E}kniL-PT", TextProblem::Bidi('\u{202E}')),
            ("TP\u{2066}-Link", TextProblem::Bidi('\u{2066}')),
            ("TP-Li\u{00AD}nk", TextProblem::Invisible('\u{00AD}')),
            ("TP-Link\u{3164}", TextProblem::Invisible('\u{3164}')),
            ("\u{115F}TP-Link", TextProblem::Invisible('\u{115F}')),
            ("TP\u{200D}Link", TextProblem::Invisible('\u{200D}')),
            ("星联\u{FE0F}", TextProblem::Invisible('\u{FE0F}')),
            ("星联\u{E0101}", TextProblem::Invisible('\u{E0101}')),
            ("TP-Link\u{00A0}Ltd", TextProblem::Space('\u{00A0}')),
            ("星联\u{3000}科技", TextProblem::Space('\u{3000}')),
            ("\u{FF34}\u{FF30}-Link", TextProblem::FullWidth('\u{FF34}')),
            ("XL-AX\u{FF13}000", TextProblem::FullWidth('\u{FF13}')),
            ("TP-Link\u{E000}", TextProblem::Unassigned('\u{E000}')),
            ("TP-Link\u{7}", TextProblem::Control('\u{7}')),
            ("星联\u{85}", TextProblem::Control('\u{85}')),
            ("TP-Link ", TextProblem::TrailingSpace),
            (" TP-Link", TextProblem::LeadingSpace),
            ("TP  Link", TextProblem::DoubleSpace),
            ("星联  科技", TextProblem::DoubleSpace),
            ("Cafe\u{301}", TextProblem::NotNfc('\u{301}')),
            ("\u{F900}联", TextProblem::NotNfc('\u{F900}')),
            (
                "\u{422}p-Link",
                TextProblem::MixedScripts('p', Some('\u{422}')),
            ),
            (
                "T\u{440}-Link",
                TextProblem::MixedScripts('\u{440}', Some('T')),
            ),
            (
                "Micr\u{3BF}soft",
                TextProblem::MixedScripts('\u{3BF}', Some('M')),
            ),
            (
                "星联 \u{422}P",
                TextProblem::MixedScripts('\u{422}', Some('星')),
            ),
        ];
        for (s, expected) in cases {
            assert_eq!(problem(s), Some(*expected), "{s:?}");
        }
    }

    #[test]
    fn messages_name_field_and_code_point() {
        let e = check_display_text("manufacturer", "\u{202E}kniL-PT").unwrap_err();
        assert_eq!(
            e.to_string(),
            "field manufacturer: U+202E RIGHT-TO-LEFT OVERRIDE is not allowed (bidi control)"
        );
        let e = check_display_text("model", "\u{422}p-Link").unwrap_err();
        assert_eq!(
            e.to_string(),
            "field model: U+0422 'Т' and U+0070 'p' are of different scripts (mixed scripts can imitate another name)"
        );
        let e = check_display_text("lab", "星联\u{FE0F}").unwrap_err();
        assert!(
            e.to_string().contains("U+FE0F VARIATION SELECTOR-16 is"),
            "{e}"
        );
        let e = check_display_text("lab", "星联\u{E0101}").unwrap_err();
        assert!(
            e.to_string().contains("U+E0101 VARIATION SELECTOR-18 is"),
            "{e}"
        );
        let e = check_display_text("lab", "星联\u{E000}").unwrap_err();
        assert!(e.to_string().contains("U+E000 is not"), "{e}");
        let e = check_display_text("lab", "Cafe\u{301}").unwrap_err();
        assert!(e.to_string().ends_with("fails at U+0301)"), "{e}");
    }

    #[test]
    fn han_with_hangul_or_kana_is_one_writing_system_but_not_with_cyrillic() {
        assert_eq!(problem("三星电子 삼성 Samsung"), None);
        assert_eq!(problem("ソニー 索尼 Sony"), None);
        assert_eq!(problem("注音 ㄅㄆ ABC"), None);
        assert!(matches!(
            problem("ソニー 삼성"),
            Some(TextProblem::MixedScripts(..))
        ));
        assert!(matches!(
            problem("Αθήνα Athens"),
            Some(TextProblem::MixedScripts(..))
        ));
    }

    #[test]
    fn every_common_ideograph_is_han_nfc_and_visible() {
        let scripts = ScriptWithExtensions::new();
        for c in '\u{4E00}'..='\u{9FFF}' {
            assert_eq!(scripts.get_script_val(c), Script::Han, "{c}");
            assert!(
                scripts.get_script_extensions_val(c).contains(&Script::Han),
                "{c}"
            );
            assert_eq!(canonical_combining_class(c), 0);
            assert_eq!(is_nfc_quick(core::iter::once(c)), IsNormalized::Yes, "{c}");
            assert!(!CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c));
            assert!(!CodePointSetData::new::<BidiControl>().contains(c));
            assert!(!c.is_whitespace() && !is_full_width_alphanumeric(c));
        }
    }

    #[test]
    fn claims_are_held_to_rules_1_and_2_only() {
        let claim = |s: &str| check_claim_text("manufacturer", s).err().map(|e| e.problem);
        for (s, expected) in [
            ("\u{202E}kniL-PT", Some(TextProblem::Bidi('\u{202E}'))),
            ("TP-Li\u{00AD}nk", Some(TextProblem::Invisible('\u{00AD}'))),
            ("TP-Link\u{3164}", Some(TextProblem::Invisible('\u{3164}'))),
            ("TP-Link\u{00A0}Ltd", Some(TextProblem::Space('\u{00A0}'))),
            (
                "\u{FF34}\u{FF30}-Link",
                Some(TextProblem::FullWidth('\u{FF34}')),
            ),
            ("TP-Link ", Some(TextProblem::TrailingSpace)),
            ("TP  Link", Some(TextProblem::DoubleSpace)),
            ("TP-Link\u{7}", Some(TextProblem::Control('\u{7}'))),
            // Refused in records only: unassigned, not NFC, mixed scripts.
            ("TP-Link\u{E000}", None),
            ("Cafe\u{301}", None),
            ("\u{422}p-Link", None),
        ] {
            assert_eq!(claim(s), expected, "{s:?}");
        }
        assert!(problem("\u{422}p-Link").is_some());
    }

    proptest::proptest! {
        #[test]
        fn the_shortcuts_agree_with_the_rules(s in "[ -~\u{4E00}-\u{9FFF}]{0,30}") {
            proptest::prop_assert_eq!(check_visible(&s), check_every_visibility_rule(&s));
            proptest::prop_assert_eq!(check_form_and_scripts(&s), check_every_form_and_script_rule(&s));
        }

        #[test]
        fn a_name_that_passes_passes_as_a_claim(s in "\\PC{0,20}") {
            if check_display_text("model", &s).is_ok() {
                proptest::prop_assert!(check_claim_text("model", &s).is_ok());
            }
        }

        #[test]
        fn arbitrary_text_never_panics(s in "\\PC{0,40}|[\\u{0}-\\u{3000}]{0,20}") {
            let _ = check_display_text("manufacturer", &s);
        }
    }
}
