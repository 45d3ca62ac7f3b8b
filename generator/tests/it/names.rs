//! Names that cannot impersonate: `sign` and `build` refuse spoofed display texts (naming the
//! file, the field and the code point) and look-alikes of another manufacturer (naming the record
//! imitated); `verify` calls a signed claim with such a text malformed; a unified social credit
//! code is checked and shown on the pages and in the JSON API.

use scraper::{Html, Selector};
use starmark_core::keys::CLAIM_CONTEXT;
use starmark_core::qr::encode_digits;
use starmark_core::SecretKey;

use crate::common::{digits, RecordText, Reg, URL_PREFIX};

/// A record of this serial, in `<serial>.md`, by `manufacturer`.
fn record(serial: u64, manufacturer: &str) -> (String, String) {
    let mut r = RecordText::new(serial);
    r.manufacturer = manufacturer.into();
    (format!("{serial}.md"), r.text())
}

/// The record text with `lines` added to its front matter.
fn with_fields(text: &str, lines: &str) -> String {
    text.replacen("lab = \"CCRC\"\n", &format!("lab = \"CCRC\"\n{lines}\n"), 1)
}

#[test]
fn sign_refuses_every_spoofed_manufacturer_naming_field_and_code_point() {
    let reg = Reg::new();
    let cases: [(&str, &str); 10] = [
        (
            "\u{202E}司公限有技科联星市圳深",
            "U+202E RIGHT-TO-LEFT OVERRIDE is not allowed (bidi control)",
        ),
        (
            "深圳市星联\u{3164}科技有限公司",
            "U+3164 HANGUL FILLER is not allowed (invisible: default-ignorable code point)",
        ),
        (
            "\u{115F}深圳市星联科技有限公司",
            "U+115F HANGUL CHOSEONG FILLER is not allowed",
        ),
        (
            "Rheinfeld Auto\u{00AD}mation GmbH",
            "U+00AD SOFT HYPHEN is not allowed",
        ),
        ("Rheinfeld Automation GmbH ", "ends with a space"),
        ("Rheinfeld  Automation GmbH", "has two spaces in a row"),
        (
            "Rh\u{0435}infeld Automation GmbH",
            "U+0052 'R' and U+0435 'е' are of different scripts",
        ),
        (
            "\u{FF32}heinfeld Automation GmbH",
            "U+FF32 'Ｒ' is not allowed (full-width look-alike of an ASCII letter or digit)",
        ),
        (
            "Rheinfeld Automation Ge\u{0301}ne\u{0301}rale",
            "not in Unicode normalization form NFC (the NFC quick check fails at U+0301",
        ),
        (
            "深圳市星联科技有限公司\u{00A0}",
            "U+00A0 NO-BREAK SPACE is not allowed (the only space allowed is U+0020 SPACE)",
        ),
    ];
    for (i, (name, message)) in cases.iter().enumerate() {
        let serial = 20_260_001 + i as u64;
        let (file, text) = record(serial, name);
        reg.write_record(&file, &text);
        reg.run(&["sign", &format!("records/{file}")])
            .code(2)
            .stderr_has(&[
                &format!("records/{file}: line 3: field manufacturer: {message}"),
                "not signed",
            ]);
        assert!(
            !reg.path(&format!("records/{serial}.sig")).exists(),
            "{name:?} was signed"
        );
        std::fs::remove_file(reg.path(&format!("records/{file}"))).unwrap();
    }
}

#[test]
fn sign_refuses_spoofs_in_every_displayed_field() {
    let reg = Reg::new();
    let base = RecordText::new(20_260_001);
    let cases = [
        (
            base.text().replace("XL-AX3000", "XL-AX3000\u{200B}"),
            "field model: U+200B ZERO WIDTH SPACE",
        ),
        (
            base.text().replace("无线路由器", "无线路由器\u{2067}"),
            "field product: U+2067 RIGHT-TO-LEFT ISOLATE",
        ),
        (
            base.text()
                .replace("lab = \"CCRC\"", "lab = \"\u{0421}CRC\""),
            "field lab: U+0421 'С' and U+0043 'C' are of different scripts",
        ),
        (
            with_fields(
                &base.text(),
                "local_agent = \"北京信诺认证\u{FE0F}咨询有限公司\"",
            ),
            "field local_agent: U+FE0F VARIATION SELECTOR-16 is not allowed (invisible",
        ),
        (
            with_fields(&base.text(), "manufacturer_en = \"Xinglian  Technology\""),
            "field manufacturer_en: has two spaces in a row",
        ),
    ];
    for (text, message) in &cases {
        reg.write_record("20260001.md", text);
        reg.run(&["sign", "records/20260001.md"])
            .code(2)
            .stderr_has(&["records/20260001.md: line ", message]);
    }
}

