#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::layout::{self, Label, BORDER, MARGIN, QUIET};
use super::*;

/// The font built into starmark, the default.
fn font() -> &'static LabelFont {
    static FONT: OnceLock<LabelFont> = OnceLock::new();
    FONT.get_or_init(|| LabelFont::load(None).unwrap())
}

/// Debian's Noto Sans CJK collection (fonts-noto-cjk), which the built-in font is a subset of.
const SYSTEM_TTC: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

/// 396 digits that decode to 163 bytes (23 groups of 17 digits and a 2-byte tail of 5).
fn digits() -> String {
    let bytes: Vec<u8> = (0..163u32).map(|i| (i * 37 + 11) as u8).collect();
    let d = starmark_core::qr::encode_digits(&bytes);
    assert_eq!(d.len(), 396);
    assert_eq!(starmark_core::qr::decode_digits(&d).unwrap(), bytes);
    d
}

fn url() -> String {
    format!("https://label.example.cn/verify/#{}", digits())
}

fn input<'a>(url: &'a str) -> LabelInput<'a> {
    LabelInput {
        manufacturer: "深圳市星联科技有限公司",
        manufacturer_en: Some("Shenzhen Xinglian Technology Co., Ltd."),
        model: "XL-AX3000",
        tier: 2,
        certificate_number: "00000001",
        valid_from: Day::parse("2026-07-03").unwrap(),
        valid_until: Day::parse("2029-07-02").unwrap(),
        verify_url: url,
        void: false,
        size: LabelSize::default(),
    }
}

/// The label's PNG at `dpi` from the fast renderer.
fn png_of(inp: &LabelInput<'_>, dpi: f32) -> Vec<u8> {
    render(inp, font(), dpi).unwrap().1
}

/// The PNG of resvg rendering the whole SVG in one pass: what the fast renderer must equal.
fn one_pass(svg: &str, dpi: f32) -> Vec<u8> {
    super::png::encode(&super::png::full(svg, dpi).unwrap(), dpi).unwrap()
}

/// A `w` x `w` grid of pseudo-random modules (xorshift from `seed`), about one in `one_in`
/// light.
fn random_grid(seed: &mut u64, w: usize, one_in: u64) -> Vec<bool> {
    (0..w * w)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            !(*seed).is_multiple_of(one_in)
        })
        .collect()
}

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!(
        "starmark-label-{}-{:?}-{name}",
        std::process::id(),
        std::thread::current().id()
    ))
}

#[test]
fn golden_label_svg() {
    let url = url();
    let svg = render_svg(&input(&url), font()).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/label-0001.svg");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &svg).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", path.display()));
    assert!(
        svg == expected,
        "label SVG differs from {}; if the change is intended, run with UPDATE_GOLDEN=1",
        path.display()
    );
}

#[test]
fn svg_is_outlines_only_and_parses() {
    let url = url();
    let svg = render_svg(&input(&url), font()).unwrap();
    assert!(!svg.contains("<text"));
    assert!(!svg.contains("font"));
    // No external references: every link is to a glyph defined in the label itself.
    let links: Vec<&str> = svg.split("href=\"").skip(1).collect();
    assert!(
        !links.is_empty(),
        "recurring glyphs are defined once and used"
    );
    for link in links {
        let id = &link[..link.find('"').unwrap()];
        assert!(id.starts_with('#'), "{id}");
        assert!(svg.contains(&format!(" id=\"{}\"", &id[1..])), "{id}");
    }
    assert_eq!(
        svg.matches("href=\"").count(),
        svg.matches("<use xlink:href=\"#").count()
    );
    assert_eq!(svg.matches("http").count(), 2, "the two namespaces only");
    assert!(svg.starts_with(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
         width=\"22.6mm\" height=\"49.1mm\""
    ));
    assert!(svg.contains("viewBox=\"0 0 22.6 49.1\""));
    let tree = resvg::usvg::Tree::from_str(&svg, &resvg::usvg::Options::default()).unwrap();
    // 22.6 mm at 96 px per inch.
    assert!((tree.size().width() - 22.6 / 25.4 * 96.0).abs() < 0.01);
    // Exactly one QR path, black, crisp.
    assert_eq!(svg.matches("crispEdges").count(), 1);
}

/// Module size, x and y of the QR path's transform, mm.
type QrTransform = (f64, f64, f64);
/// Bounding box of the QR path data, modules.
type QrBox = (i32, i32, i32, i32);

/// The QR path of an SVG: its transform (module size, x, y in mm) and the bounding box of its
/// path data in module units.
fn qr_path(svg: &str) -> (QrTransform, QrBox) {
    let start = svg.find("<path shape-rendering=\"crispEdges\"").unwrap();
    let element = &svg[start..start + svg[start..].find("/>").unwrap()];
    let matrix = element
        .split("matrix(")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let m: Vec<f64> = matrix.split(' ').map(|v| v.parse().unwrap()).collect();
    assert_eq!((m[0], m[1], m[2]), (m[3], 0.0, 0.0));
    let d = element.split("d=\"").nth(1).unwrap().trim_end_matches('"');
    // Only m (relative, first absolute), h, v and z occur.
    let (mut x, mut y, mut sx, mut sy) = (0i32, 0i32, 0i32, 0i32);
    let mut bbox = (i32::MAX, i32::MAX, i32::MIN, i32::MIN);
    let mut chars = d.chars().peekable();
    let number = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| -> i32 {
        while chars.peek() == Some(&' ') {
            chars.next();
        }
        let mut s = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_digit() || (c == '-' && s.is_empty()) {
                s.push(c);
                chars.next();
            } else {
                break;
            }
        }
        s.parse().unwrap()
    };
    while let Some(c) = chars.next() {
        match c {
            'm' => {
                x = sx + number(&mut chars);
                y = sy + number(&mut chars);
                (sx, sy) = (x, y);
            }
            'h' => x += number(&mut chars),
            'v' => y += number(&mut chars),
            'z' => (x, y) = (sx, sy),
            other => panic!("unexpected {other:?} in QR path"),
        }
        bbox = (bbox.0.min(x), bbox.1.min(y), bbox.2.max(x), bbox.3.max(y));
    }
    ((m[0], m[4], m[5]), bbox)
}

