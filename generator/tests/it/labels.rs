//! Labels end to end: the built-in font (no system font needed), a character no font has, the
//! label size in starmark.toml, and every demo label read by zbarimg at printing scale.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::common::{s, RecordText, Reg};
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