#[test]
fn build_refuses_a_spoofed_record_and_writes_nothing() {
    let reg = Reg::new();
    let (file, text) = record(20_260_001, "深圳市星联科技有限公司");
    reg.signed(&file, &text);
    reg.run(&["build", "--quiet"]).ok();
    let page = std::fs::read(reg.path("public/cert/20260001.html")).unwrap();
    // A spoofed record beside it, with the good record's signature file.
    let (spoof, spoof_text) = record(20_260_002, "深圳市星联科技有限公司\u{3164}");
    reg.write_record(&spoof, &spoof_text);
    std::fs::copy(
        reg.path("records/20260001.sig"),
        reg.path("records/20260002.sig"),
    )
    .unwrap();
    reg.run(&["build", "--quiet"]).code(2).stderr_has(&[
        "records/20260002.md: line 3: field manufacturer: U+3164 HANGUL FILLER is not allowed",
        "nothing was written",
    ]);
    assert_eq!(
        std::fs::read(reg.path("public/cert/20260001.html")).unwrap(),
        page
    );
    assert!(!reg.path("public/cert/20260002.html").exists());
}

#[test]
fn look_alike_of_another_manufacturer_is_refused_naming_the_record_it_imitates() {
    let reg = Reg::new();
    let (file, text) = record(20_260_001, "Rheinfeld Automation GmbH");
    reg.signed(&file, &text);
    let (file, text) = record(20_260_002, "ABB");
    reg.signed(&file, &text);
    for (serial, name, original, of) in [
        (
            20_260_003,
            "Rheinfeld Autornation GmbH",
            "Rheinfeld Automation GmbH",
            "20260001.md",
        ),
        // All Cyrillic, so one script: only the comparison with other records catches it.
        (20_260_004, "\u{0410}\u{0412}\u{0412}", "ABB", "20260002.md"),
    ] {
        let (file, text) = record(serial, name);
        reg.write_record(&file, &text);
        reg.run(&["sign", &format!("records/{file}")])
            .code(2)
            .stderr_has(&[&format!(
            "records/{file}: line 3: field manufacturer: {name:?} looks like {original:?} of records/{of}"
        )]);
        std::fs::remove_file(reg.path(&format!("records/{file}"))).unwrap();
    }
    // The same name exactly is the same manufacturer.
    let (file, text) = record(20_260_005, "ABB");
    reg.signed(&file, &text);
}

#[test]
fn build_refuses_a_look_alike_of_a_lower_serial() {
    let reg = Reg::new();
    // Signed while it was the first with its skeleton...
    let (file, text) = record(20_260_009, "XL0NG Technology");
    reg.signed(&file, &text);
    // ...then a record of lower serial takes the name it imitates.
    let (file, text) = record(20_260_001, "XLONG Technology");
    reg.signed(&file, &text);
    let out = reg.run(&["build", "--quiet"]);
    out.code(2).stderr_has(&[
        "records/20260009.md: field manufacturer: \"XL0NG Technology\" looks like \"XLONG Technology\" of ",
        "records/20260001.md (serial 20260001)",
        "nothing was written",
    ]);
    assert!(!reg.path("public").exists());
}

#[test]
fn verify_calls_a_signed_claim_with_a_spoofed_name_malformed() {
    let reg = Reg::new();
    let (file, text) = record(20_260_001, "TP-Link");
    let url = reg.signed(&file, &text);
    let payload = starmark_core::qr::decode_digits(digits(&url)).unwrap();
    let claim_len = payload.len() - 64;
    let at = payload.windows(7).position(|w| w == b"TP-Link").unwrap();
    // The issuer's own key signs a claim whose manufacturer reads "TP-Link" backwards under RLO.
    let mut claim = payload[..claim_len].to_vec();
    claim[at..at + 7].copy_from_slice("\u{202E}kniL".as_bytes());
    let key_text = std::fs::read_to_string(reg.path("keys/issuer-1.key")).unwrap();
    let hex_seed = key_text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap();
    let seed: [u8; 32] = starmark_core::from_hex(hex_seed).unwrap();
    let signature = SecretKey::from_seed(&seed).sign_in_context(CLAIM_CONTEXT, &claim);
    let forged = [claim, signature.to_vec()].concat();
    let target = format!("{URL_PREFIX}{}", encode_digits(&forged));
    let (code, json) = reg.verify(&target, &[]);
    assert_eq!(json["verdict"], "malformed", "{json}");
    assert_eq!(code, 1);
    let detail = json["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("field manufacturer: U+202E RIGHT-TO-LEFT OVERRIDE"),
        "{detail}"
    );
    assert!(
        json.get("manufacturer").is_none_or(|m| m.is_null()),
        "{json}"
    );
}