#[test]
fn qr_keeps_its_quiet_zone_inside_the_label() {
    let url = url();
    let inp = input(&url);
    let svg = render_svg(&inp, font()).unwrap();
    let ((module, x, y), bbox) = qr_path(&svg);
    let code = crate::qrcode_image::encode_url(&url).unwrap();
    let n = code.width() as i32;
    let q = QUIET as i32;
    // The modules span exactly the code; the quiet zone is the 4 modules around them.
    assert_eq!(bbox, (q, q, q + n, q + n));
    let side = f64::from((n + 2 * q) as u32) * module;
    // Nothing else is drawn on the quiet zone.
    let label = layout::layout(&inp, font()).unwrap();
    assert!(
        x >= BORDER
            && y >= label.band
            && x + side <= label.width - BORDER
            && y + side <= label.height - BORDER
    );
    for run in &label.runs {
        let (_, _, _, y1) = run.ink_box().unwrap();
        assert!(y1 < y, "text reaches into the quiet zone");
    }
    for s in &label.stars {
        assert!(s.cy + s.r < y);
    }
    // And in the PNG, the quiet zone is pure white, the modules pure black.
    let png = png_of(&inp, 300.0);
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    let px = |mm: f64| (mm * 300.0 / 25.4).round() as u32;
    let (x0, y0, s) = (px(x), px(y), px(side));
    let m = px(module);
    assert_eq!(m, 4, "a version-10 code has 4 px modules at 300 dpi");
    for yy in y0..y0 + s {
        for xx in x0..x0 + s {
            let v = img.get_pixel(xx, yy).0[0];
            let inside =
                xx >= x0 + 4 * m && xx < x0 + s - 4 * m && yy >= y0 + 4 * m && yy < y0 + s - 4 * m;
            if inside {
                assert!(v == 0 || v == 255, "grey QR pixel {v} at {xx},{yy}");
            } else {
                assert_eq!(v, 255, "quiet zone pixel at {xx},{yy} is not white");
            }
        }
    }
    // Each module's centre pixel has the module's colour.
    let label_qr = &label.qr;
    let w = label_qr.width;
    for my in 0..w {
        for mx in 0..w {
            let (cx, cy) = (x0 + (4 + mx) * m + m / 2, y0 + (4 + my) * m + m / 2);
            let dark = label_qr.dark[(my * w + mx) as usize];
            assert_eq!(
                img.get_pixel(cx, cy).0[0],
                if dark { 0 } else { 255 },
                "module {mx},{my}"
            );
        }
    }
    // Above and right of the quiet zone, white too (at the minimum width the quiet zone's left
    // edge meets the border's antialiased inner edge, a pixel further left).
    for (xx, yy) in [(x0 + s, y0 + s / 2), (x0 + s / 2, y0 - 1)] {
        assert_eq!(img.get_pixel(xx, yy).0[0], 255);
    }
}

#[test]
fn png_decodes_to_the_verify_url() {
    let url = url();
    let png = png_of(&input(&url), 300.0);
    let img = image::load_from_memory(&png).unwrap();
    // 22.6 x 49.1 mm at 300 dpi.
    assert_eq!((img.width(), img.height()), (267, 580));
    assert_eq!(
        crate::qrcode_image::decode_image(&img.to_luma8()).unwrap(),
        url
    );
    let path = temp_file("decode.png");
    std::fs::write(&path, &png).unwrap();
    let out = Command::new("zbarimg")
        .args(["-q", "--raw"])
        .arg(&path)
        .output()
        .expect("zbarimg (Debian zbar-tools) is needed by the label tests");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "zbarimg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout)
            .unwrap()
            .trim_end_matches('\n'),
        url
    );
}

#[test]
fn cached_card_gives_the_pixels_of_a_single_pass() {
    let url = url();
    for tier in 1..=3u8 {
        let mut inp = input(&url);
        inp.tier = tier;
        let svg = render_svg(&inp, font()).unwrap();
        assert_eq!(svg.matches(super::svg::CARD_OPEN).count(), 1);
        // The fast path is taken: a card to cache and the transform resvg applies to the body.
        assert!(super::png::card_of(&svg).is_some());
        let label = layout::layout(&inp, font()).unwrap();
        assert!(super::png::base_transform(&label, 300.0).is_some());
        // 300 dpi paints the QR code on whole pixels; 150 and 333 dpi fill its path.
        for dpi in [300.0, 150.0, 600.0, 333.0] {
            let single = one_pass(&svg, dpi);
            // Three times: filling the caches (card, then text patches), then from them.
            for _ in 0..3 {
                let (again, png) = render(&inp, font(), dpi).unwrap();
                assert_eq!(again, svg);
                assert!(png == single, "tier {tier} at {dpi} dpi");
            }
        }
    }
}

