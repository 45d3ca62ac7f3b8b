//! Bad records: each case is a fixture under `tests/fixtures/bad-records/` (a file, or a folder
//! of files), copied into a fresh registry and signed; `sign` must exit 2 with an error naming
//! the file and the field or line, and write no signature.

use std::path::{Path, PathBuf};

use crate::common::{RecordText, Reg};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad-records")
}

/// Every case and the exact error lines it must produce (after `starmark: error: `).
const CASES: &[(&str, &[&str])] = &[
    (
        "unknown-field.md",
        &["records/unknown-field.md: line 13: field colour: unknown field; hint: the fields are: \
           serial, manufacturer, manufacturer_en,"],
    ),
    (
        "misspelled-field.md",
        &["records/misspelled-field.md: line 13: field manufactuer_en: unknown field; hint: did \
           you mean `manufacturer_en`?"],
    ),
    (
        "missing-field.md",
        &["records/missing-field.md: line 15: field lab: missing: every record sets it; hint: add \
           it to the front matter, before this +++ line: lab = \"...\""],
    ),
    (
        "tier-4.md",
        &["records/tier-4.md: line 8: field tier: 4 is not a tier (1, 2 or 3)"],
    ),
    (
        "quoted-number.md",
        &["records/quoted-number.md: line 8: field tier: \"2\" is text in quotes, not a number; \
           hint: write the number without quotes: tier = 2"],
    ),
    (
        "number-for-text.md",
        &["records/number-for-text.md: line 5: field model: 3000 is a number, not text in quotes; \
           hint: put it in quotes: model = \"3000\""],
    ),
    (
        "valid-until-before-valid-from.md",
        &["records/valid-until-before-valid-from.md: line 11: field valid_until: 2026-06-30 is \
           before valid_from 2026-07-01"],
    ),
    (
        "unknown-category",
        &["records/unknown-category/20260001.md: line 6: field category: unknown category \
           \"toaster\" (the catalogue in starmark.toml has: router, smart-camera,"],
    ),
    (
        "bad-date.md",
        &["records/bad-date.md: line 11: field valid_until: 2025-13-01 is not a date (the month \
           must be 01 to 12); hint: a date is written YYYY-MM-DD, without quotes, e.g. \
           valid_until = 2026-11-01"],
    ),
    (
        "date-with-slashes.md",
        &["records/date-with-slashes.md: line 11: field valid_until: 2029/06/30 is not a date; \
           hint: a date is written YYYY-MM-DD, without quotes: valid_until = 2029-06-30"],
    ),
    (
        "date-one-digit-day.md",
        &["records/date-one-digit-day.md: line 10: field valid_from: 2026-07-1 is not a date (the \
           day must be two digits, 01 to 31, and exist in that month); hint: a date is written \
           YYYY-MM-DD, without quotes: valid_from = 2026-07-01"],
    ),
    (
        "quoted-date.md",
        &["records/quoted-date.md: line 9: field issued: \"2026-07-01\" is text in quotes, not a \
           date; hint: a date is written YYYY-MM-DD, without quotes: issued = 2026-07-01"],
    ),
    (
        "bad-evidence-sha256.md",
        &["records/bad-evidence-sha256.md: line 15: field sha256: \
           \"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a0\" is not 64 hex \
           digits"],
    ),
    (
        "no-front-matter.md",
        &["records/no-front-matter.md: line 1: the record must start with a +++ line (TOML \
           front matter)"],
    ),
    (
        "duplicate-serial",
        &[
            "records/duplicate-serial/020260001.md: line 2: field serial: 20260001 is already \
             used by ",
            "records/duplicate-serial/20260001.md: line 2: field serial: 20260001 is already used \
             by ",
        ],
    ),
    (
        "file-name-not-serial",
        &["records/file-name-not-serial/0099.md: the file name does not match serial 15: a \
           record file is named by its serial; rename it to 15.md (leading zeros are allowed)"],
    ),
];

