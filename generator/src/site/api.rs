//! Machine-readable outputs: the JSON API, the search index, the Atom feed and the sitemap.

use std::collections::BTreeMap;

use foldhash::HashSetExt as _;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use starmark_core::{to_hex, Day, RevocationList, TrustList};

use super::load::{Full, Status, VerifiedCert};
use super::views::{number, Row};
use crate::registry::Category;

/// Certifications per search shard.
pub const SHARD_SIZE: usize = 5000;
/// URLs per sitemap file (the sitemap protocol's limit is 50,000).
pub const SITEMAP_URLS: usize = 40_000;

/// `api/v1/certificates/<serial>.json`: the certification, its signature and its status.
#[derive(Serialize)]
struct CertJson<'a> {
    serial: u64,
    number: String,
    manufacturer: &'a str,
    manufacturer_en: Option<&'a str>,
    manufacturer_uscc: Option<&'a str>,
    local_agent: Option<&'a str>,
    local_agent_uscc: Option<&'a str>,
    product: &'a str,
    model: &'a str,
    category: &'a str,
    /// The category's names (`category` is its code).
    category_zh: &'a str,
    category_en: &'a str,
    firmware: &'a [String],
    tier: u8,
    issued: Day,
    valid_from: Day,
    valid_until: Day,
    lab: &'a str,
    evidence: &'a [starmark_core::record::Evidence],
    supersedes: Option<u64>,
    superseded_by: Option<u64>,
    status: &'static str,
    revocation: Option<starmark_core::Revocation>,
    key_id: String,
    record_sha256: String,
    signature_digits: &'a str,
    verify_path: String,
    record_path: String,
    label_svg_path: String,
    label_png_path: String,
}

/// The JSON of one certification, in its catalogue `category`.
pub fn cert_json(
    c: &VerifiedCert,
    full: &Full,
    category: &Category,
    digits: &str,
) -> serde_json::Result<Vec<u8>> {
    let r = &full.record;
    let claim = c.signed.claim();
    let j = CertJson {
        serial: r.serial,
        number: number(r.serial),
        manufacturer: &r.manufacturer,
        manufacturer_en: r.manufacturer_en.as_deref(),
        manufacturer_uscc: r.manufacturer_uscc.as_deref(),
        local_agent: r.local_agent.as_deref(),
        local_agent_uscc: r.local_agent_uscc.as_deref(),
        product: &r.product,
        model: &r.model,
        category: &r.category,
        category_zh: &category.zh,
        category_en: &category.en,
        firmware: &r.firmware,
        tier: r.tier.stars(),
        issued: r.issued,
        valid_from: r.valid_from,
        valid_until: r.valid_until,
        lab: &r.lab,
        evidence: &r.evidence,
        supersedes: r.supersedes,
        superseded_by: c.superseded_by,
        status: c.status.name(),
        revocation: c.revocation,
        key_id: claim.key_id.to_string(),
        record_sha256: to_hex(&claim.record_sha256),
        signature_digits: digits,
        verify_path: format!("verify/#{digits}"),
        record_path: format!("records/{}.md", r.serial),
        label_svg_path: format!("labels/{}.svg", r.serial),
        label_png_path: format!("labels/{}.png", r.serial),
    };
    pretty(&j)
}

fn pretty<T: Serialize>(v: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = serde_json::to_vec_pretty(v)?;
    out.push(b'\n');
    Ok(out)
}

/// What `api/v1/index.json` says of the registry besides its certifications.
pub struct IndexHead<'a> {
    /// The registry's name (Chinese).
    pub registry: &'a str,
    /// Its English name, when it has one.
    pub registry_en: Option<&'a str>,
    /// The catalogue, for the names of the rows' category codes.
    pub categories: &'a [Category],
}

/// `api/v1/index.json`: every certification, one compact row each, in serial order.
pub fn index_json(
    certs: &BTreeMap<u64, VerifiedCert>,
    as_of: u64,
    head: &IndexHead<'_>,
) -> serde_json::Result<Vec<u8>> {
    index_in_slices(certs, as_of, head, INDEX_SLICE)
}