#[test]
fn text_patches_give_the_pixels_of_a_single_pass() {
    let url = url();
    let makers = [
        (
            "深圳市星联科技有限公司",
            Some("Shenzhen Xinglian Technology Co., Ltd."),
        ),
        ("普联技术有限公司", None),
        ("华为技术有限公司", Some("Huawei Technologies Co., Ltd.")),
        (
            "广东省东莞市松山湖高新技术产业开发区智能物联网设备研究院有限责任公司",
            Some("Guangdong Dongguan Songshan Lake Institute of Intelligent IoT Devices Co., Ltd."),
        ),
    ];
    let models = ["XL-AX3000", "智能摄像机 C6", "TL-WDR7660 千兆版", "W"];
    let mut singles = Vec::new();
    for round in 0..3 {
        let mut k = 0;
        for (maker, en) in makers {
            for model in models {
                let mut inp = input(&url);
                inp.manufacturer = maker;
                inp.manufacturer_en = en;
                inp.model = model;
                inp.tier = (k % 3) as u8 + 1;
                let number = format!("2026{:04}", k + 17 * round);
                inp.certificate_number = &number;
                let (svg, png) = render(&inp, font(), 300.0).unwrap();
                if round == 0 {
                    singles.push(one_pass(&svg, 300.0));
                }
                // The number changes each round: a new line among lines from patches.
                let expected = if round == 0 {
                    &singles[k]
                } else {
                    &one_pass(&svg, 300.0)
                };
                assert!(png == *expected, "{maker} {model} round {round}");
                if round == 2 {
                    // Seen before: every glyph but some of the number's comes from a patch.
                    let label = layout::layout(&inp, font()).unwrap();
                    let (patched, all) = super::png::patched_glyphs(&label, 300.0);
                    assert!(
                        patched + 8 >= all && patched > all / 2,
                        "{patched} of {all}"
                    );
                }
                k += 1;
            }
        }
    }
}

/// Many labels, each drawn by the fast renderer, equal resvg's single pass pixel for pixel:
/// synthetic names of every length, all tiers, varied dates and numbers.
#[test]
fn fast_render_equals_resvg_on_many_labels() {
    let url = url();
    let words = [
        "深圳",
        "星联",
        "物联网",
        "科技",
        "有限",
        "公司",
        "智能",
        "（东莞）",
        "研究院",
    ];
    let en = [
        "Shenzhen",
        "Xinglian",
        "IoT",
        "Technology",
        "Co.,",
        "Ltd.",
        "(Dongguan)",
    ];
    for i in 0..60usize {
        let maker: String = (0..2 + i % 9)
            .map(|k| words[(i * 7 + k * 3) % words.len()])
            .collect();
        let maker_en: String = (0..1 + i % 6)
            .map(|k| en[(i + k * 5) % en.len()])
            .collect::<Vec<_>>()
            .join(" ");
        let model = format!("M{}-{}", i * 37 % 1000, "X".repeat(i % 13));
        let number = format!("2026{:04}", i * 131 % 10000);
        let mut inp = input(&url);
        inp.manufacturer = &maker;
        inp.manufacturer_en = (i % 4 != 0).then_some(maker_en.as_str());
        inp.model = &model;
        inp.certificate_number = &number;
        inp.tier = (i % 3) as u8 + 1;
        inp.valid_from = Day::parse("2026-01-01")
            .unwrap()
            .checked_add((i * 11 % 365) as u16)
            .unwrap();
        inp.valid_until = inp.valid_from.checked_add(365 * 3 - 1).unwrap();
        // Twice: the second time the recurring lines come from patches.
        for _ in 0..2 {
            let (svg, png) = render(&inp, font(), 300.0).unwrap();
            assert!(png == one_pass(&svg, 300.0), "label {i}: {maker} / {model}");
        }
    }
}

#[test]
fn rows_pack_to_the_nearest_of_16_grey_levels() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for w in 1..100usize {
        let row: Vec<u8> = (0..w)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        let mut packed = vec![0u8; w.div_ceil(2)];
        super::png::pack_row(&row, &mut packed);
        for (x, &v) in row.iter().enumerate() {
            let level = (packed[x / 2] >> if x % 2 == 0 { 4 } else { 0 }) & 15;
            let nearest = (0..16u8)
                .min_by_key(|l| (i32::from(*l) * 17 - i32::from(v)).abs())
                .unwrap();
            assert_eq!(level, nearest, "width {w}, pixel {x}, grey {v}");
        }
        if w % 2 == 1 {
            assert_eq!(packed[w / 2] & 15, 0, "width {w}: the padding nibble is 0");
        }
    }
}

#[test]
fn png_records_its_resolution() {
    let url = url();
    let png = png_of(&input(&url), 300.0);
    let i = png.windows(4).position(|w| w == b"pHYs").unwrap();
    assert_eq!(&png[i + 4..i + 8], &11811u32.to_be_bytes());
    assert_eq!(png[i + 12], 1);
    assert!(render(&input(&url), font(), f32::NAN).is_err());
    assert!(super::png::full("<svg", 300.0).is_err());
}

