//! `starmark check-listings`: the sample listings file (docs/samples/, made from the demo
//! registry in site/ with a planted problem of every result class) in UTF-8, GB18030 and XLSX,
//! each row's result; the reports (CSV with formulas neutralised, JSON, XLSX); the state of the
//! last run; the sources (registry directory, site directory); every bad input.

use std::path::{Path, PathBuf};

use calamine::{Reader, Xlsx};
use serde_json::Value;

use crate::common::{run_in, s, Out};

/// The day the sample's expected results hold: the demo registry's revocation list is fresh.
const AT: &str = "2026-12-01";

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn site() -> PathBuf {
    repo("site")
}

fn sample() -> PathBuf {
    repo("docs/samples/listings.csv")
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Runs `check-listings FILE --registry SOURCE --at AT` plus `extra`.
fn check(file: &Path, source: &Path, extra: &[&str]) -> Out {
    let mut args = vec![
        "check-listings",
        s(file),
        "--registry",
        s(source),
        "--at",
        AT,
    ];
    args.extend_from_slice(extra);
    run_in(Path::new(env!("CARGO_MANIFEST_DIR")), &args)
}

/// The JSON report of a check on stdout.
fn report(file: &Path, source: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let out = check(file, source, &args);
    (out.code, out.json())
}

/// Row number, listing id and result of every row of the sample, as planted.
const EXPECTED: [(u64, &str, &str); 21] = [
    (2, "L001", "ok"),
    (3, "L002", "ok"),
    (4, "L003", "ok"),
    (5, "L004", "ok"),
    (6, "L005", "ok"),
    (7, "L006", "not_found"),
    (8, "L007", "revoked"),
    (9, "L008", "expired"),
    (10, "L009", "not_yet_valid"),
    (11, "L010", "tier_overclaimed"),
    (12, "L011", "model_mismatch"),
    (13, "L012", "maker_mismatch"),
    (14, "L013", "counterfeit_label"),
    (15, "L014", "counterfeit_label"),
    (16, "L015", "ambiguous"),
    (17, "L016", "bad_row"),
    (18, "L017", "bad_row"),
    (19, "L018", "bad_row"),
    (20, "L001", "bad_row"),
    (21, "L019", "bad_row"),
    (22, "<b>L020</b>", "bad_row"),
];

fn rows(report: &Value) -> &Vec<Value> {
    report["rows"].as_array().expect("rows")
}

fn at_row(report: &Value, row: u64) -> &Value {
    rows(report)
        .iter()
        .find(|r| r["row"] == row)
        .unwrap_or_else(|| panic!("no row {row}"))
}

#[track_caller]
fn assert_planted(report: &Value) {
    let got: Vec<(u64, String, String)> = rows(report)
        .iter()
        .map(|r| {
            (
                r["row"].as_u64().unwrap(),
                r["listing_id"].as_str().unwrap().to_string(),
                r["result"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want: Vec<(u64, String, String)> = EXPECTED
        .iter()
        .map(|(n, id, r)| (*n, id.to_string(), r.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn sample_in_utf8_has_every_result_class() {
    let (code, r) = report(&sample(), &site(), &[]);
    assert_eq!(code, 1);
    assert_planted(&r);
    assert_eq!(r["format"], "starmark-listings-report-1");
    assert_eq!(r["at"], AT);
    assert_eq!(r["certifications"], 30);
    assert_eq!(r["revocation_sequence"], 5);
    assert_eq!(r["summary"]["rows"], 21);
    assert_eq!(r["summary"]["ok"], 5);
    assert_eq!(r["summary"]["bad_row"], 6);
    // The registry's values beside the listing's.
    let revoked = at_row(&r, 8);
    assert_eq!(revoked["registry"]["revoked_on"], "2026-09-03");
    assert_eq!(revoked["registry"]["revocation_reason"], "security_flaw");
    assert!(revoked["reason"]
        .as_str()
        .unwrap()
        .contains("revoked on 2026-09-03 (security_flaw)"));
    let tier = at_row(&r, 11);
    assert_eq!(
        (
            tier["listing"]["tier"].as_str(),
            tier["registry"]["tier"].as_u64()
        ),
        (Some("3"), Some(1))
    );
    assert_eq!(at_row(&r, 16)["candidates"], serde_json::json!([12, 24]));
    assert!(at_row(&r, 14)["reason"]
        .as_str()
        .unwrap()
        .contains("signature does not verify"));
    // A label URL from another registry.
    assert!(at_row(&r, 15)["reason"]
        .as_str()
        .unwrap()
        .contains("not signed by a key of this registry"));
    // The English name, full-width digits, a label link, manufacturer and model alone.
    assert_eq!(at_row(&r, 3)["registry"]["serial"], 19);
    assert_eq!(at_row(&r, 4)["listing"]["certificate"], "００００００１５");
    assert_eq!(
        at_row(&r, 4)["registry"]["manufacturer_en"],
        "Rheinfeld Automation GmbH"
    );
    assert_eq!(at_row(&r, 5)["registry"]["serial"], 2);
    assert_eq!(at_row(&r, 6)["registry"]["serial"], 3);
    // Bad rows name the column and the value.
    assert_eq!(
        at_row(&r, 17)["reason"],
        "column F \"证书编号\": \"No.12x\" is not a certificate number ('n' is not a digit)"
    );
    assert_eq!(at_row(&r, 18)["column"], "E \"星级\"");
    assert_eq!(at_row(&r, 19)["column"], "G \"标签链接\"");
    assert_eq!(
        at_row(&r, 20)["reason"],
        "column A \"商品编号\": listing id \"L001\" is also on row 2; each listing id must appear once"
    );
}

#[test]
fn summary_on_stderr_and_exit_codes() {
    let out = check(&sample(), &site(), &[]);
    out.code(1).stderr_has(&[
        "starmark: 21 listings in",
        "(CSV, UTF-8, comma separated) checked against 30 certifications of registry",
        "(revocation list 5) as of 2026-12-01:",
        "  ok                         5",
        "  counterfeit_label          2",
    ]);
    assert!(out.stdout.starts_with('\u{feff}'), "CSV report on stdout");
    let dir = tmp();
    let ok = dir.path().join("ok.csv");
    std::fs::write(&ok, "证书编号,星级\n00000001,2\n15,3\n").unwrap();
    check(&ok, &site(), &[]).ok();
    check(&ok, &site(), &["--quiet"]).ok();
    assert!(check(&ok, &site(), &["--quiet"]).stderr.is_empty());
}

#[test]
fn sample_in_gb18030_gives_the_same_report() {
    let utf8 = report(&sample(), &site(), &[]);
    let gbk = check(
        &repo("docs/samples/listings-gb18030.csv"),
        &site(),
        &["--format", "json"],
    );
    gbk.stderr_has(&["(CSV, GB18030, comma separated)"]);
    assert_eq!(gbk.json(), utf8.1);
}

/// The sample's cells, as the csv crate reads them.
fn sample_cells() -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(sample())
        .unwrap();
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// The sample's rows as an XLSX workbook: numbers as Excel keeps them (`00000001` typed into a
/// cell becomes the number 1), and a second sheet.
fn sample_xlsx(path: &Path) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("商品").unwrap();
    for (r, cells) in sample_cells().iter().enumerate() {
        for (c, cell) in cells.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            match cell.parse::<f64>() {
                Ok(n) if r > 0 && !cell.starts_with(['+', '-']) => {
                    ws.write_number(r, c, n).unwrap();
                }
                _ => {
                    ws.write_string(r, c, cell).unwrap();
                }
            }
        }
    }
    let other = wb.add_worksheet();
    other.set_name("其他").unwrap();
    other.write_string(0, 0, "备注").unwrap();
    wb.save(path).unwrap();
}

/// A sheet's cells as text, as calamine reads them.
fn sheet_cells(path: &Path, sheet: &str) -> Vec<Vec<String>> {
    let mut wb: Xlsx<_> = calamine::open_workbook(path).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    range
        .rows()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect()
}

#[test]
fn sample_as_xlsx_gives_the_same_results() {
    let dir = tmp();
    let path = dir.path().join("listings.xlsx");
    sample_xlsx(&path);
    // docs/samples/listings.xlsx is this workbook (UPDATE_SAMPLES=1 writes it again).
    let committed = repo("docs/samples/listings.xlsx");
    if std::env::var("UPDATE_SAMPLES").is_ok_and(|v| v == "1") {
        sample_xlsx(&committed);
    }
    assert_eq!(sheet_cells(&committed, "商品"), sheet_cells(&path, "商品"));
    let (code, r) = report(&path, &site(), &[]);
    assert_eq!(code, 1);
    assert_planted(&r);
    assert_eq!(at_row(&r, 2)["listing"]["certificate"], "1");
    let out = check(&path, &site(), &["--sheet", "其他"]);
    out.code(2).stderr_has(&[
        "no column says which certification a listing claims",
        "headers found: A \"备注\"",
    ]);
    check(&path, &site(), &["--sheet", "none"])
        .code(2)
        .stderr_has(&["no sheet \"none\" in the workbook; its sheets: \"商品\", \"其他\""]);
}

#[test]
fn csv_report_is_utf8_with_bom_and_formulas_are_neutralised() {
    let dir = tmp();
    let out = dir.path().join("report.csv");
    check(&sample(), &site(), &["--out", s(&out)])
        .code(1)
        .stderr_has(&["report written to"]);
    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(&bytes[3..]);
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(records.len(), 21);
    let injected = records
        .iter()
        .find(|r| &r[col("listing_id")] == "L019")
        .unwrap();
    assert_eq!(
        &injected[col("shop")],
        "'=HYPERLINK(\"http://evil.example\",\"点我\")"
    );
    assert_eq!(&injected[col("listing_manufacturer")], "'@SUM(1+1)");
    assert_eq!(&injected[col("listing_model")], "'+XL-AX3000");
    assert_eq!(&injected[col("listing_tier")], "'-2");
    // No cell of the report starts a formula.
    for r in &records {
        for cell in r.iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?}"
            );
        }
    }
    // Markup stays text.
    let html = records.iter().find(|r| &r[col("row")] == "22").unwrap();
    assert_eq!(&html[col("listing_id")], "<b>L020</b>");
    assert_eq!(&html[col("shop")], "<script>alert('店铺')</script>");
}

#[test]
fn xlsx_report_has_the_same_cells() {
    let dir = tmp();
    let out = dir.path().join("report.xlsx");
    check(&sample(), &site(), &["--out", s(&out)]).code(1);
    let rows = sheet_cells(&out, "listings");
    assert_eq!(rows.len(), 22);
    assert_eq!(rows[0][0], "row");
    assert_eq!(rows[0][3], "result");
    let injected = rows.iter().find(|r| r[1] == "L019").unwrap();
    assert_eq!(injected[2], "'=HYPERLINK(\"http://evil.example\",\"点我\")");
    assert_eq!(injected[3], "bad_row");
    assert_eq!(rows[1][0], "2");
    // --format wins over the extension; xlsx needs a file.
    check(&sample(), &site(), &["--format", "xlsx"])
        .code(2)
        .stderr_has(&["--format xlsx needs --out FILE.xlsx"]);
}

#[test]
fn stale_revocation_data_is_never_ok() {
    // The demo list's next update is 2028-01-03.
    let out = run_in(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[
            "check-listings",
            s(&sample()),
            "--registry",
            s(&site()),
            "--at",
            "2028-06-01",
            "--format",
            "json",
        ],
    );
    let r = out.json();
    assert_eq!(at_row(&r, 2)["result"], "stale_data");
    assert!(at_row(&r, 2)["reason"]
        .as_str()
        .unwrap()
        .contains("past its next update"));
    assert_eq!(at_row(&r, 8)["result"], "revoked");
    assert_eq!(at_row(&r, 9)["result"], "expired");
    assert_eq!(at_row(&r, 10)["result"], "stale_data");
    assert_eq!(r["summary"]["ok"], 0);
}

/// A copy of the demo registry in a temp dir, with its secret keys private (as `revoke` needs).
fn registry_copy(dir: &Path) -> PathBuf {
    let reg = dir.join("reg");
    copy_dir(&site(), &reg);
    for e in std::fs::read_dir(reg.join("keys")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "key") {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    reg
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "public" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

#[test]
fn state_reports_what_changed_since_the_last_run() {
    let dir = tmp();
    let reg = registry_copy(dir.path());
    let state = dir.path().join("state.json");
    let file = dir.path().join("listings.csv");
    std::fs::copy(sample(), &file).unwrap();
    let run = |at: &str| {
        let out = run_in(
            dir.path(),
            &[
                "check-listings",
                s(&file),
                "--registry",
                s(&reg),
                "--at",
                at,
                "--format",
                "json",
                "--state",
                s(&state),
            ],
        );
        (out.json(), out)
    };
    let (first, _) = run("2026-12-02");
    assert!(rows(&first).iter().all(|r| r["changed"] == "new"));
    let saved: Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(saved["revocation_sequence"], 5);
    assert_eq!(saved["results"]["id L001"], "ok");
    assert_eq!(saved["results"]["id L001, row 20"], "bad_row");

    // Overnight: certification 1 is revoked, L016's number is corrected, L006 is delisted.
    run_in(
        dir.path(),
        &[
            "revoke",
            "1",
            "--reason",
            "security_flaw",
            "--date",
            "2026-12-02",
            "--registry",
            s(&reg),
        ],
    )
    .ok();
    let text = std::fs::read_to_string(&file).unwrap();
    let text = text.replace("No.12x", "00000001").replace("L006,", "L099,");
    std::fs::write(&file, text).unwrap();
    let (second, out) = run("2026-12-03");
    out.stderr_has(&["changed", "of the last run is no longer in the file"]);
    let changed: Vec<(u64, &str)> = rows(&second)
        .iter()
        .filter(|r| r["changed"] != "")
        .map(|r| (r["row"].as_u64().unwrap(), r["changed"].as_str().unwrap()))
        .collect();
    assert_eq!(
        changed,
        vec![(2, "newly_revoked"), (7, "new"), (17, "newly_revoked")]
    );
    assert_eq!(second["revocation_sequence"], 6);

    // A rollback: the older list again is refused, and every result is at best stale.
    std::fs::copy(
        site().join("revocation-list.bin"),
        reg.join("revocation-list.bin"),
    )
    .unwrap();
    let (third, out) = run("2026-12-04");
    out.stderr_has(&["older than the one the last run saw (6): refused as a rollback"]);
    assert_eq!(at_row(&third, 3)["result"], "stale_data");
    assert!(at_row(&third, 3)["reason"]
        .as_str()
        .unwrap()
        .contains("rollback"));
    // A state file that is not one.
    std::fs::write(&state, "{}").unwrap();
    let out = run_in(
        dir.path(),
        &[
            "check-listings",
            s(&file),
            "--registry",
            s(&reg),
            "--state",
            s(&state),
        ],
    );
    out.code(2)
        .stderr_has(&["state.json: not a listings state file"]);
}

/// A directory laid out as a built site publishes what a check reads.
fn site_copy(dir: &Path) -> PathBuf {
    let out = dir.join("public");
    std::fs::create_dir_all(out.join("api/v1")).unwrap();
    std::fs::create_dir_all(out.join("records")).unwrap();
    for (from, to) in [
        ("trust-list.bin", "api/v1/trust-list.bin"),
        ("revocation-list.bin", "api/v1/revocation-list.bin"),
    ] {
        std::fs::copy(site().join(from), out.join(to)).unwrap();
    }
    for e in std::fs::read_dir(site().join("records")).unwrap() {
        let p = e.unwrap().path();
        let serial: u64 = p.file_stem().unwrap().to_str().unwrap().parse().unwrap();
        let ext = p.extension().unwrap().to_str().unwrap().to_string();
        std::fs::copy(&p, out.join(format!("records/{serial}.{ext}"))).unwrap();
    }
    out
}

fn demo_root_hex() -> String {
    std::fs::read_to_string(site().join("keys/DEMO-ONLY-root.pub"))
        .unwrap()
        .lines()
        .find(|l| !l.starts_with('#'))
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn a_site_directory_needs_the_root_key() {
    let dir = tmp();
    let public = site_copy(dir.path());
    check(&sample(), &public, &[])
        .code(2)
        .stderr_has(&["carries no root key that can be trusted; pass the registry's root public key with --root HEX"]);
    let root = demo_root_hex();
    let (code, r) = report(
        &sample(),
        &public,
        &["--root", &root, "--base-url", "https://label.example.cn"],
    );
    assert_eq!(code, 1);
    let (_, from_registry) = report(&sample(), &site(), &[]);
    assert_eq!(r, from_registry);
    // A root key file works too; another root key refuses the trust list.
    let (_, r) = report(
        &sample(),
        &public,
        &["--root", s(&site().join("keys/DEMO-ONLY-root.pub"))],
    );
    assert_planted(&r);
    check(&sample(), &public, &["--root", "not-a-key"])
        .code(2)
        .stderr_has(&["--root: not-a-key: cannot read"]);
    let issuer = site().join("keys/DEMO-ONLY-issuer-1.pub");
    check(&sample(), &public, &["--root", s(&issuer)])
        .code(2)
        .stderr_has(&["trust-list.bin: trust list refused"]);
    check(&sample(), dir.path(), &[]).code(2).stderr_has(&[
        "neither a registry directory (with starmark.toml) nor a built site or mirror",
    ]);
}

#[test]
fn a_signature_that_does_not_verify_leaves_its_certification_out() {
    let dir = tmp();
    let reg = registry_copy(dir.path());
    // Serial 1's signature damaged: its claim is refused, with a warning, and left out.
    let sig = reg.join("records/0001.sig");
    let mut digits = std::fs::read_to_string(&sig).unwrap().trim().to_string();
    let last = digits.pop().unwrap();
    digits.push(if last == '0' { '1' } else { '0' });
    std::fs::write(&sig, format!("{digits}\n")).unwrap();
    let out = check(&sample(), &reg, &["--format", "json"]);
    out.stderr_has(&["starmark: warning:", "0001.md: claim refused (counterfeit)"]);
    let r = out.json();
    assert_eq!(at_row(&r, 2)["result"], "not_found");
    assert_eq!(r["certifications"], 29);
}

#[test]
fn columns_chosen_by_header_and_jsonl() {
    let dir = tmp();
    let file = dir.path().join("en.csv");
    std::fs::write(
        &file,
        "Listing ID;Brand;Model;Stars;Certificate No\nA-1;Rheinfeld Automation;RA-C820;3;15\nA-2;Polaris;PM-X6;3;16\n",
    )
    .unwrap();
    let (code, r) = report(&file, &site(), &["--column", "manufacturer=brand"]);
    assert_eq!(code, 1);
    assert_eq!(at_row(&r, 2)["result"], "ok");
    assert_eq!(at_row(&r, 3)["result"], "maker_mismatch");
    assert_eq!(at_row(&r, 3)["listing_id"], "A-2");
    let (_, r) = report(&file, &site(), &[]);
    assert_eq!(
        at_row(&r, 3)["result"],
        "ok",
        "without a manufacturer column, it is not compared"
    );
    check(&file, &site(), &["--column", "brand=Brand"])
        .code(2)
        .stderr_has(&["--column brand=Brand: unknown role \"brand\"; roles: listing_id, shop, manufacturer, model, tier, certificate, label"]);
    check(&file, &site(), &["--column", "model=型号"])
        .code(2)
        .stderr_has(&["no column \"型号\" for model; headers found: A \"Listing ID\", B \"Brand\", C \"Model\", D \"Stars\", E \"Certificate No\""]);
    let jsonl = dir.path().join("l.jsonl");
    std::fs::write(
        &jsonl,
        "{\"商品编号\":\"J1\",\"证书编号\":1,\"星级\":2}\n\n{\"商品编号\":\"J2\",\"证书编号\":\"00000020\"}\nnot json\n",
    )
    .unwrap();
    let out = check(&jsonl, &site(), &["--format", "json"]);
    out.stderr_has(&["(JSON lines, UTF-8)"]);
    let r = out.json();
    assert_eq!(at_row(&r, 1)["result"], "ok");
    assert_eq!(at_row(&r, 3)["result"], "revoked");
    assert_eq!(at_row(&r, 4)["result"], "bad_row");
    assert!(at_row(&r, 4)["reason"]
        .as_str()
        .unwrap()
        .starts_with("not a JSON object"));
}

// Bad input: each a test, each a clear message, never a panic.

#[track_caller]
fn refused(name: &str, bytes: &[u8], message: &str) {
    let dir = tmp();
    let file = dir.path().join(name);
    std::fs::write(&file, bytes).unwrap();
    let out = check(&file, &site(), &[]);
    out.code(2).stderr_has(&[name, message]);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn an_empty_file() {
    refused("empty.csv", b"", "empty.csv: the file is empty");
    refused("blank.csv", b"\r\n \r\n", "the file is empty");
}

#[test]
fn headers_only() {
    refused(
        "headers.csv",
        "商品编号,证书编号\r\n\r\n".as_bytes(),
        "no listings: the file has a header row (1) and no row after it",
    );
}

#[test]
fn a_1_gb_file_is_refused_before_it_is_read() {
    let dir = tmp();
    let file = dir.path().join("huge.csv");
    let f = std::fs::File::create(&file).unwrap();
    f.set_len(1 << 30).unwrap();
    let started = std::time::Instant::now();
    check(&file, &site(), &[]).code(2).stderr_has(&[
        "huge.csv: 1073741824 bytes, more than the limit of 268435456 (--max-bytes)",
    ]);
    assert!(started.elapsed().as_secs() < 10);
}

#[test]
fn a_binary_file_named_csv() {
    let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec();
    png.extend_from_slice(&[0u8; 64]);
    refused("photo.csv", &png, "not a text file: byte 0x00 at offset 8");
    refused(
        "old.csv",
        &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 0, 0],
        "an Excel 97-2003 workbook (.xls)",
    );
    refused("fake.xlsx", b"a,b\n", "not a readable XLSX workbook");
    refused(
        "zip.csv",
        b"PK\x03\x04\x00\x00",
        "not a readable XLSX workbook",
    );
}

#[test]
fn mixed_encodings() {
    let gbk = std::fs::read(repo("docs/samples/listings-gb18030.csv")).unwrap();
    let utf8 = std::fs::read(sample()).unwrap();
    // The UTF-8 file's first two lines, then the GB18030 file's third line.
    let line = |b: &[u8], n: usize| -> Vec<u8> {
        b.split_inclusive(|c| *c == b'\n').nth(n).unwrap().to_vec()
    };
    let mixed = [line(&utf8, 0), line(&utf8, 1), line(&gbk, 2)].concat();
    refused(
        "mixed.csv",
        &mixed,
        "mixed encodings: line 1 is UTF-8 but line 3 is not; save the whole file in one encoding (UTF-8 or GB18030)",
    );
    refused(
        "latin.csv",
        b"a,b\n\xff\xfe\xff,1\n",
        "line 2: neither UTF-8 nor GB18030",
    );
}

#[test]
fn a_row_with_40000_columns() {
    let dir = tmp();
    let file = dir.path().join("wide.csv");
    let wide = vec!["x"; 40_000].join(",");
    std::fs::write(
        &file,
        format!("商品编号,证书编号\nW1,00000001\n{wide}\nW3,00000001\n"),
    )
    .unwrap();
    let (code, r) = report(&file, &site(), &[]);
    assert_eq!(code, 1);
    assert_eq!(at_row(&r, 2)["result"], "ok");
    assert_eq!(at_row(&r, 3)["result"], "bad_row");
    assert_eq!(
        at_row(&r, 3)["reason"],
        "the row has 40000 columns, more than the 1024 a listings file may have"
    );
    assert_eq!(at_row(&r, 4)["result"], "ok");
    refused(
        "wide-header.csv",
        format!("{wide}\n1\n").as_bytes(),
        "the header row has 40000 columns, more than the 1024",
    );
}

#[test]
fn formula_injection_duplicates_full_width_and_another_registry_in_one_file() {
    // Each in the sample, asserted here by name.
    let (_, r) = report(&sample(), &site(), &[]);
    let l019 = at_row(&r, 21);
    assert_eq!(
        l019["shop"], "=HYPERLINK(\"http://evil.example\",\"点我\")",
        "JSON keeps data as it is"
    );
    assert_eq!(at_row(&r, 20)["result"], "bad_row");
    assert_eq!(at_row(&r, 4)["result"], "ok");
    assert_eq!(at_row(&r, 15)["result"], "counterfeit_label");
    assert!(at_row(&r, 15)["listing"]["label"]
        .as_str()
        .unwrap()
        .starts_with("https://other-registry.example/verify/#"));
}

#[test]
fn markup_in_every_cell_stays_text() {
    let (_, r) = report(&sample(), &site(), &[]);
    let row = at_row(&r, 22);
    assert_eq!(row["listing_id"], "<b>L020</b>");
    assert_eq!(row["shop"], "<script>alert('店铺')</script>");
    assert_eq!(
        row["listing"]["manufacturer"],
        "<img src=x onerror=alert(1)>"
    );
    assert_eq!(row["listing"]["label"], "<a href=javascript:alert(4)>x</a>");
    assert_eq!(
        row["reason"],
        "column F \"证书编号\": \"<script>alert(3)</script>\" is not a certificate number ('<' is not a digit)"
    );
}

#[test]
fn a_file_without_a_column_to_look_up_by() {
    refused(
        "prices.csv",
        "商品编号,品牌,价格\nP1,星联,99\n".as_bytes(),
        "no column says which certification a listing claims: a certificate number (证书编号), a label link (标签链接), or both a manufacturer (制造商) and a model (型号) are needed; headers found: A \"商品编号\", B \"品牌\", C \"价格\"",
    );
}

/// A tiny HTTP server on 127.0.0.1 for `root`, logging the path of every request (one request
/// per connection, then `Connection: close`).
fn serve_dir(root: PathBuf) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = log.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            let path = first.split(' ').nth(1).unwrap_or("/").to_string();
            seen.lock().unwrap().push(path.clone());
            let file = root.join(path.trim_start_matches('/'));
            let (status, body) = match std::fs::read(&file) {
                Ok(b) if file.is_file() => ("200 OK", b),
                _ => ("404 Not Found", b"not found".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    (format!("http://{addr}"), log)
}

#[test]
fn a_published_site_by_its_address_takes_four_requests_for_30_certifications() {
    let dir = tmp();
    let reg = registry_copy(dir.path());
    let out = dir.path().join("www/mirror/registry");
    run_in(dir.path(), &["build", s(&reg), "--out", s(&out), "--quiet"]).ok();
    assert!(out.join("api/v1/claims/index.json").is_file());
    assert!(out.join("api/v1/claims/0.bin").is_file());
    let (server, log) = serve_dir(dir.path().join("www"));
    let url = format!("{server}/mirror/registry/");
    let root = demo_root_hex();
    let base = [
        "--root",
        root.as_str(),
        "--base-url",
        "https://label.example.cn",
    ];
    let (code, r) = report(&sample(), Path::new(&url), &base);
    assert_eq!(code, 1);
    let (_, from_registry) = report(&sample(), &site(), &[]);
    assert_eq!(
        r, from_registry,
        "the same report as from the registry directory"
    );
    assert_eq!(
        *log.lock().unwrap(),
        [
            "/mirror/registry/api/v1/trust-list.bin",
            "/mirror/registry/api/v1/revocation-list.bin",
            "/mirror/registry/api/v1/claims/index.json",
            "/mirror/registry/api/v1/claims/0.bin"
        ],
        "the lists, the index of claims shards and its one shard (serials 1 to 30)"
    );
    check(&sample(), Path::new(&url), &[])
        .code(2)
        .stderr_has(&["a published site carries no root key that can be trusted"]);
    let issuer = site().join("keys/DEMO-ONLY-issuer-1.pub");
    check(&sample(), Path::new(&url), &["--root", s(&issuer)])
        .code(2)
        .stderr_has(&["api/v1/trust-list.bin: trust list refused"]);
    // A missing revocation list: every result is at best stale; a site without the bundle or
    // without a trust list is refused.
    std::fs::remove_file(out.join("api/v1/revocation-list.bin")).unwrap();
    let stale = check(
        &sample(),
        Path::new(&url),
        &[&base[..], &["--format", "json"]].concat(),
    );
    stale.stderr_has(&[
        "api/v1/revocation-list.bin: no revocation list; every result is at best stale_data",
    ]);
    assert_eq!(at_row(&stale.json(), 2)["result"], "stale_data");
    // A shard that is missing, or an index naming something else than a shard, is named.
    std::fs::remove_file(out.join("api/v1/claims/0.bin")).unwrap();
    check(&sample(), Path::new(&url), &base)
        .code(2)
        .stderr_has(&["api/v1/claims/0.bin: not found (404)"]);
    std::fs::write(
        out.join("api/v1/claims/index.json"),
        r#"{"format": "starmark-claims-v1", "shards": ["../../../secret.bin"]}"#,
    )
    .unwrap();
    check(&sample(), Path::new(&url), &base)
        .code(2)
        .stderr_has(&[
            "api/v1/claims/index.json: shard \"../../../secret.bin\" is not a shard name",
        ]);
    std::fs::remove_file(out.join("api/v1/claims/index.json")).unwrap();
    check(&sample(), Path::new(&url), &base)
        .code(2)
        .stderr_has(&["api/v1/claims/index.json: not found (404)"]);
    check(&sample(), Path::new(&format!("{server}/nothing/")), &base)
        .code(2)
        .stderr_has(&["/nothing/api/v1/trust-list.bin: not found (404)"]);
}

#[test]
fn only_https_addresses_but_this_machine() {
    let root = demo_root_hex();
    for (source, message) in [
        (
            "http://label.example.cn/",
            "only https:// addresses are read",
        ),
        ("ftp://127.0.0.1/", "only https:// addresses are read"),
        ("https://127.0.0.1:1/?x=1", "without ? or #"),
        ("http://127.0.0.1:1/", "cannot download"),
    ] {
        check(&sample(), Path::new(source), &["--root", &root])
            .code(2)
            .stderr_has(&[message]);
    }
}