/// The layout of `api/v1/index.json`.
#[derive(Serialize)]
struct Index<'a> {
    registry: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    registry_en: Option<&'a str>,
    as_of: Day,
    count: usize,
    categories: &'a [Category],
    certificates: Vec<Row<'a>>,
}

/// [`index_json`] with `slice` rows serialised per task.
fn index_in_slices(
    certs: &BTreeMap<u64, VerifiedCert>,
    as_of: u64,
    head: &IndexHead<'_>,
    slice: usize,
) -> serde_json::Result<Vec<u8>> {
    // The object with an empty list, then the rows serialised in parallel in slices and
    // spliced in: the bytes of serialising it all at once (a test checks it).
    let head = serde_json::to_vec(&Index {
        registry: head.registry,
        registry_en: head.registry_en,
        as_of: Day::from_unix(as_of),
        count: certs.len(),
        categories: head.categories,
        certificates: Vec::new(),
    })?;
    let Some(open) = head.strip_suffix(b"[]}") else {
        return Err(serde::ser::Error::custom("index.json: unexpected layout"));
    };
    let all: Vec<&VerifiedCert> = certs.values().collect();
    let slices: Vec<Vec<u8>> = all
        .par_chunks(slice.max(1))
        .map(|slice| {
            let mut buf = Vec::with_capacity(slice.len() * 320);
            for (i, c) in slice.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                serde_json::to_writer(&mut buf, &Row::of(c))?;
            }
            Ok(buf)
        })
        .collect::<serde_json::Result<_>>()?;
    let mut out = Vec::with_capacity(open.len() + slices.iter().map(Vec::len).sum::<usize>() + 8);
    out.extend_from_slice(open);
    out.push(b'[');
    for (i, slice) in slices.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(slice);
    }
    out.extend_from_slice(b"]}\n");
    Ok(out)
}

/// Rows per slice of [`index_json`].
const INDEX_SLICE: usize = 1000;

/// Where the claims are published: `index.json` and one bundle per 1,000 serials.
pub const CLAIMS_DIR: &str = "api/v1/claims";
/// Serials per claims shard.
pub const CLAIMS_SHARD: u64 = 1000;

/// The shard of a serial: `api/v1/claims/<serial / 1000>.bin`.
pub fn claims_shard_path(block: u64) -> String {
    format!("{CLAIMS_DIR}/{block}.bin")
}

/// The serials of shard `block`.
pub fn claims_block(block: u64) -> std::ops::Range<u64> {
    block * CLAIMS_SHARD..(block + 1).saturating_mul(CLAIMS_SHARD)
}

/// The shards of these serials (in order), each once.
pub fn claims_shards(serials: impl Iterator<Item = u64>) -> Vec<u64> {
    let mut blocks: Vec<u64> = serials.map(|s| s / CLAIMS_SHARD).collect();
    blocks.dedup();
    blocks
}

/// The serials whose record files the claims shards carry, in order: for each distinct pair of
/// manufacturer and English name, the lowest serial that carries it (the proof of that English
/// name); docs/FORMAT.md section 12.
pub fn claims_proofs(certs: &BTreeMap<u64, VerifiedCert>) -> Vec<u64> {
    let mut seen: foldhash::HashSet<(&str, &str)> = foldhash::HashSet::new();
    // In serial order, so that the first of a pair is its lowest serial.
    certs
        .values()
        .filter(|c| {
            c.summary
                .manufacturer_en
                .as_deref()
                .is_some_and(|en| seen.insert((c.summary.manufacturer.as_str(), en)))
        })
        .map(|c| c.summary.serial)
        .collect()
}

/// `api/v1/claims/index.json`: the number of claims and the shards of [`claims_shards`].
pub fn claims_index(certs: &BTreeMap<u64, VerifiedCert>) -> serde_json::Result<Vec<u8>> {
    let blocks = claims_shards(certs.keys().copied());
    let index = serde_json::json!({
        "format": "starmark-claims-v1",
        "shard_serials": CLAIMS_SHARD,
        "claims": certs.len(),
        "shards": blocks.iter().map(|b| format!("{b}.bin")).collect::<Vec<_>>(),
    });
    serde_json::to_vec_pretty(&index)
}