#[test]
fn missing_glyph_names_the_character_and_the_field() {
    let url = url();
    assert!(!font().has_glyph('\u{10FFFF}'));
    assert!(!font().has_glyph('\u{1F600}'));
    assert!(font().has_glyph('联'));
    let mut inp = input(&url);
    inp.manufacturer = "星联\u{10FFFF}科技";
    let e = format!("{:#}", render_svg(&inp, font()).unwrap_err());
    assert!(e.contains("U+10FFFF") && e.contains("manufacturer"), "{e}");
    let mut inp = input(&url);
    inp.model = "XL-\u{1F600}";
    let e = format!("{:#}", render_svg(&inp, font()).unwrap_err());
    assert!(e.contains("U+1F600") && e.contains("field model"), "{e}");
    let mut inp = input(&url);
    inp.manufacturer_en = Some("Smile \u{1F600}");
    let e = format!("{:#}", render_svg(&inp, font()).unwrap_err());
    assert!(
        e.contains("U+1F600") && e.contains("field manufacturer_en"),
        "{e}"
    );
    let mut inp = input(&url);
    inp.certificate_number = "0001\u{10FFFF}";
    let e = format!("{:#}", render_svg(&inp, font()).unwrap_err());
    assert!(
        e.contains("U+10FFFF") && e.contains("certificate_number"),
        "{e}"
    );
}

#[test]
fn bad_tier_and_url_are_errors() {
    let url = url();
    let mut inp = input(&url);
    inp.tier = 4;
    let e = format!("{:#}", render_svg(&inp, font()).unwrap_err());
    assert!(e.contains("tier"), "{e}");
    inp.tier = 0;
    assert!(render_svg(&inp, font()).is_err());
    let mut inp = input(&url);
    inp.verify_url = "https://label.example.cn/verify/";
    assert!(render_svg(&inp, font()).is_err());
}

#[test]
fn renders_are_deterministic() {
    let url = url();
    let a = render_svg(&input(&url), font()).unwrap();
    let b = render_svg(&input(&url), font()).unwrap();
    assert_eq!(a, b);
    assert_eq!(png_of(&input(&url), 300.0), png_of(&input(&url), 300.0));
    // A font loaded again gives the same bytes: nothing depends on cache order.
    let again = LabelFont::load(None).unwrap();
    assert_eq!(render_svg(&input(&url), &again).unwrap(), a);
    assert_eq!(again.id(), font().id());
}

/// Every text and star lies inside the card, within the margins, above the QR code, and text
/// lines do not overlap each other.
fn assert_fits(label: &Label) {
    let mut boxes = Vec::new();
    for run in &label.runs {
        let Some((x0, y0, x1, y1)) = run.ink_box() else {
            continue;
        };
        let tol = 0.05;
        assert!(
            x0 >= MARGIN - tol && x1 <= label.width - MARGIN + tol,
            "run overflows: {x0}..{x1}"
        );
        assert!(run.x >= MARGIN - 1e-9 && run.x + run.width() <= label.width - MARGIN + 1e-9);
        assert!(
            y0 >= BORDER && y1 < label.qr.y,
            "run outside the body: {y0}..{y1}"
        );
        boxes.push((x0, y0, x1, y1));
    }
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            let overlap = a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3;
            assert!(!overlap, "text overlaps: {a:?} {b:?}");
        }
    }
    for s in &label.stars {
        assert!(s.cx - s.r >= MARGIN && s.cx + s.r <= label.width - MARGIN);
    }
}

#[test]
fn long_texts_shrink_or_wrap_inside_the_label() {
    let url = url();
    let maker =
        "深圳市星联科技有限公司广东省分公司东莞市松山湖高新技术产业开发区智能终端研究院中心";
    let maker: String = maker.chars().take(40).collect();
    assert_eq!(maker.len(), 120);
    let mut inp = input(&url);
    inp.manufacturer = &maker;
    let label = layout::layout(&inp, font()).unwrap();
    assert_fits(&label);
    // The 40 characters went to four balanced lines of 10 (the fifth line of 10 glyphs is the
    // validity's second line).
    let long_lines = label.runs.iter().filter(|r| r.glyphs.len() == 10).count();
    assert_eq!(long_lines, 5);
    assert!(label.height > LabelSize::DEFAULT_HEIGHT, "the label grew");

    let model = "AX3000-PRO-MAX-ULTRA-2026-EDITION-WIFI7-MESH-ROUTER-KIT-XL99";
    assert_eq!(model.len(), 60);
    let model_cn = "智能家用无线路由器专业版二零二六年款";
    let en = "Shenzhen Xinglian Intelligent Network Technology Research Institute Co., Ltd.";
    for (m, e) in [
        (model, Some(en)),
        (model_cn, None),
        ("X", Some("X")),
        (model, None),
    ] {
        let mut inp = input(&url);
        inp.manufacturer = &maker;
        inp.model = m;
        inp.manufacturer_en = e;
        assert_fits(&layout::layout(&inp, font()).unwrap());
        inp.manufacturer = "星联";
        assert_fits(&layout::layout(&inp, font()).unwrap());
    }
    assert_fits(&layout::layout(&input(&url), font()).unwrap());
}

