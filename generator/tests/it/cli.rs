//! The command line as a whole: a closed pipe never panics, `verify IMAGE` reports every code of
//! the image, commands that do not sign need no secret key.

use std::path::Path;
use std::process::{Command, Stdio};

use image::{GrayImage, Luma};

use crate::common::{s, RecordText, Reg};

/// Runs starmark in `cwd` with its standard output a pipe whose reader is gone before it writes;
/// returns the exit code and stderr.
fn with_closed_stdout(cwd: &Path, args: &[&str]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_starmark"))
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out
        .status
        .code()
        .unwrap_or_else(|| panic!("starmark {args:?} was killed by a signal: {stderr}"));
    assert!(
        !stderr.contains("panicked") && !stderr.to_lowercase().contains("broken pipe"),
        "starmark {args:?}: {stderr}"
    );
    (code, stderr)
}

/// The root public key's hex, as `audit --root` takes it.
fn root_hex(reg: &Reg) -> String {
    std::fs::read_to_string(reg.path("keys/root.pub"))
        .unwrap()
        .lines()
        .find(|l| !l.starts_with('#') && !l.trim().is_empty())
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn a_closed_pipe_ends_every_command_quietly() {
    let reg = Reg::new();
    let mut urls = Vec::new();
    for serial in 1..=3 {
        urls.push(reg.signed(&format!("{serial}.md"), &RecordText::new(serial).text()));
    }
    reg.run(&["revoke", "3", "--reason", "other", "--date", "2026-02-01"])
        .ok();
    reg.run(&["build", "--quiet"]).ok();
    let root = root_hex(&reg);
    let public = reg.path("public");
    // A listings file whose report (CSV on standard output) is long.
    let mut csv = String::from("商品编号,店铺,制造商,型号,星级,证书编号,标签链接\n");
    for i in 0..2000 {
        csv.push_str(&format!(
            "L{i},店,深圳市星联科技有限公司,XL-AX3000,2,{},\n",
            i % 3 + 1
        ));
    }
    let listings = reg.tmp().join("listings.csv");
    std::fs::write(&listings, csv).unwrap();
    // Each command with the exit code it has when its output is read (audit: 1, the manifest
    // is not signed), and with a closed pipe: the same where the command knew it before printing
    // (the verdict's code survives the pipe), 0 where it prints as it goes (check-listings).
    let cases: Vec<(Vec<&str>, i32, i32)> = vec![
        (vec!["verify", &urls[0]], 0, 0),
        (vec!["verify", &urls[0], "--json"], 0, 0),
        (vec!["verify", &urls[2]], 1, 1),
        (vec!["verify", &urls[2], "--json"], 1, 1),
        (vec!["trust", "list"], 0, 0),
        (vec!["log", "verify"], 0, 0),
        (vec!["log", "key"], 0, 0),
        (vec!["qr", "records/1.md"], 0, 0),
        (vec!["audit", s(&public), "--root", &root], 1, 1),
        (vec!["audit", s(&public), "--root", &root, "--json"], 1, 1),
        (vec!["build"], 0, 0),
        (
            vec![
                "check-listings",
                s(&listings),
                "--registry",
                ".",
                "--at",
                "2026-12-01",
            ],
            1,
            0,
        ),
    ];
    for (args, code, closed) in &cases {
        reg.run(args).code(*code);
        let (got, stderr) = with_closed_stdout(&reg.dir, args);
        assert_eq!(
            got, *closed,
            "starmark {args:?} with a closed pipe: {stderr}"
        );
    }
}

/// Writes the QR PNG of a signed record (`qr --png`) and returns it.
fn qr_png(reg: &Reg, record: &str, name: &str) -> GrayImage {
    let png = reg.tmp().join(name);
    reg.run(&["qr", record, "--png", s(&png)]).ok();
    image::open(&png).unwrap().to_luma8()
}

/// Places `codes` on a white sheet, two per row, `gap` pixels apart; returns the sheet and
/// where each code's image went.
fn sheet(codes: &[GrayImage], gap: u32) -> (GrayImage, Vec<(u32, u32)>) {
    let side = codes
        .iter()
        .map(|c| c.width().max(c.height()))
        .max()
        .unwrap();
    let rows = codes.len().div_ceil(2) as u32;
    let mut img = GrayImage::from_pixel(
        2 * side + 3 * gap,
        rows * side + (rows + 1) * gap,
        Luma([255]),
    );
    let mut at = Vec::new();
    for (i, code) in codes.iter().enumerate() {
        let (col, row) = (i as u32 % 2, i as u32 / 2);
        let (x, y) = (gap + col * (side + gap), gap + row * (side + gap));
        image::imageops::overlay(&mut img, code, i64::from(x), i64::from(y));
        at.push((x, y));
    }
    (img, at)
}

#[test]
fn verify_image_reports_every_code_with_its_place() {
    let reg = Reg::new();
    for serial in 1..=4 {
        let mut text = RecordText::new(serial);
        text.model = format!("XL-{serial}");
        reg.signed(&format!("{serial}.md"), &text.text());
    }
    let codes: Vec<GrayImage> = (1..=4)
        .map(|n| qr_png(&reg, &format!("records/{n}.md"), &format!("{n}.png")))
        .collect();
    let (img, at) = sheet(&codes, 40);
    let four = reg.tmp().join("four.png");
    img.save(&four).unwrap();

    let out = reg.run(&["verify", s(&four)]);
    out.ok().stdout_has(&[
        "four.png: 4 QR codes",
        "code 1 of 4, at x ",
        "code 4 of 4, at x ",
    ]);
    assert_eq!(
        out.stdout.matches("VALID: genuine and valid").count(),
        4,
        "{}",
        out.stdout
    );
    // Reading order: the models appear in the order the codes were placed.
    let places: Vec<usize> = (1..=4)
        .map(|n| out.stdout.find(&format!("model         XL-{n}\n")).unwrap())
        .collect();
    assert!(places.windows(2).all(|w| w[0] < w[1]), "{}", out.stdout);

    let json = reg.run(&["verify", s(&four), "--json"]).ok().json();
    let list = json.as_array().unwrap();
    assert_eq!(list.len(), 4, "{json}");
    for (i, code) in list.iter().enumerate() {
        assert_eq!(code["code"], i + 1, "{code}");
        assert_eq!(code["serial"], i + 1, "{code}");
        assert_eq!(code["verdict"], "valid", "{code}");
        // The box is inside the place the code's image went (its quiet zone is white).
        let (x, y) = at[i];
        let (cx, cy) = (
            code["x"].as_u64().unwrap() as u32,
            code["y"].as_u64().unwrap() as u32,
        );
        assert!(cx >= x && cx < x + codes[i].width() / 4, "{code} vs {x}");
        assert!(cy >= y && cy < y + codes[i].height() / 4, "{code} vs {y}");
        assert!(code["width"].as_u64().unwrap() > 50, "{code}");
    }

    // One revoked certification among them: it is named, and the exit code is the worst.
    reg.run(&["revoke", "3", "--reason", "other", "--date", "2026-02-01"])
        .ok();
    let out = reg.run(&["verify", s(&four)]);
    out.code(1).stdout_has(&["REVOKED"]);
    assert_eq!(
        out.stdout.matches("VALID: genuine and valid").count(),
        3,
        "{}",
        out.stdout
    );
    let third = &out.stdout[out.stdout.find("code 3 of 4").unwrap()..];
    assert!(third.contains("REVOKED") && third.find("REVOKED") < third.find("code 4 of 4"));
    let json = reg.run(&["verify", s(&four), "--json"]).code(1).json();
    let verdicts: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["verdict"].as_str().unwrap())
        .collect();
    assert_eq!(verdicts, ["valid", "valid", "revoked", "valid"]);

    // An image with one code keeps the one-verdict output.
    let one = reg.tmp().join("one.png");
    sheet(&codes[..1], 40).0.save(&one).unwrap();
    let json = reg.run(&["verify", s(&one), "--json"]).ok().json();
    assert_eq!(json["verdict"], "valid", "{json}");
}

