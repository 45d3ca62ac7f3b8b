//! `starmark demo --synthetic N --out DIR`: a registry of N signed, realistic synthetic records.

use anyhow::{bail, Context, Result};
use rayon::prelude::*;
use starmark_core::claim::SignedClaim;
use starmark_core::date::SECONDS_PER_DAY;
use starmark_core::log::Entry;
use starmark_core::record::Record;
use starmark_core::{Day, Reason, Revocation};

use crate::cli::{DemoArgs, InitArgs};
use crate::fsutil;
use crate::registry::{Registry, RECORDS_DIR, REVOCATION_LIST_FILE};

const CITIES: &[&str] = &[
    "深圳市",
    "杭州市",
    "北京市",
    "上海市",
    "广州市",
    "厦门市",
    "苏州市",
    "成都市",
    "武汉市",
    "南京市",
    "东莞市",
    "合肥市",
];
const NAMES: &[&str] = &[
    "星联", "云启", "安芯", "智御", "华睿", "天弘", "博瑞", "恒安", "锐捷", "海鸥", "宏图", "卓信",
    "明德", "凌云", "瀚海", "启航",
];
const SUFFIXES: &[&str] = &[
    "科技有限公司",
    "智能科技有限公司",
    "电子股份有限公司",
    "网络技术有限公司",
    "信息技术有限公司",
    "物联科技有限公司",
];
const EN_CITIES: &[&str] = &[
    "Shenzhen",
    "Hangzhou",
    "Beijing",
    "Shanghai",
    "Guangzhou",
    "Xiamen",
    "Suzhou",
    "Chengdu",
    "Wuhan",
    "Nanjing",
    "Dongguan",
    "Hefei",
];
const EN_NAMES: &[&str] = &[
    "Xinglian", "Yunqi", "Anxin", "Zhiyu", "Huarui", "Tianhong", "Borui", "Heng'an", "Ruijie",
    "Haiou", "Hongtu", "Zhuoxin", "Mingde", "Lingyun", "Hanhai", "Qihang",
];
const PRODUCTS: &[(&str, &str, &str)] = &[
    ("router", "双频千兆无线路由器", "RT"),
    ("smart-camera", "高清智能摄像头", "CAM"),
    ("smart-lock", "指纹密码智能门锁", "LK"),
    ("smart-speaker", "智能语音音箱", "SP"),
    ("smart-tv", "4K 智能电视", "TV"),
    ("wearable", "智能手表", "WT"),
    ("smart-plug", "Wi-Fi 智能插座", "PL"),
    ("baby-monitor", "婴儿看护器", "BM"),
    ("ind-gateway", "工业物联网网关", "GW"),
    ("plc", "可编程逻辑控制器", "PLC"),
    ("ind-switch", "工业以太网交换机", "SW"),
    ("ev-charger", "交流充电桩", "EV"),
];

/// A small deterministic generator (SplitMix64), so the same N gives the same registry content.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// The text of synthetic record `i` (1-based).
fn record_text(i: u64, makers: u64) -> String {
    let mut rng = Rng(i.wrapping_mul(0x2545_F491_4F6C_DD1D));
    let maker = i % makers;
    let mut mrng = Rng(maker.wrapping_add(7));
    let (ci, ni, si) = (
        mrng.below(CITIES.len()),
        mrng.below(NAMES.len()),
        mrng.below(SUFFIXES.len()),
    );
    let manufacturer = format!(
        "{}{}{}{}",
        CITIES[ci],
        NAMES[ni],
        maker / 192 % 10,
        SUFFIXES[si]
    );
    let manufacturer_en = format!(
        "{} {} {} Technology Co., Ltd.",
        EN_CITIES[ci],
        EN_NAMES[ni],
        maker / 192 % 10
    );
    let (category, product, prefix) = *rng.pick(PRODUCTS);
    let model = format!(
        "{}-{}{}",
        prefix,
        1000 + rng.below(9000),
        ["", "S", "Pro", "X"][rng.below(4)]
    );
    let tier = 1 + rng.below(3);
    let start = Day::parse("2026-07-01").map_or(20_635, |d| d.0) + rng.below(140) as u16;
    let pilot = i.is_multiple_of(50);
    let until = if pilot {
        start + 90
    } else {
        start + 3 * 365 - 1
    };
    let fw = format!("{}.{}.{}", 1 + rng.below(4), rng.below(10), rng.below(20));
    let mut s = String::with_capacity(1400);
    s.push_str("+++\n");
    s.push_str(&format!("serial = {}\n", 20_260_000 + i));
    s.push_str(&format!(
        "manufacturer = \"{manufacturer}\"\nmanufacturer_en = \"{manufacturer_en}\"\n"
    ));
    s.push_str(&format!(
        "product = \"{}{product}\"\nmodel = \"{model}\"\ncategory = \"{category}\"\n",
        NAMES[ni]
    ));
    s.push_str(&format!("firmware = [\"{fw}\"]\ntier = {tier}\n"));
    s.push_str(&format!(
        "issued = {}\nvalid_from = {}\nvalid_until = {}\n",
        Day(start),
        Day(start),
        Day(until)
    ));
    s.push_str("lab = \"国家网络安全产品检测实验室（合成数据）\"\n");
    s.push_str(&format!("[[evidence]]\nname = \"test-report-{model}.pdf\"\nsha256 = \"{:016x}{:016x}{:016x}{:016x}\"\n", rng.next(), rng.next(), rng.next(), rng.next()));
    s.push_str("+++\n");
    s.push_str(&format!("## 检测结果摘要 / Test results summary\n\n合成数据，仅用于演示和性能测试。Synthetic data for demos and benchmarks.\n\n固件版本 / Firmware: `{fw}`\n\n"));
    s.push_str("| 检测项目 / Test item | 要求 / Requirement | 结果 / Result |\n|---|---|---|\n");
    s.push_str("| 默认口令 / Default passwords | 无通用默认口令 | 通过 / Pass |\n");
    s.push_str("| 远程更新 / Remote update | 签名固件在线升级 | 通过 / Pass |\n");
    s.push_str(&format!(
        "| 漏洞扫描 / Vulnerability scan | 无高危漏洞 | 通过，{} 个低危 / Pass, {} low |\n",
        rng.below(4),
        rng.below(4)
    ));
    if tier == 3 {
        s.push_str("| 渗透测试 / Penetration test | 授权实验室第三方测试 | 通过 / Pass |\n");
    }
    s.push_str("\n- 数据加密：传输与存储加密 / Data encrypted in transit and at rest\n");
    s
}