#[test]
fn qr_is_exactly_the_code_of_encode_url() {
    let mut urls = vec![url(), "https://x.cn/verify/#1".to_string()];
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    for k in 0..48u64 {
        let len = 1 + k * 19 + k * k / 3;
        let digits: String = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                char::from(b'0' + (seed % 10) as u8)
            })
            .collect();
        urls.push(format!("https://label.example.cn/verify/#{digits}"));
    }
    for url in urls {
        let expected = crate::qrcode_image::encode_url(&url).unwrap();
        let fast = super::qr::encode(&url).unwrap();
        assert_eq!(fast.width as usize, expected.width(), "{url}");
        let dark: Vec<bool> = expected
            .to_colors()
            .into_iter()
            .map(|c| c == qrcode::types::Color::Dark)
            .collect();
        assert!(fast.dark == dark, "different code for {url}");
    }
    assert!(super::qr::encode("https://x.cn/verify/#12a").is_err());
    // The version is computed, not searched: the smallest that holds the data at every length
    // (every version boundary up to version 40), the same bits as encoding at that version.
    for len in 1..=3100usize {
        let digits: String = (0..len)
            .map(|i| char::from(b'0' + (i * 7 % 10) as u8))
            .collect();
        let prefix = "https://label.example.cn/verify/#";
        let url = format!("{prefix}{digits}");
        let searched = (1..=40).find_map(|v| {
            let mut bits = qrcode::bits::Bits::new(qrcode::Version::Normal(v));
            bits.push_byte_data(prefix.as_bytes()).ok()?;
            bits.push_numeric_data(digits.as_bytes()).ok()?;
            bits.push_terminator(qrcode::EcLevel::M).ok()?;
            Some(bits)
        });
        let computed = crate::qrcode_image::verify_url_bits(&url);
        match (searched, computed) {
            (Some(a), Ok(b)) => {
                assert!(a.version() == b.version(), "length {len}");
                assert!(a.into_bytes() == b.into_bytes(), "length {len}");
            }
            (None, Err(_)) => {}
            _ => panic!("length {len}: one encodes, the other does not"),
        }
    }
    for bad in [
        "https://x.cn/verify/",
        "https://x.cn/verify/#",
        "a#1 2",
        "a#12x",
    ] {
        assert!(crate::qrcode_image::verify_url_bits(bad).is_err(), "{bad}");
    }
    // Wider than 128 modules (version 28 and up) takes the module-by-module path.
    let wide = format!(
        "https://x.cn/verify/#{}",
        "31415926535897932384".repeat(150)
    );
    let fast = super::qr::encode(&wide).unwrap();
    assert!(fast.width > 128);
    let expected = crate::qrcode_image::encode_url(&wide).unwrap();
    let dark: Vec<bool> = expected
        .to_colors()
        .into_iter()
        .map(|c| c == qrcode::types::Color::Dark)
        .collect();
    assert!(fast.dark == dark);
}

#[test]
fn qr_outlines_fill_exactly_the_dark_modules() {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for w in 1..=14usize {
        for density in [2u64, 3, 5] {
            let dark = random_grid(&mut seed, w, density);
            let polygons = super::svg::outlines(&dark, w);
            for y in 0..w {
                for x in 0..w {
                    // Winding number around the module centre, counting vertical sides.
                    let (px, py) = (x as f64 + 0.5, y as f64 + 0.5);
                    let mut winding = 0i32;
                    for poly in &polygons {
                        for i in 0..poly.len() {
                            let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
                            assert!(a.0 == b.0 || a.1 == b.1, "sides are horizontal or vertical");
                            if a.0 == b.0 && f64::from(a.0) > px {
                                let (lo, hi) = (a.1.min(b.1), a.1.max(b.1));
                                if f64::from(lo) < py && py < f64::from(hi) {
                                    winding += if b.1 > a.1 { 1 } else { -1 };
                                }
                            }
                        }
                    }
                    assert!(winding == 0 || winding == 1, "winding {winding}");
                    assert_eq!(winding == 1, dark[y * w + x], "w {w} module {x},{y}");
                }
            }
        }
    }
}

#[test]
fn boundary_on_bit_rows_equals_module_by_module() {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for w in [1usize, 2, 5, 21, 57, 63, 64, 65, 100, 126] {
        for density in [2u64, 3, 4] {
            let dark = random_grid(&mut seed, w, density);
            assert_eq!(
                super::svg::boundary_bits(&dark, w),
                super::svg::boundary(&dark, w),
                "{w} modules, density {density}"
            );
        }
    }
}

#[test]
fn path_numbers_are_compact() {
    let mut out = String::new();
    for (v, first) in [
        (0, true),
        (7, false),
        (-12, false),
        (i32::MAX, false),
        (i32::MIN, false),
    ] {
        super::font::push_int(&mut out, v, first);
    }
    assert_eq!(out, "0 7-12 2147483647-2147483648");
    let mut out = String::new();
    for v in [0.5, -0.25, 3.0, 12.3456, -0.0004, 0.0] {
        super::svg::num(&mut out, v, 3);
        out.push(',');
    }
    assert_eq!(out, ".5,-.25,3,12.346,0,0,");
}