#[test]
fn build_and_verify_need_no_secret_key_and_sign_names_the_missing_one() {
    let reg = Reg::new();
    let url = reg.signed("1.md", &RecordText::new(1).text());
    let config = std::fs::read_to_string(reg.path("starmark.toml")).unwrap();
    let stripped: String = config
        .lines()
        .filter(|l| !l.starts_with("root_secret") && !l.starts_with("issuer_secret"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_ne!(
        stripped, config,
        "the secret key paths are in starmark.toml"
    );
    std::fs::write(reg.path("starmark.toml"), &stripped).unwrap();
    for key in ["root.key", "issuer-1.key"] {
        std::fs::remove_file(reg.path("keys").join(key)).unwrap();
    }
    reg.run(&["build", "--quiet"]).ok();
    assert!(reg.path("public/index.html").is_file());
    reg.run(&["verify", &url]).ok();

    reg.write_record("2.md", &RecordText::new(2).text());
    reg.run(&["sign", "records/2.md"]).code(2).stderr_has(&[
        "starmark.toml: [keys] issuer_secret is not set",
        "issuer_secret = ",
    ]);
    reg.run(&["revoke", "1", "--reason", "other"])
        .code(2)
        .stderr_has(&["[keys] issuer_secret is not set"]);
    reg.run(&["keygen", "keys/issuer-2"]).ok();
    reg.run(&["trust", "add", "keys/issuer-2.pub", "--name", "Issuer 2"])
        .code(2)
        .stderr_has(&["[keys] root_secret is not set", "--root-key FILE"]);
}