pub fn run(args: &DemoArgs) -> Result<u8> {
    if args.synthetic == 0 || args.synthetic > 10_000_000 {
        bail!(
            "--synthetic: {} is not between 1 and 10000000",
            args.synthetic
        );
    }
    let init = InitArgs {
        dir: args.out.clone(),
        name: format!("合成演示登记簿（{} 张证书）", args.synthetic),
        name_en: Some(format!(
            "Synthetic demo registry ({} certifications)",
            args.synthetic
        )),
        base_url: "https://label.example.cn".into(),
        issuer_name: "Demo issuer (synthetic)".into(),
        issuer_valid_from: Some("2026-01-01".into()),
    };
    let (_root, issuer, _config) = super::init::create(&init)?;
    let key_id = issuer.public_key().key_id();
    let dir = args.out.join(RECORDS_DIR);
    let makers = (args.synthetic / 20).max(1);
    // Signed in parallel, logged in serial order.
    let claims: Vec<SignedClaim> = (1..=args.synthetic)
        .into_par_iter()
        .map(|i| -> Result<SignedClaim> {
            let text = record_text(i, makers);
            let record =
                Record::parse(&text).map_err(|e| anyhow::anyhow!("synthetic record {i}: {e}"))?;
            let signed = record.claim(key_id, text.as_bytes()).sign(&issuer)?;
            let sub = dir.join(format!("{:03}", i / 1000));
            std::fs::create_dir_all(&sub)
                .with_context(|| format!("{}: cannot create", sub.display()))?;
            let path = sub.join(format!("{}.md", record.serial));
            std::fs::write(&path, &text)
                .with_context(|| format!("{}: cannot write", path.display()))?;
            let digits = starmark_core::qr::encode_digits(signed.as_bytes());
            std::fs::write(path.with_extension("sig"), format!("{digits}\n"))
                .with_context(|| format!("{}: cannot write", path.display()))?;
            Ok(signed)
        })
        .collect::<Result<_>>()?;

    // 1% revoked, spread over reasons and dates; the list stays fresh for a year.
    let mut rng = Rng(42);
    let reg = Registry::open(&args.out)?;
    let trust = reg.trust_list()?;
    let mut list = reg.revocation_list(&trust)?;
    for i in (1..=args.synthetic).filter(|i| i % 100 == 37) {
        let date = Day(Day::parse("2026-08-01").map_or(20_666, |d| d.0) + rng.below(110) as u16);
        let reason = Reason::ALL[rng.below(Reason::ALL.len())];
        list.insert(Revocation {
            serial: 20_260_000 + i,
            date,
            reason,
        });
    }
    let issued = Day::parse("2026-11-25").map_or(0, Day::start_unix);
    list.sequence += 1;
    list.issued_at = issued;
    list.next_update = issued + 365 * SECONDS_PER_DAY;
    let bytes = list.sign(&issuer)?;
    let mut entries: Vec<Entry> = claims.into_iter().map(Entry::Claim).collect();
    entries.push(Entry::revocation_list(list.sequence, &bytes));
    crate::log::append(&reg, &trust, &trust, &entries)?;
    fsutil::write_atomic(&args.out.join(REVOCATION_LIST_FILE), &bytes)?;
    outln!(
        "created synthetic registry {} with {} signed records ({} revoked); build it with `starmark build {}`",
        args.out.display(),
        args.synthetic,
        list.entries.len(),
        args.out.display()
    );
    Ok(crate::EXIT_OK)
}