#[test]
fn every_tier_renders() {
    let url = url();
    for tier in 1..=3u8 {
        let mut inp = input(&url);
        inp.tier = tier;
        let label = layout::layout(&inp, font()).unwrap();
        assert_eq!(
            label.stars.iter().filter(|s| s.filled).count(),
            usize::from(tier)
        );
        let svg = render_svg(&inp, font()).unwrap();
        assert!(svg.contains(["一星级", "二星级", "三星级"][usize::from(tier - 1)]));
    }
}

#[test]
fn short_url_still_decodes() {
    // A smaller code gets bigger modules, still whole pixels at 300 dpi.
    let url = "https://label.example.cn/verify/#0012345678901234567";
    let mut inp = input(url);
    inp.verify_url = url;
    let (svg, png) = render(&inp, font(), 300.0).unwrap();
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    assert_eq!(crate::qrcode_image::decode_image(&img).unwrap(), url);
    assert!(png == one_pass(&svg, 300.0));
    let ((module, _, _), _) = qr_path(&svg);
    let px = module * 300.0 / 25.4;
    assert!((px - px.round()).abs() < 1e-3 && px >= 3.0, "{px}");
}

#[test]
fn font_errors_name_the_path() {
    let missing = Path::new("/nonexistent/label-font.ttf");
    let e = format!("{:#}", LabelFont::load(Some(missing)).err().unwrap());
    assert!(e.contains("/nonexistent/label-font.ttf"), "{e}");
    let not_font = temp_file("not-a-font.ttf");
    std::fs::write(&not_font, b"not a font").unwrap();
    let e = format!("{:#}", LabelFont::load(Some(&not_font)).err().unwrap());
    let _ = std::fs::remove_file(&not_font);
    assert!(e.contains("not-a-font.ttf"), "{e}");
}

#[test]
fn picks_the_simplified_chinese_face() {
    // Only where fonts-noto-cjk is installed: the tests need no system font.
    if let Ok(data) = std::fs::read(SYSTEM_TTC) {
        let f = LabelFont::load(Some(Path::new(SYSTEM_TTC))).unwrap();
        assert!(!f.is_embedded());
        let index = (0..ttf_parser::fonts_in_collection(&data).unwrap())
            .find(|&i| {
                ttf_parser::Face::parse(&data, i)
                    .unwrap()
                    .names()
                    .into_iter()
                    .any(|n| {
                        n.name_id == ttf_parser::name_id::FAMILY
                            && n.to_string().as_deref() == Some("Noto Sans CJK SC")
                    })
            })
            .unwrap();
        let face = ttf_parser::Face::parse(&data, index).unwrap();
        // The SC face's glyph for 骨 differs from the JP face's; compare the advance and outline.
        let g = f.glyph('骨').unwrap();
        // The built-in subset was made from that face: the same outline.
        assert_eq!(font().glyph('骨').unwrap().bbox, g.bbox);
        let id = face.glyph_index('骨').unwrap();
        let bbox = face.glyph_bounding_box(id).unwrap();
        assert_eq!(
            g.bbox,
            Some((
                bbox.x_min.into(),
                bbox.y_min.into(),
                bbox.x_max.into(),
                bbox.y_max.into()
            ))
        );
    }
}

#[test]
fn font_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<LabelFont>();
    let url = url();
    let expected = render_svg(&input(&url), font()).unwrap();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(|| render_svg(&input(&url), font()).unwrap()))
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), expected);
        }
    });
}

#[test]
fn label_pixels_are_opaque_grey() {
    // The PNG keeps the red channel as the grey level: exact only for opaque greys.
    let url = url();
    for tier in 1..=3 {
        let mut i = input(&url);
        i.tier = tier;
        let svg = render_svg(&i, font()).unwrap();
        let pixmap = super::png::full(&svg, 300.0).unwrap();
        assert!(pixmap
            .pixels()
            .iter()
            .all(|p| p.alpha() == 255 && p.red() == p.green() && p.green() == p.blue()));
    }
}

/// The x-height of a run, mm.
fn x_height_mm(run: &super::layout::Run) -> f64 {
    f64::from(font().x_height()) * run.scale()
}

/// Every line of every label has an x-height of at least 0.9 mm and the QR module is at least
/// 0.33 mm: short and long names, both languages, all tiers, void or not.
#[test]
fn every_line_has_a_legible_x_height_and_the_qr_module_is_large_enough() {
    let url = url();
    let long_en = "Guangdong Dongguan Songshan Lake Institute of Intelligent IoT Devices Co., Ltd.";
    let long_cn = "广东省东莞市松山湖高新技术产业开发区智能物联网设备研究院有限责任公司";
    for (maker, en, model) in [
        ("星联", None, "X"),
        (
            "深圳市星联科技有限公司",
            Some("Shenzhen Xinglian Technology Co., Ltd."),
            "XL-AX3000",
        ),
        (
            long_cn,
            Some(long_en),
            "AX3000-PRO-MAX-ULTRA-2026-EDITION-WIFI7-MESH-ROUTER-KIT-XL99",
        ),
    ] {
        for tier in 1..=3u8 {
            for void in [false, true] {
                let mut inp = input(&url);
                (inp.manufacturer, inp.manufacturer_en, inp.model) = (maker, en, model);
                inp.tier = tier;
                inp.void = void;
                let label = layout::layout(&inp, font()).unwrap();
                assert_fits(&label);
                for run in label.card.iter().chain(&label.runs) {
                    let xh = x_height_mm(run);
                    assert!(xh >= 0.9 - 1e-9, "{maker}: a line with x-height {xh} mm");
                }
                assert!(label.qr.module >= 0.33, "module {}", label.qr.module);
                assert!(label.width >= LabelSize::MIN_WIDTH);
                assert!(label.height >= LabelSize::DEFAULT_HEIGHT);
            }
        }
    }
    // The rule in numbers: the built-in font's x-height is 0.543 em, so no em below 1.658 mm;
    // 4 pixels per module at 300 dpi.
    assert_eq!(font().x_height(), 543);
    assert!((layout::min_em(font()) - 1.658).abs() < 1e-9);
    assert_eq!(layout::module_px(), 4);
}