/// The claims shard `api/v1/claims/<block>.bin`: every signed claim of the block's serials in
/// serial order, and the record files of the `proofs` (of [`claims_proofs`]) in the block.
/// A changed record changes one shard.
pub fn claims_shard(
    certs: &BTreeMap<u64, VerifiedCert>,
    block: u64,
    proofs: &[u64],
) -> anyhow::Result<Vec<u8>> {
    let range = claims_block(block);
    let records = proofs
        .iter()
        .filter(|s| range.contains(s))
        .map(|s| {
            let c = certs
                .get(s)
                .ok_or_else(|| anyhow::anyhow!("certification {s} went missing"))?;
            c.full().map(|f| f.bytes.as_slice())
        })
        .collect::<anyhow::Result<Vec<&[u8]>>>()?;
    let bundle = starmark_core::bundle::Bundle {
        claims: certs
            .range(range)
            .map(|(_, c)| c.signed.as_bytes())
            .collect(),
        records,
    };
    Ok(bundle.encode()?)
}

/// Where the verify page learns which certifications are superseded.
pub const SUPERSEDED_PATH: &str = "api/v1/superseded.json";

/// `api/v1/superseded.json`: for every certification that a newer record `supersedes`, the
/// newest such certification, as `{"superseded_by": {"<serial>": <serial>}}` (a serial above
/// 2^53 - 1 as a string, as in the verdict report). The verify page reads it whole, so that
/// which label was scanned is never asked of the server (docs/FORMAT.md).
pub fn superseded_json(certs: &BTreeMap<u64, VerifiedCert>) -> serde_json::Result<Vec<u8>> {
    use starmark_core::report::Int;
    /// The pairs in serial order (a string-keyed map would sort "12" before "9").
    struct Pairs(Vec<(u64, u64)>);
    impl Serialize for Pairs {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(self.0.iter().map(|&(old, new)| (old.to_string(), Int(new))))
        }
    }
    #[derive(Serialize)]
    struct Superseded {
        superseded_by: Pairs,
    }
    // `certs` is ordered by serial.
    let pairs = certs
        .values()
        .filter_map(|c| c.superseded_by.map(|new| (c.summary.serial, new)))
        .collect();
    let mut v = serde_json::to_vec(&Superseded {
        superseded_by: Pairs(pairs),
    })?;
    v.push(b'\n');
    Ok(v)
}

/// `api/v1/trust-list.json`.
pub fn trust_json(t: &TrustList) -> serde_json::Result<Vec<u8>> {
    pretty(t)
}

/// `api/v1/revocation-list.json`.
pub fn revocation_json(r: &RevocationList) -> serde_json::Result<Vec<u8>> {
    #[derive(Serialize)]
    struct J<'a> {
        key_id: String,
        sequence: u64,
        issued_at: u64,
        next_update: u64,
        issued_at_day: Day,
        next_update_day: Day,
        count: usize,
        entries: &'a [starmark_core::Revocation],
    }
    pretty(&J {
        key_id: r.key_id.to_string(),
        sequence: r.sequence,
        issued_at: r.issued_at,
        next_update: r.next_update,
        issued_at_day: Day::from_unix(r.issued_at),
        next_update_day: Day::from_unix(r.next_update),
        count: r.entries.len(),
        entries: &r.entries,
    })
}