/// Parser wording that must never reach a message.
const JARGON: &[&str] = &[
    "i64",
    "i128",
    "invalid type",
    "TOML parse",
    "expected a",
    "datetime",
    "sequence",
    "expected one of",
];

/// Copies a case into `records/`; returns the record paths relative to the registry.
fn install(reg: &Reg, case: &str) -> Vec<String> {
    let from = fixtures().join(case);
    if from.is_dir() {
        let mut names: Vec<String> = std::fs::read_dir(&from)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
            .iter()
            .map(|n| {
                let text = std::fs::read_to_string(from.join(n)).unwrap();
                reg.write_record(&format!("{case}/{n}"), &text);
                format!("records/{case}/{n}")
            })
            .collect()
    } else {
        let text = std::fs::read_to_string(&from).unwrap();
        reg.write_record(case, &text);
        vec![format!("records/{case}")]
    }
}

/// Signs a case in a fresh registry; asserts exit 2, every expected line, and no .sig.
fn check(case: &str) -> String {
    let (_, expected) = CASES
        .iter()
        .find(|(c, _)| *c == case)
        .unwrap_or_else(|| panic!("no expectation for {case}"));
    let reg = Reg::new();
    let records = install(&reg, case);
    let mut args = vec!["sign"];
    args.extend(records.iter().map(String::as_str));
    let out = reg.run(&args);
    out.code(2);
    assert!(out.stdout.is_empty(), "{case}: {}", out.stdout);
    let header = match records.len() {
        1 => "starmark: error: 1 record not signed:".to_string(),
        n => format!("starmark: error: {n} records not signed:"),
    };
    assert!(out.stderr.starts_with(&header), "{case}: {}", out.stderr);
    for line in *expected {
        assert!(
            out.stderr.lines().any(|l| l.trim_start().starts_with(line)),
            "{case}: no line starting with {line:?} in\n{}",
            out.stderr
        );
    }
    for jargon in JARGON {
        assert!(
            !out.stderr.contains(jargon),
            "{case}: {jargon:?} in\n{}",
            out.stderr
        );
    }
    for r in &records {
        let sig = reg.path(r).with_extension("sig");
        assert!(!sig.exists(), "{case}: {} written", sig.display());
    }
    out.stderr
}

macro_rules! cases {
    ($($name:ident => $case:literal,)*) => {
        $(
            #[test]
            fn $name() {
                check($case);
            }
        )*

        #[test]
        fn every_fixture_has_a_test() {
            let tested = [$($case),*];
            let mut found: Vec<String> = std::fs::read_dir(fixtures())
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect();
            found.sort();
            for f in &found {
                assert!(tested.contains(&f.as_str()), "fixture {f} has no test");
            }
            assert_eq!(found.len(), CASES.len());
        }
    };
}

cases! {
    unknown_field => "unknown-field.md",
    misspelled_field_gets_did_you_mean => "misspelled-field.md",
    missing_field_is_placed_at_the_closing_line => "missing-field.md",
    tier_4 => "tier-4.md",
    quoted_number_says_to_drop_the_quotes => "quoted-number.md",
    number_for_text_says_to_quote_it => "number-for-text.md",
    date_with_slashes_gives_the_form => "date-with-slashes.md",
    date_with_one_digit_day_gives_the_form => "date-one-digit-day.md",
    quoted_date_says_to_drop_the_quotes => "quoted-date.md",
    valid_until_before_valid_from => "valid-until-before-valid-from.md",
    unknown_category => "unknown-category",
    bad_date => "bad-date.md",
    bad_evidence_sha256 => "bad-evidence-sha256.md",
    no_front_matter => "no-front-matter.md",
    duplicate_serial => "duplicate-serial",
    file_name_not_serial => "file-name-not-serial",
}

