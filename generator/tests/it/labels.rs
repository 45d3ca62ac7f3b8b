//! Labels end to end: the built-in font (no system font needed), a character no font has, the
//! label size in starmark.toml, and every demo label read by zbarimg at printing scale.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{run_in, s, RecordText, Reg};
use crate::site::demo_copy;

/// The demo builds with its labels while the process opens no font file at all: strace logs
/// every file it opens, and none is a font (the system's fonts are never looked for).
#[test]
fn demo_labels_build_with_the_built_in_font_and_no_system_font() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = demo_copy(tmp.path());
    let out = tmp.path().join("public");
    let trace = tmp.path().join("opens.log");
    let status = Command::new("strace")
        .args(["-f", "-qq", "-e", "trace=open,openat,openat2", "-o"])
        .arg(&trace)
        .arg(env!("CARGO_BIN_EXE_starmark"))
        .args(["build", "--quiet", "--out", s(&out), s(&reg)])
        .stdout(Stdio::null())
        .status()
        .expect("this test needs strace (Debian package strace)");
    assert!(status.success(), "build failed: {status:?}");
    let opens = std::fs::read_to_string(&trace).unwrap();
    assert!(opens.contains("starmark.toml"), "strace logged the opens");
    for line in opens.lines() {
        let lower = line.to_lowercase();
        assert!(
            !lower.contains("/fonts/")
                && ![".ttc\"", ".otf\"", ".ttf\"", "fontconfig"]
                    .iter()
                    .any(|f| lower.contains(f)),
            "the build opened a font: {line}"
        );
    }
    let labels: Vec<_> = std::fs::read_dir(out.join("labels"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let records = std::fs::read_dir(reg.join("records"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "md")
        })
        .count();
    assert!(records > 0);
    for ext in ["svg", "png"] {
        let n = labels
            .iter()
            .filter(|p| p.extension().is_some_and(|x| x == ext))
            .count();
        assert_eq!(n, records, "one {ext} label per certification");
    }
}

/// A manufacturer with a character outside the built-in font (喆, not in GB 2312) stops the
/// build naming the record file, the field, the character and its code point, with the way out.
#[test]
fn a_character_the_built_in_font_lacks_names_record_field_and_character() {
    let reg = Reg::new();
    let mut rec = RecordText::new(1);
    rec.manufacturer = "深圳市喆联科技有限公司".into();
    reg.signed("0001.md", &rec.text());
    let out = reg.tmp().join("public");
    reg.run(&["build", "--quiet", "--out", s(&out)])
        .code(2)
        .stderr_has(&[
            "records/0001.md: field manufacturer: the built-in label font has no glyph for '喆' \
             (U+5586)",
            "set label_font in starmark.toml",
        ]);
    assert!(!out.exists(), "nothing was written");
}

/// The same record builds with a font file configured by `label_font` that has the character:
/// a system font stays usable. Skipped where fonts-noto-cjk is not installed (the tests need no
/// system font); then the built-in font itself is configured and must refuse the same way.
#[test]
fn label_font_in_starmark_toml_is_used() {
    let reg = Reg::new();
    let mut rec = RecordText::new(1);
    rec.manufacturer = "深圳市喆联科技有限公司".into();
    reg.signed("0001.md", &rec.text());
    let system = Path::new("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc");
    let builtin =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/fonts/StarmarkLabelSansSC.otf");
    std::fs::create_dir_all(reg.path("fonts")).unwrap();
    let config = reg.path("starmark.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let with_font = |name: &str| {
        text.replacen(
            "\n[keys]",
            &format!("\nlabel_font = \"fonts/{name}\"\n\n[keys]"),
            1,
        )
    };
    std::fs::copy(&builtin, reg.path("fonts/builtin.otf")).unwrap();
    std::fs::write(&config, with_font("builtin.otf")).unwrap();
    let out = reg.tmp().join("public");
    reg.run(&["build", "--quiet", "--out", s(&out)])
        .code(2)
        .stderr_has(&[
            "field manufacturer: the label font ",
            "fonts/builtin.otf has no glyph for '喆' (U+5586)",
        ]);
    if system.exists() {
        std::os::unix::fs::symlink(system, reg.path("fonts/noto.ttc")).unwrap();
        std::fs::write(&config, with_font("noto.ttc")).unwrap();
        reg.run(&["build", "--quiet", "--out", s(&out)]).ok();
        assert!(out.join("labels/1.svg").exists());
    }
}

/// The PNG of an SVG label rendered at 600 dpi, shifted right and down by `shift` pixels of
/// that resolution, then downsampled to 300 dpi (a printer's resolution at the label's real
/// size) by averaging: what a printed label looks like to a scanner.
fn printed_at_300_dpi(svg: &str, shift: f32, path: &Path) {
    let tree = resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default()).unwrap();
    let scale = 600.0 / 96.0;
    let (w, h) = (
        (tree.size().width() * scale).ceil() as u32 + 4,
        (tree.size().height() * scale).ceil() as u32 + 4,
    );
    let mut pixmap = resvg::tiny_skia::Pixmap::new(w, h).unwrap();
    pixmap.fill(resvg::tiny_skia::Color::WHITE);
    let ts = resvg::tiny_skia::Transform::from_translate(shift, shift).pre_scale(scale, scale);
    resvg::render(&tree, ts, &mut pixmap.as_mut());
    // Each 300-dpi pixel the mean of the 2 x 2 pixels it covers (red channel: the label is
    // grey).
    let fine = pixmap.data();
    let small = image::GrayImage::from_fn(w / 2, h / 2, |x, y| {
        let at = |dx: u32, dy: u32| u32::from(fine[(((2 * y + dy) * w + 2 * x + dx) * 4) as usize]);
        image::Luma([((at(0, 0) + at(1, 0) + at(0, 1) + at(1, 1) + 2) / 4) as u8])
    });
    small.save(path).unwrap();
}