/// One shard of the search index: self-contained columnar rows
/// `[serial, number, maker index, model, product, tier, category index, status index, valid_until]`
/// with the shard's own table of manufacturer names (`makers`) and, at the same index, their
/// English names (`makers_en`, empty where none; the first a record of the shard gives).
pub fn search_shard(certs: &[&VerifiedCert], categories: &[String]) -> serde_json::Result<Vec<u8>> {
    let mut makers: Vec<&str> = certs
        .iter()
        .map(|c| c.summary.manufacturer.as_str())
        .collect();
    makers.sort_unstable();
    makers.dedup();
    let mut english: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for c in certs {
        if let Some(en) = c.summary.manufacturer_en.as_deref() {
            english.entry(c.summary.manufacturer.as_str()).or_insert(en);
        }
    }
    let makers_en: Vec<&str> = makers
        .iter()
        .map(|m| english.get(m).copied().unwrap_or(""))
        .collect();
    let maker_ix = |m: &str| makers.binary_search(&m).unwrap_or(0);
    let cat_ix = |c: &str| categories.iter().position(|x| x == c).unwrap_or(0);
    let status_ix = |s: Status| Status::ALL.iter().position(|x| *x == s).unwrap_or(0);
    let rows: Vec<serde_json::Value> = certs
        .iter()
        .map(|c| {
            let r = &c.summary;
            serde_json::json!([
                r.serial,
                number(r.serial),
                maker_ix(&r.manufacturer),
                r.model,
                r.product,
                r.tier,
                cat_ix(&r.category),
                status_ix(c.status),
                r.valid_until.to_string()
            ])
        })
        .collect();
    let mut bytes = serde_json::to_vec(
        &serde_json::json!({ "makers": makers, "makers_en": makers_en, "rows": rows }),
    )?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// `search/meta.json`: the shard files and the code tables the rows refer to: the category
/// codes, with their Chinese and English names at the same index, and the statuses.
pub fn search_meta(
    count: usize,
    shards: &[String],
    categories: &[Category],
) -> serde_json::Result<Vec<u8>> {
    let statuses: Vec<&str> = Status::ALL.iter().map(|s| s.name()).collect();
    let codes: Vec<&str> = categories.iter().map(|c| c.code.as_str()).collect();
    let zh: Vec<&str> = categories.iter().map(|c| c.zh.as_str()).collect();
    let en: Vec<&str> = categories.iter().map(|c| c.en.as_str()).collect();
    let mut meta = serde_json::to_vec(&serde_json::json!({
        "count": count,
        "shards": shards,
        "categories": codes,
        "categories_zh": zh,
        "categories_en": en,
        "statuses": statuses,
    }))?;
    meta.push(b'\n');
    Ok(meta)
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// Entries in the Atom feed.
pub const FEED_ENTRIES: usize = 200;

/// `feed.xml`: the newest certifications and revocations, newest first (Atom).
pub fn feed(
    certs: &BTreeMap<u64, VerifiedCert>,
    revocations: &RevocationList,
    base_url: &str,
    title: &str,
) -> Vec<u8> {
    struct Entry {
        day: Day,
        id: String,
        title: String,
        link: String,
    }
    // Only the newest entries are written: find the day of the last one that makes it, then
    // format just the entries of that day or later.
    let mut days: Vec<Day> = certs.values().map(|c| c.summary.issued).collect();
    days.extend(revocations.entries.iter().map(|r| r.date));
    let cutoff = if days.len() > FEED_ENTRIES {
        let (_, nth, _) = days.select_nth_unstable_by(FEED_ENTRIES - 1, |a, b| b.cmp(a));
        *nth
    } else {
        Day(0)
    };
    let mut entries: Vec<Entry> = certs
        .values()
        .filter(|c| c.summary.issued >= cutoff)
        .map(|c| {
            let r = &c.summary;
            Entry {
                day: r.issued,
                id: format!("{base_url}/cert/{}.html#issued", r.serial),
                title: format!(
                    "{} {} {} ★{}",
                    number(r.serial),
                    r.manufacturer,
                    r.model,
                    r.tier
                ),
                link: format!("{base_url}/cert/{}.html", r.serial),
            }
        })
        .collect();
    for rv in revocations.entries.iter().filter(|r| r.date >= cutoff) {
        let who = certs
            .get(&rv.serial)
            .map(|c| format!(" {} {}", c.summary.manufacturer, c.summary.model))
            .unwrap_or_default();
        entries.push(Entry {
            day: rv.date,
            id: format!("{base_url}/cert/{}.html#revoked", rv.serial),
            title: format!("REVOKED {}{who} ({})", number(rv.serial), rv.reason.name()),
            link: format!("{base_url}/cert/{}.html", rv.serial),
        });
    }
    entries.sort_by(|a, b| b.day.cmp(&a.day).then_with(|| a.id.cmp(&b.id)));
    entries.truncate(FEED_ENTRIES);
    let updated = entries.first().map_or(Day(0), |e| e.day);
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    x.push_str(&format!(
        "  <title>{}</title>\n  <id>{}/</id>\n  <updated>{updated}T00:00:00Z</updated>\n",
        xml_escape(title),
        xml_escape(base_url)
    ));
    x.push_str(&format!(
        "  <link rel=\"self\" href=\"{}/feed.xml\"/>\n  <author><name>{}</name></author>\n",
        xml_escape(base_url),
        xml_escape(title)
    ));
    for e in entries {
        x.push_str(&format!(
            "  <entry>\n    <id>{}</id>\n    <title>{}</title>\n    <updated>{}T00:00:00Z</updated>\n    <link href=\"{}\"/>\n  </entry>\n",
            xml_escape(&e.id),
            xml_escape(&e.title),
            e.day,
            xml_escape(&e.link)
        ));
    }
    x.push_str("</feed>\n");
    x.into_bytes()
}

/// The file names of the sitemap of `count` pages: `sitemap.xml` last.
pub fn sitemap_names(count: usize) -> Vec<String> {
    if count <= SITEMAP_URLS {
        return vec!["sitemap.xml".into()];
    }
    let mut names: Vec<String> = (0..count.div_ceil(SITEMAP_URLS))
        .map(|i| format!("sitemap-{i}.xml"))
        .collect();
    names.push("sitemap.xml".into());
    names
}

/// `sitemap.xml` (a sitemap index when there are more URLs than one file may hold) and its parts,
/// in the order of [`sitemap_names`].
pub fn sitemaps(paths: &[String], base_url: &str) -> Vec<Vec<u8>> {
    let urlset = |chunk: &[String]| {
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
        for p in chunk {
            x.push_str(&format!(
                "  <url><loc>{}/{}</loc></url>\n",
                xml_escape(base_url),
                xml_escape(p)
            ));
        }
        x.push_str("</urlset>\n");
        x.into_bytes()
    };
    if paths.len() <= SITEMAP_URLS {
        return vec![urlset(paths)];
    }
    let mut out = Vec::new();
    let mut index = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for (i, chunk) in paths.chunks(SITEMAP_URLS).enumerate() {
        let name = format!("sitemap-{i}.xml");
        index.push_str(&format!(
            "  <sitemap><loc>{}/{name}</loc></sitemap>\n",
            xml_escape(base_url)
        ));
        out.push(urlset(chunk));
    }
    index.push_str("</sitemapindex>\n");
    out.push(index.into_bytes());
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn index_in_slices_is_the_index_serialised_at_once() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../site");
        let reg = Registry::open(&dir).unwrap();
        let lists = super::super::load::lists(&reg, None).unwrap();
        let loaded = super::super::load::load(&reg, lists, false).unwrap();
        let at_once = serde_json::to_vec(&Index {
            registry: "Demo",
            registry_en: Some("Demo (en)"),
            as_of: Day::from_unix(loaded.as_of),
            count: loaded.certs.len(),
            categories: &reg.config.categories,
            certificates: loaded.certs.values().map(Row::of).collect(),
        })
        .unwrap();
        assert!(loaded.certs.len() > 7);
        let head = IndexHead {
            registry: "Demo",
            registry_en: Some("Demo (en)"),
            categories: &reg.config.categories,
        };
        for slice in [1, 2, 3, 7, 1000] {
            let sliced = index_in_slices(&loaded.certs, loaded.as_of, &head, slice).unwrap();
            assert_eq!(
                sliced.strip_suffix(b"\n").unwrap(),
                &at_once[..],
                "slices of {slice}"
            );
        }
    }

    #[test]
    fn claims_shards_are_blocks_of_1000_serials_in_order() {
        let blocks = claims_shards([1, 999, 1000, 20260000, 20260999, 20261000].into_iter());
        assert_eq!(blocks, vec![0, 1, 20260, 20261]);
        assert_eq!(claims_shard_path(20260), "api/v1/claims/20260.bin");
    }

    #[test]
    fn claims_bundle_holds_every_claim_and_one_record_per_english_name() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../site");
        let reg = Registry::open(&dir).unwrap();
        let lists = super::super::load::lists(&reg, None).unwrap();
        let loaded = super::super::load::load(&reg, lists, false).unwrap();
        let proofs = claims_proofs(&loaded.certs);
        let mut files = vec![claims_index(&loaded.certs).unwrap()];
        for block in claims_shards(loaded.certs.keys().copied()) {
            files.push(claims_shard(&loaded.certs, block, &proofs).unwrap());
        }
        let index: serde_json::Value = serde_json::from_slice(&files[0]).unwrap();
        assert_eq!(
            index["shards"],
            serde_json::json!(["0.bin"]),
            "serials 1 to 30"
        );
        assert_eq!(index["claims"], loaded.certs.len());
        assert_eq!(files.len(), 2);
        let bytes = files[1..].concat();
        let bundle = starmark_core::bundle::Bundle::decode_all(&bytes).unwrap();
        let claims: Vec<&[u8]> = loaded.certs.values().map(|c| c.signed.as_bytes()).collect();
        assert_eq!(bundle.claims, claims, "every claim, in serial order");
        let mut pairs: Vec<(String, String)> = loaded
            .certs
            .values()
            .filter_map(|c| {
                let en = c.summary.manufacturer_en.clone()?;
                Some((c.summary.manufacturer.clone(), en))
            })
            .collect();
        pairs.sort();
        pairs.dedup();
        assert_eq!(bundle.records.len(), pairs.len());
        assert!(pairs.len() > 10 && pairs.len() < loaded.certs.len());
        let mut serials = Vec::new();
        for r in &bundle.records {
            let names = starmark_core::listings::RecordNames::read(r).unwrap();
            let c = &loaded.certs[&names.serial()];
            assert!(
                c.signed.claim().matches_record(r),
                "a record some claim signs"
            );
            // The lowest serial of its pair.
            let pair = (&c.summary.manufacturer, &c.summary.manufacturer_en);
            assert!(loaded
                .certs
                .values()
                .filter(|o| (&o.summary.manufacturer, &o.summary.manufacturer_en) == pair)
                .all(|o| o.summary.serial >= names.serial()));
            serials.push(names.serial());
        }
        assert!(serials.windows(2).all(|w| w[0] < w[1]), "in serial order");
    }
}

