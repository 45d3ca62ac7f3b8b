//! The English site: manufacturers, categories and the registry by their English names, with
//! the Chinese beside them (tagged `zh-Hans`), in pages, the API and the search index; the
//! search placeholders made from the registry's own data; `init --name-en`.

use std::path::Path;

use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

use crate::common::{run_in, s, RecordText, Reg};
use crate::site::demo_copy;

const RHEINFELD: &str = "Rheinfeld Automation GmbH";
const RHEINFELD_ZH: &str = "莱茵费尔德自动化有限公司";

fn page(out: &Path, rel: &str) -> Html {
    let text = std::fs::read_to_string(out.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    Html::parse_document(&text)
}

fn json(out: &Path, rel: &str) -> Value {
    let text = std::fs::read_to_string(out.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn sel(css: &str) -> Selector {
    Selector::parse(css).unwrap()
}

fn text(e: ElementRef<'_>) -> String {
    e.text().collect()
}

/// The text of the first element matching `css`.
fn first(html: &Html, css: &str) -> String {
    html.select(&sel(css))
        .next()
        .map(text)
        .unwrap_or_else(|| panic!("no {css}"))
}

/// The manufacturer cells of a page's certification tables, by certificate number.
fn maker_cells(html: &Html) -> Vec<(String, ElementRef<'_>)> {
    html.select(&sel("table.certs tbody tr"))
        .map(|tr| {
            let cells: Vec<ElementRef<'_>> = tr.select(&sel("td")).collect();
            (text(cells[0]), cells[1])
        })
        .collect()
}

/// Asserts that a manufacturer as shown reads "English (Chinese)", the Chinese tagged zh-Hans.
#[track_caller]
fn assert_english_with_chinese(shown: ElementRef<'_>, en: &str, zh: &str) {
    let all = text(shown);
    assert_eq!(all, format!("{en} ({zh})"), "{}", shown.html());
    let tagged: Vec<String> = shown.select(&sel("[lang=zh-Hans]")).map(text).collect();
    assert_eq!(tagged, [zh], "{}", shown.html());
}

fn demo_site() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let reg = demo_copy(tmp.path());
    let out = tmp.path().join("public");
    run_in(tmp.path(), &["build", "--quiet", "--out", s(&out), s(&reg)]).ok();
    (tmp, out)
}

#[test]
fn english_pages_name_makers_in_english_with_the_chinese_beside() {
    let (_tmp, out) = demo_site();

    // Lists: home (latest), category, revoked.
    let category = page(&out, "en/category/plc.html");
    let cells = maker_cells(&category);
    let (_, rheinfeld) = cells
        .iter()
        .find(|(n, _)| n == "00000015")
        .expect("00000015 in the PLC list");
    assert_english_with_chinese(*rheinfeld, RHEINFELD, RHEINFELD_ZH);
    let home = page(&out, "en/index.html");
    let cells = maker_cells(&home);
    assert!(cells.len() >= 20, "the latest certifications");
    for (number, cell) in &cells {
        let shown = text(*cell);
        assert!(
            shown.is_ascii() || shown.contains(" ("),
            "{number}: {shown} is not in English"
        );
    }
    let revoked = page(&out, "en/revoked.html");
    let row = revoked
        .select(&sel("table.certs tbody tr"))
        .find(|tr| text(*tr).contains("00000009"))
        .expect("00000009 revoked");
    let maker = row.select(&sel("td a[href*=maker]")).next().unwrap();
    assert_english_with_chinese(
        maker,
        "Shenzhen Shengdong Weilai Electronics Co., Ltd.",
        "深圳市声动未来电子有限公司",
    );

    // The manufacturer's page: the English name as the heading, the Chinese on a line of its own.
    let index = json(&out, "api/v1/index.json");
    let row15 = &index["certificates"].as_array().unwrap()[14];
    assert_eq!(row15["serial"], 15);
    let maker_page = format!("maker/{}.html", row15["maker_slug"].as_str().unwrap());
    let en = page(&out, &format!("en/{maker_page}"));
    assert_eq!(first(&en, "h1"), RHEINFELD);
    assert_eq!(first(&en, "main p[lang=zh-Hans]"), RHEINFELD_ZH);
    assert!(first(&en, "title").starts_with(RHEINFELD));
    let zh = page(&out, &maker_page);
    assert_eq!(
        first(&zh, "h1"),
        RHEINFELD_ZH,
        "Chinese first on Chinese pages"
    );

    // The certification page: title and signed fields.
    let cert = page(&out, "en/cert/15.html");
    assert!(first(&cert, "title").starts_with(&format!("{RHEINFELD} RA-C820")));
    let dd = cert
        .select(&sel("dl.fields dd"))
        .next()
        .expect("the manufacturer");
    assert!(text(dd).starts_with(&format!("{RHEINFELD} ({RHEINFELD_ZH})")));
    assert_eq!(
        dd.select(&sel("[lang=zh-Hans]"))
            .map(text)
            .collect::<Vec<_>>(),
        [RHEINFELD_ZH]
    );
    let zh_cert = page(&out, "cert/15.html");
    assert!(first(&zh_cert, "title").starts_with(RHEINFELD_ZH));

    // The registry's English name on English pages, the Chinese on Chinese ones.
    assert_eq!(
        first(&home, "h1"),
        "IoT Cybersecurity Label Registry (demo)"
    );
    assert_eq!(
        first(&page(&out, "index.html"), "h1"),
        "物联网网络安全标识登记簿（演示）"
    );
}

#[test]
fn api_and_search_index_carry_english_names_beside_the_chinese() {
    let (_tmp, out) = demo_site();
    let index = json(&out, "api/v1/index.json");
    assert_eq!(index["registry"], "物联网网络安全标识登记簿（演示）");
    assert_eq!(
        index["registry_en"],
        "IoT Cybersecurity Label Registry (demo)"
    );
    let plc = index["categories"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == "plc")
        .expect("plc in the catalogue");
    assert_eq!(plc["en"], "Programmable logic controller (PLC)");
    assert_eq!(plc["zh"], "可编程逻辑控制器");
    let row = index["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["serial"] == 15)
        .unwrap();
    assert_eq!(
        row["manufacturer"], RHEINFELD_ZH,
        "the field keeps its meaning"
    );
    assert_eq!(row["manufacturer_en"], RHEINFELD);
    assert_eq!(row["category"], "plc");

    let cert = json(&out, "api/v1/certificates/15.json");
    assert_eq!(cert["manufacturer"], RHEINFELD_ZH);
    assert_eq!(cert["manufacturer_en"], RHEINFELD);
    assert_eq!(cert["category"], "plc");
    assert_eq!(cert["category_zh"], "可编程逻辑控制器");
    assert_eq!(cert["category_en"], "Programmable logic controller (PLC)");

    let meta = json(&out, "search/meta.json");
    let codes = meta["categories"].as_array().unwrap();
    let at = codes.iter().position(|c| c == "router").unwrap();
    assert_eq!(meta["categories_en"][at], "Router");
    assert_eq!(meta["categories_zh"][at], "路由器");
    let shard = json(
        &out,
        &format!("search/{}", meta["shards"][0].as_str().unwrap()),
    );
    let makers = shard["makers"].as_array().unwrap();
    let english = shard["makers_en"].as_array().unwrap();
    assert_eq!(makers.len(), english.len());
    let at = makers.iter().position(|m| m == RHEINFELD_ZH).unwrap();
    assert_eq!(english[at], RHEINFELD);
    let xinglian = makers
        .iter()
        .position(|m| m == "深圳市星联科技有限公司")
        .unwrap();
    assert_eq!(english[xinglian], "Shenzhen Xinglian Technology Co., Ltd.");
}

#[test]
fn search_placeholders_are_made_from_the_first_certification() {
    let (_tmp, out) = demo_site();
    let placeholder = |rel: &str| {
        page(&out, rel)
            .select(&sel("#q"))
            .next()
            .and_then(|q| q.value().attr("placeholder").map(str::to_string))
            .unwrap()
    };
    // Certification 1 is an XL-AX3000 router: every example finds it.
    let first = json(&out, "api/v1/certificates/1.json");
    assert_eq!(first["model"], "XL-AX3000");
    assert_eq!(first["category"], "router");
    assert_eq!(
        placeholder("en/index.html"),
        "e.g. router, XL-AX3000, 00000001"
    );
    assert_eq!(
        placeholder("index.html"),
        "例如：路由器、XL-AX3000、00000001"
    );
}

#[test]
fn init_name_en_names_the_english_site() {
    let reg = Reg::with_init_args(&["--name", "测试登记簿", "--name-en", "Test Label Registry"]);
    let config = std::fs::read_to_string(reg.path("starmark.toml")).unwrap();
    assert!(
        config.contains("name_en = \"Test Label Registry\""),
        "{config}"
    );
    // A maker without an English name is shown by its Chinese name alone.
    reg.signed("0001.md", &RecordText::new(1).text());
    reg.run(&["build", "--quiet"]).ok();
    let out = reg.path("public");
    let en = page(&out, "en/index.html");
    assert_eq!(first(&en, "h1"), "Test Label Registry");
    assert!(first(&en, "title").contains("Test Label Registry"));
    let cells = maker_cells(&en);
    assert_eq!(cells.len(), 1);
    assert_eq!(text(cells[0].1), "深圳市星联科技有限公司");
    assert_eq!(first(&page(&out, "index.html"), "h1"), "测试登记簿");
    assert_eq!(
        json(&out, "api/v1/index.json")["registry_en"],
        "Test Label Registry"
    );

    // A name with a bidi control is refused before anything is made.
    let dir = reg.tmp().join("other");
    run_in(
        reg.tmp(),
        &["init", s(&dir), "--name-en", "Label\u{202E}Registry"],
    )
    .code(2)
    .stderr_has(&["--name-en", "U+202E"]);
    assert!(!dir.exists());
    // Without --name-en, no English name in the configuration.
    run_in(reg.tmp(), &["init", s(&dir)]).ok();
    let config = std::fs::read_to_string(dir.join("starmark.toml")).unwrap();
    assert!(!config.contains("name_en"), "{config}");
}