/// The default size is the smallest that holds its design content, and the minimums are what
/// the layout needs: a version-10 code for the width, the shortest texts for the height.
#[test]
fn default_and_minimum_sizes_are_the_smallest_that_hold_the_content() {
    let url = url();
    assert_eq!(
        super::qr::encode(&url).unwrap().width,
        17 + 4 * layout::DESIGN_VERSION
    );
    assert!((layout::min_width(layout::DESIGN_VERSION) - LabelSize::MIN_WIDTH).abs() < 1e-9);
    let needed = |inp: &LabelInput<'_>| {
        let mut inp = LabelInput { ..*inp };
        inp.size = LabelSize {
            width_mm: LabelSize::MIN_WIDTH,
            height_mm: 0.0,
        };
        let label = layout::layout(&inp, font()).unwrap();
        assert!((label.width - LabelSize::MIN_WIDTH).abs() < 1e-9);
        label.height
    };
    // One line of Chinese name (at its preferred size), two of English.
    let demo = needed(&input(&url));
    // The design content: two lines of Chinese name, two of English name.
    let mut inp = input(&url);
    inp.manufacturer = "北京华控智联自动化技术有限公司";
    inp.manufacturer_en = Some("Beijing Huakong Automation Co., Ltd.");
    let label = layout::layout(&inp, font()).unwrap();
    let maker_lines = label.runs.iter().filter(|r| r.glyphs.len() == 8).count();
    assert!(maker_lines >= 2, "two lines of the Chinese name");
    assert_eq!(needed(&inp), LabelSize::DEFAULT_HEIGHT);
    assert!(demo <= LabelSize::DEFAULT_HEIGHT);
    // The shortest texts.
    let mut inp = input(&url);
    inp.manufacturer = "星联";
    inp.manufacturer_en = None;
    inp.model = "X";
    assert_eq!(needed(&inp), LabelSize::MIN_HEIGHT);
}

/// A long Latin manufacturer wraps at the minimum size or above, and both names are printed in
/// full: every character of both appears in the label's lines.
#[test]
fn a_long_latin_manufacturer_wraps_and_both_names_are_printed() {
    let url = url();
    let mut inp = input(&url);
    inp.manufacturer = "Rheinfeld Automation Gesellschaft mit beschränkter Haftung";
    inp.manufacturer_en = Some("Rheinfeld Industrial Automation and Process Control Systems GmbH");
    let label = layout::layout(&inp, font()).unwrap();
    assert_fits(&label);
    let glyphs_of = |text: &str| -> usize { text.chars().filter(|c| !c.is_whitespace()).count() };
    let drawn: usize = label
        .runs
        .iter()
        .map(|r| r.glyphs.iter().filter(|g| !g.contours.is_empty()).count())
        .sum();
    let expected = glyphs_of(inp.manufacturer)
        + glyphs_of(inp.manufacturer_en.unwrap())
        + glyphs_of("型号Model有效期Valid证书编号No.")
        + glyphs_of(inp.model)
        + glyphs_of("2026-07-03–2029-07-02")
        + glyphs_of(inp.certificate_number);
    assert_eq!(drawn, expected, "nothing is dropped");
    let min = layout::min_em(font());
    let wrapped = label
        .runs
        .iter()
        .filter(|r| (r.size - min).abs() < 1e-9 && r.glyphs.len() > 6)
        .count();
    assert!(
        wrapped >= 6,
        "both names wrap to several lines at the minimum size"
    );
    for run in &label.runs {
        assert!(x_height_mm(run) >= 0.9 - 1e-9);
    }
}

/// A revoked certification's label says VOID in its heading and title, and still decodes.
#[test]
fn a_void_label_says_so() {
    let url = url();
    let mut inp = input(&url);
    inp.void = true;
    let (svg, png) = render(&inp, font(), 300.0).unwrap();
    assert!(
        svg.contains("<title>作废 VOID (revoked): "),
        "{}",
        &svg[..300]
    );
    let label = layout::layout(&inp, font()).unwrap();
    let heading: Vec<u64> = label.card[0].glyphs.iter().map(|g| g.uid).collect();
    let void: Vec<u64> = "作废 VOID"
        .chars()
        .map(|c| font().glyph(c).unwrap().uid)
        .collect();
    assert_eq!(heading, void);
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    assert_eq!(crate::qrcode_image::decode_image(&img).unwrap(), url);
    assert!(png == one_pass(&svg, 300.0));
    inp.void = false;
    assert_ne!(render_svg(&inp, font()).unwrap(), svg);
}