/// Where the build publishes what a rebuild of the site needs besides its signed inputs.
pub const BUILD_PATH: &str = "api/v1/build.json";

/// `api/v1/build.json`: the starmark version that built the site, the SHA-256 of its templates
/// (starmark's own with the registry's overrides: see `templates_digest`), and the registry's
/// configuration without `[keys]` (which names files of the registry, not of the site). With
/// the published records, lists and log, `audit --rebuild` builds the same site from it.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildInfo {
    /// `CARGO_PKG_VERSION` of the starmark that built the site.
    pub starmark: String,
    /// Hex SHA-256 of the templates, strings and static files.
    pub templates_sha256: String,
    /// `starmark.toml` as JSON, without `keys`.
    pub config: serde_json::Value,
}

/// The bytes of `api/v1/build.json`.
pub fn build_info(
    config: &crate::registry::Config,
    templates: &[u8; 32],
) -> anyhow::Result<Vec<u8>> {
    let mut config = serde_json::to_value(config)?;
    if let Some(map) = config.as_object_mut() {
        map.remove("keys");
    }
    let info = BuildInfo {
        starmark: env!("CARGO_PKG_VERSION").to_string(),
        templates_sha256: to_hex(templates),
        config,
    };
    let mut bytes = serde_json::to_vec_pretty(&info)?;
    bytes.push(b'\n');
    Ok(bytes)
}