#[test]
fn unified_social_credit_codes_are_checked_and_shown() {
    let reg = Reg::new();
    let (file, text) = record(20_260_001, "深圳市星联科技有限公司");
    let bad = with_fields(&text, "manufacturer_uscc = \"91440300MA5F0XQ13X\"");
    reg.write_record(&file, &bad);
    reg.run(&["sign", "records/20260001.md"])
        .code(2)
        .stderr_has(&[
            "records/20260001.md: line 13: field manufacturer_uscc: check character (the 18th) is 'X', but the first 17 characters give 'B'",
        ]);
    let good = with_fields(
        &text,
        "manufacturer_uscc = \"91440300MA5F0XQ13B\"\n\
         local_agent = \"北京信诺认证咨询有限公司\"\nlocal_agent_uscc = \"91110105MA01R8TC49\"",
    );
    reg.signed(&file, &good);
    reg.run(&["build", "--quiet"]).ok();

    for (page, lang) in [
        ("public/cert/20260001.html", "zh"),
        ("public/en/cert/20260001.html", "en"),
    ] {
        let html = Html::parse_document(&std::fs::read_to_string(reg.path(page)).unwrap());
        let codes: Vec<String> = html
            .select(&Selector::parse("dl.fields code.uscc").unwrap())
            .map(|e| e.text().collect())
            .collect();
        assert_eq!(
            codes,
            ["91440300MA5F0XQ13B", "91110105MA01R8TC49"],
            "{lang}"
        );
        let names: Vec<String> = html
            .select(&Selector::parse("dl.fields bdi").unwrap())
            .map(|e| e.text().collect())
            .collect();
        assert!(
            names.contains(&"深圳市星联科技有限公司".to_string()),
            "{names:?}"
        );
        assert!(
            names.contains(&"北京信诺认证咨询有限公司".to_string()),
            "{names:?}"
        );
    }
    let en = std::fs::read_to_string(reg.path("public/en/cert/20260001.html")).unwrap();
    assert!(en.contains("Unified social credit code"), "{en}");

    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reg.path("public/api/v1/certificates/20260001.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(json["manufacturer_uscc"], "91440300MA5F0XQ13B");
    assert_eq!(json["local_agent_uscc"], "91110105MA01R8TC49");
    let index: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(reg.path("public/api/v1/index.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        index["certificates"][0]["manufacturer_uscc"],
        "91440300MA5F0XQ13B"
    );

    let slug = index["certificates"][0]["maker_slug"]
        .as_str()
        .unwrap()
        .to_string();
    let maker = std::fs::read_to_string(reg.path(&format!("public/maker/{slug}.html"))).unwrap();
    let maker = Html::parse_document(&maker);
    let codes: Vec<String> = maker
        .select(&Selector::parse("main code.uscc").unwrap())
        .map(|e| e.text().collect())
        .collect();
    assert_eq!(codes, ["91440300MA5F0XQ13B"]);
}

#[test]
fn verify_page_isolates_the_signed_names() {
    let reg = Reg::new();
    let (file, text) = record(20_260_001, "深圳市星联科技有限公司");
    reg.signed(&file, &text);
    reg.run(&["build", "--quiet"]).ok();
    let html = Html::parse_document(
        &std::fs::read_to_string(reg.path("public/verify/index.html")).unwrap(),
    );
    for field in ["manufacturer", "model", "issuer"] {
        let sel = Selector::parse(&format!("bdi[data-field=\"{field}\"]")).unwrap();
        assert_eq!(html.select(&sel).count(), 1, "{field} is not in a <bdi>");
    }
}
