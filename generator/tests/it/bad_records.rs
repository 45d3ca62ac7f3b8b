//! Bad records: each case is a fixture under `tests/fixtures/bad-records/` (a file, or a folder
//! of files), copied into a fresh registry and signed; `sign` must exit 2 with an error naming
//! the file and the field or line, and write no signature.

use std::path::{Path, PathBuf};

use crate::common::Reg;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bad-records")
}

/// Every case and the exact error lines it must produce (after `starmark: error: `).
const CASES: &[(&str, &[&str])] = &[
    (
        "unknown-field.md",
        &["records/unknown-field.md: line 13: field colour: unknown field `colour`, expected one of"],
    ),
    (
        "missing-field.md",
        &["records/missing-field.md: line 1: field lab: missing field `lab`"],
    ),
    (
        "tier-4.md",
        &["records/tier-4.md: line 8: field tier: 4 is not a tier (1, 2 or 3)"],
    ),
    (
        "valid-until-before-valid-from.md",
        &["records/valid-until-before-valid-from.md: line 11: field valid_until: 2026-06-30 is \
           before valid_from 2026-07-01"],
    ),
    (
        "unknown-category",
        &["records/unknown-category/20260001.md: field category: unknown category \"toaster\" \
           (the catalogue has: router, smart-camera,"],
    ),
    (
        "bad-date.md",
        &["records/bad-date.md: line 11: field valid_until: invalid date, expected month between 01 and 12"],
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
            "records/duplicate-serial/020260001.md: field serial: 20260001 is already used by ",
            "records/duplicate-serial/20260001.md: field serial: 20260001 is already used by ",
        ],
    ),
    (
        "file-name-not-serial",
        &["records/file-name-not-serial/0099.md: the file name does not match serial 15: a \
           record file is named by its serial; rename it to 15.md (leading zeros are allowed)"],
    ),
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
    let header = format!("starmark: error: {} record(s) not signed:", records.len());
    assert!(out.stderr.starts_with(&header), "{case}: {}", out.stderr);
    for line in *expected {
        assert!(
            out.stderr.lines().any(|l| l.trim_start().starts_with(line)),
            "{case}: no line starting with {line:?} in\n{}",
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
    missing_field => "missing-field.md",
    tier_4 => "tier-4.md",
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
        .find(|l| l.contains("records/duplicate-serial/020260001.md: field serial"))
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
            "records/duplicate-serial/20260001.md: field serial: 20260001 is already used by",
        ]);
}

/// CONVENTIONS.md: "records/0042.md: field valid_until: 2025-13-01 is not a date". The record
/// parser reports the line but not the field for dates TOML itself rejects.
#[test]
fn bad_date_names_the_field() {
    let stderr = check("bad-date.md");
    assert!(
        stderr.contains("records/bad-date.md: line 11: field valid_until:"),
        "{stderr}"
    );
}