#[test]
fn duplicate_serial_names_the_other_file() {
    let stderr = check("duplicate-serial");
    let first = stderr
        .lines()
        .find(|l| l.contains("records/duplicate-serial/020260001.md: line 2: field serial"))
        .unwrap();
    assert!(
        first.ends_with("records/duplicate-serial/20260001.md"),
        "{first}"
    );
    // Signing one of them alone is refused too.
    let reg = Reg::new();
    install(&reg, "duplicate-serial");
    reg.run(&["sign", "records/duplicate-serial/20260001.md"])
        .code(2)
        .stderr_has(&[
            "records/duplicate-serial/20260001.md: line 2: field serial: 20260001 is already used \
             by",
        ]);
}

/// CONVENTIONS.md: "records/0042.md: field valid_until: 2025-13-01 is not a date".
#[test]
fn bad_date_names_the_field() {
    let stderr = check("bad-date.md");
    assert!(
        stderr.contains("records/bad-date.md: line 11: field valid_until:"),
        "{stderr}"
    );
}

/// A record changed after signing: `build` says how to re-sign it, and that command works.
#[test]
fn changed_after_signing_says_how_to_re_sign() {
    let reg = Reg::new();
    reg.signed("1.md", &RecordText::new(1).text());
    let path = reg.path("records/1.md");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("All baseline", "Every baseline")).unwrap();
    let out = reg.run(&["build", "--quiet"]);
    out.code(2).stderr_has(&[
        "records/1.md: digest mismatch: the record was changed after signing",
        "if the change is meant, re-sign it: `starmark sign --force ",
    ]);
    let line = out
        .stderr
        .lines()
        .find(|l| l.contains("re-sign it"))
        .unwrap();
    let command = line.split('`').nth(1).unwrap();
    let args: Vec<&str> = command.split(' ').skip(1).collect();
    assert_eq!(args[..2], ["sign", "--force"], "{command}");
    reg.run(&args).ok();
    reg.run(&["build", "--quiet"]).ok();
}

/// `build` of a directory without starmark.toml says it is not a registry and how to make one.
#[test]
fn build_outside_a_registry_says_it_is_not_one() {
    let reg = Reg::new();
    let empty = reg.tmp().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = crate::common::run_in(&empty, &["build"]);
    out.code(2).stderr_has(&[
        "starmark: error: .: not a starmark registry: there is no starmark.toml in it; make a \
         registry with `starmark init DIR`",
    ]);
    assert!(!out.stderr.contains("cannot read"), "{}", out.stderr);
    reg.run_in_tmp(&["build", "nowhere"])
        .code(2)
        .stderr_has(&["nowhere: no such directory", "`starmark init nowhere`"]);
}

/// A bad starmark.toml is named by line, in plain words.
#[test]
fn config_errors_are_in_plain_words() {
    let reg = Reg::new();
    let config = std::fs::read_to_string(reg.path("starmark.toml")).unwrap();
    let (n, _) = config
        .lines()
        .enumerate()
        .find(|(_, l)| l.starts_with("max_record_bytes = "))
        .unwrap();
    let changed: String = config
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == n {
                "max_record_bytes = \"big\"\n".to_string()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(reg.path("starmark.toml"), changed).unwrap();
    let out = reg.run(&["build"]);
    out.code(2).stderr_has(&[&format!(
        "starmark.toml: line {}: text \"big\" where a whole number belongs",
        n + 1
    )]);
    for jargon in JARGON {
        assert!(!out.stderr.contains(jargon), "{jargon:?} in {}", out.stderr);
    }
}

/// Counts agree with their nouns: "built 1 certification", "1 record not signed".
#[test]
fn one_is_singular() {
    let reg = Reg::new();
    reg.signed("1.md", &RecordText::new(1).text());
    let out = reg.run(&["build"]);
    out.ok().stdout_has(&["built 1 certification into "]);
    assert!(!out.stdout.contains("1 certifications"), "{}", out.stdout);
    reg.run(&["log", "verify"])
        .ok()
        .stdout_has(&["(1 claim, 1 revocation list, 1 trust list)"]);
    reg.write_record(
        "2.md",
        &RecordText::new(2).text().replace("tier = 2", "tier = 5"),
    );
    reg.run(&["sign", "records/2.md"])
        .code(2)
        .stderr_has(&["starmark: error: 1 record not signed:"]);
}