/// Every label of the demo registry, at the default (minimum) size, printed at 300 dpi in
/// register with the pixel grid and half a pixel off it, is read by zbarimg to its verify URL.
#[test]
fn zbarimg_reads_every_demo_label_printed_at_300_dpi() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = demo_copy(tmp.path());
    let out = tmp.path().join("public");
    run_in(tmp.path(), &["build", "--quiet", "--out", s(&out), s(&reg)]).ok();
    let mut checked = 0;
    for entry in std::fs::read_dir(out.join("labels")).unwrap() {
        let svg_path = entry.unwrap().path();
        if svg_path.extension().is_none_or(|x| x != "svg") {
            continue;
        }
        let serial = svg_path.file_stem().unwrap().to_str().unwrap().to_string();
        let svg = std::fs::read_to_string(&svg_path).unwrap();
        assert!(
            svg.contains("width=\"22.6mm\""),
            "{serial}: the default width"
        );
        let cert: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("api/v1/certificates/{serial}.json")))
                .unwrap(),
        )
        .unwrap();
        let url = format!(
            "https://label.example.cn/{}",
            cert["verify_path"].as_str().unwrap()
        );
        for shift in [0.0, 1.0] {
            let png = tmp.path().join(format!("{serial}-{shift}.png"));
            printed_at_300_dpi(&svg, shift, &png);
            let z = Command::new("zbarimg")
                .args(["-q", "--raw"])
                .arg(&png)
                .output()
                .expect("zbarimg (Debian zbar-tools) is required; .ci/run installs it");
            assert!(
                z.status.success(),
                "label {serial} shifted {shift}: zbarimg read nothing"
            );
            assert_eq!(
                String::from_utf8_lossy(&z.stdout).trim(),
                url,
                "label {serial}"
            );
        }
        checked += 1;
    }
    assert!(checked >= 30, "{checked} labels");
}

/// `[label]` in starmark.toml sets the size of every label; a size under the minimum, or an
/// unknown key, is refused naming the file, the key and the minimum.
#[test]
fn label_size_in_starmark_toml() {
    let reg = Reg::new();
    reg.signed("0001.md", &RecordText::new(1).text());
    let config = reg.path("starmark.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let with = |label: &str| format!("{text}\n[label]\n{label}\n");
    let out = reg.tmp().join("public");
    std::fs::write(&config, with("width_mm = 30\nheight_mm = 60")).unwrap();
    reg.run(&["build", "--quiet", "--out", s(&out)]).ok();
    let svg = std::fs::read_to_string(out.join("labels/1.svg")).unwrap();
    assert!(
        svg.contains("width=\"30mm\" height=\"60mm\""),
        "{}",
        &svg[..200]
    );
    let build: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("api/v1/build.json")).unwrap())
            .unwrap();
    assert_eq!(
        build["config"]["label"]["width_mm"], 30.0,
        "published with the configuration"
    );
    for (label, needle) in [
        (
            "width_mm = 18",
            "starmark.toml: [label] width_mm = 18: a label must be at least 22.6 mm wide to hold a \
             version-10 QR code with 0.33 mm modules",
        ),
        (
            "height_mm = 30",
            "[label] height_mm = 30: a label must be at least 42.9 mm tall",
        ),
        ("widht_mm = 30", "widht_mm"),
    ] {
        std::fs::write(&config, with(label)).unwrap();
        reg.run(&["build", "--quiet", "--out", s(&out)])
            .code(2)
            .stderr_has(&[needle]);
    }
}

/// A revoked certification's page offers no label to print, and says why; its label file, still
/// published, reads VOID.
#[test]
fn a_revoked_certification_offers_no_label() {
    let tmp = tempfile::tempdir().unwrap();
    let reg = demo_copy(tmp.path());
    let out = tmp.path().join("public");
    run_in(tmp.path(), &["build", "--quiet", "--out", s(&out), s(&reg)]).ok();
    let revoked: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("api/v1/revocation-list.json")).unwrap(),
    )
    .unwrap();
    let serial = revoked.to_string();
    let serial = serial
        .split("\"serial\":")
        .nth(1)
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .to_string();
    for (page, void) in [
        (format!("cert/{serial}.html"), "不再提供打印"),
        (format!("en/cert/{serial}.html"), "not offered for printing"),
    ] {
        let html = std::fs::read_to_string(out.join(&page)).unwrap();
        assert!(html.contains(void), "{page}");
        assert!(
            !html.contains(&format!("labels/{serial}.svg")),
            "{page} links the label"
        );
        assert!(
            !html.contains(&format!("labels/{serial}.png")),
            "{page} links the label"
        );
    }
    let svg = std::fs::read_to_string(out.join(format!("labels/{serial}.svg"))).unwrap();
    assert!(svg.contains("<title>作废 VOID (revoked): "));
    // A valid certification's page still offers its label.
    let html = std::fs::read_to_string(out.join("cert/1.html")).unwrap();
    assert!(html.contains("labels/1.svg") && html.contains("labels/1.png"));
}