/// A configured size is used; a larger one makes a larger QR code when it fits whole pixels;
/// sizes under the minimums are refused naming the minimum.
#[test]
fn label_size_is_configurable_and_checked() {
    let url = url();
    let mut inp = input(&url);
    inp.size = LabelSize {
        width_mm: 40.0,
        height_mm: 70.0,
    };
    let label = layout::layout(&inp, font()).unwrap();
    assert_eq!((label.width, label.height), (40.0, 70.0));
    assert_fits(&label);
    let svg = render_svg(&inp, font()).unwrap();
    assert!(svg.contains("width=\"40mm\" height=\"70mm\""));
    assert!(LabelSize::default().check().is_ok());
    for (w, h, needle) in [
        (
            20.0,
            49.1,
            "[label] width_mm = 20: a label must be at least 22.6 mm wide",
        ),
        (
            22.6,
            30.0,
            "[label] height_mm = 30: a label must be at least 42.9 mm tall",
        ),
        (f64::NAN, 49.1, "[label] width_mm = NaN"),
        (500.0, 49.1, "[label] width_mm = 500: at most 300 mm"),
    ] {
        let e = LabelSize {
            width_mm: w,
            height_mm: h,
        }
        .check()
        .unwrap_err()
        .to_string();
        assert!(e.contains(needle), "{e}");
    }
}

/// A QR code above version 10 keeps its 0.339 mm modules: that label grows wider (to a whole
/// 0.1 mm), and still decodes.
#[test]
fn a_larger_code_widens_its_label() {
    let url = format!("{}{}", url(), "1234567890".repeat(12));
    let inp = input(&url);
    let label = layout::layout(&inp, font()).unwrap();
    assert!(label.qr.width > 17 + 4 * layout::DESIGN_VERSION);
    assert!(label.width > LabelSize::MIN_WIDTH);
    assert!((label.width * 10.0 - (label.width * 10.0).round()).abs() < 1e-9);
    assert!((label.qr.module - 4.0 * 25.4 / 300.0).abs() < 1e-9);
    assert_fits(&label);
    let (svg, png) = render(&inp, font(), 300.0).unwrap();
    assert!(png == one_pass(&svg, 300.0));
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    assert_eq!(crate::qrcode_image::decode_image(&img).unwrap(), url);
}

/// Figures, not a check: the time per label of each step of rendering, on 20,000 labels of
/// four manufacturers, unique models and numbers (run by `scripts/bench-labels`).
#[test]
#[ignore = "a benchmark: scripts/bench-labels"]
fn bench_label_steps() {
    use std::time::Instant;
    let makers = [
        (
            "深圳市星联科技有限公司",
            "Shenzhen Xinglian Technology Co., Ltd.",
        ),
        ("莱茵费尔德自动化有限公司", "Rheinfeld Automation GmbH"),
        (
            "杭州海川智能设备有限公司",
            "Hangzhou Haichuan Smart Devices Co., Ltd.",
        ),
        (
            "北京云端物联网科技有限公司",
            "Beijing Cloud IoT Technology Co., Ltd.",
        ),
    ];
    let n = 20_000;
    let urls: Vec<String> = (0..n)
        .map(|i| {
            let bytes: Vec<u8> = (0..163u32).map(|k| (k * 37 + 11 + i * 7) as u8).collect();
            let digits = starmark_core::qr::encode_digits(&bytes);
            format!("https://label.example.cn/verify/#{digits}")
        })
        .collect();
    let models: Vec<String> = (0..n).map(|i| format!("XL-AX{}", 1000 + i)).collect();
    let numbers: Vec<String> = (0..n).map(|i| format!("{:08}", 20_260_001 + i)).collect();
    let days: Vec<Day> = (0..n)
        .map(|i| Day::parse(&format!("2026-{:02}-{:02}", 1 + i % 12, 1 + i % 28)).unwrap())
        .collect();
    let inputs: Vec<LabelInput<'_>> = (0..n as usize)
        .map(|i| LabelInput {
            manufacturer: makers[i % 4].0,
            manufacturer_en: Some(makers[i % 4].1),
            model: &models[i],
            tier: (i % 3) as u8 + 1,
            certificate_number: &numbers[i],
            valid_from: days[i],
            valid_until: days[(i + 7) % n as usize],
            verify_url: &urls[i],
            void: false,
            size: LabelSize::default(),
        })
        .collect();
    let (mut qr, mut layout, mut svg, mut png, mut bytes) = (0.0, 0.0, 0.0, 0.0, 0);
    for inp in &inputs {
        let t0 = Instant::now();
        let _ = super::qr::encode(inp.verify_url).unwrap();
        let t1 = Instant::now();
        let label = layout::layout(inp, font()).unwrap();
        let t2 = Instant::now();
        let text = super::svg::write(&label, &title(inp));
        let t3 = Instant::now();
        bytes += super::png::render(&label, &text, 300.0).unwrap().len();
        let t4 = Instant::now();
        qr += (t1 - t0).as_secs_f64();
        layout += (t2 - t1).as_secs_f64();
        svg += (t3 - t2).as_secs_f64();
        png += (t4 - t3).as_secs_f64();
    }
    let us = |t: f64| t * 1e6 / f64::from(n);
    outln!(
        "{n} labels, per label: layout {:.0} us (of which the QR code {:.0} us), SVG {:.0} us, \
         PNG {:.0} us; total {:.0} us; PNG {} bytes",
        us(layout),
        us(qr),
        us(svg),
        us(png),
        us(layout + svg + png),
        bytes / n as usize
    );
}
