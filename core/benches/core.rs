//! Benchmarks of `starmark-core`: verifying a typical label, and the revocation list of a
//! registry of a million certifications with 1% revoked (decode, lookup, encode and sign).
//!
//! `cargo bench -p starmark-core --bench core`; prints the encoded list size first and fails if
//! it is over 32 KiB.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// Benchmarks print their figures (clippy.toml disallows printing macros for the binary).
#![allow(clippy::disallowed_macros)]

use std::collections::BTreeMap;
use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput};
use starmark_core::claim::record_digest;
use starmark_core::qr;
use starmark_core::{
    verify_payload, Claim, Context, Day, IssuerKey, Reason, Revocation, RevocationList, SecretKey,
    SignedClaim, Tier, TrustList, Verdict,
};

/// Certifications in the registry.
const CERTIFICATIONS: u64 = 1_000_000;
/// Revoked certifications (1%).
const REVOKED: usize = 10_000;
/// The design's bound for such a list on the wire.
const MAX_LIST_BYTES: usize = 32 * 1024;

/// A deterministic xorshift64 generator, so every run benchmarks the same list.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Fixture {
    issuer: SecretKey,
    trust: TrustList,
    /// The revocation list, decoded.
    list: RevocationList,
    /// The revocation list, signed and encoded.
    list_bytes: Vec<u8>,
    /// A typical label's QR digits.
    digits: String,
    /// Serials to look up: half revoked, half not.
    probes: Vec<u64>,
}

fn day(s: &str) -> Day {
    Day::parse(s).unwrap()
}

impl Fixture {
    fn new() -> Fixture {
        let root = SecretKey::from_seed(&[0x01; 32]);
        let issuer = SecretKey::from_seed(&[0x11; 32]);
        let trust_bytes = TrustList {
            log_keys: Vec::new(),
            sequence: 1,
            issued_at: day("2026-06-01").start_unix(),
            issuers: vec![IssuerKey::new(
                issuer.public_key(),
                "Demo issuer".into(),
                day("2026-01-01"),
                day("2030-12-31"),
            )],
        }
        .sign(&root)
        .unwrap();
        let trust = TrustList::decode_verified(&trust_bytes, &root.public_key()).unwrap();

        // 10,000 distinct serials from 1..=1,000,000, dates over the label scheme's first three
        // years, reasons over all six codes.
        let mut rng = XorShift(0x5eed_1234_abcd_ef01);
        let first = day("2026-07-01");
        let span = u64::from(day("2029-06-30").0 - first.0) + 1;
        let mut entries = BTreeMap::new();
        while entries.len() < REVOKED {
            let serial = 1 + rng.below(CERTIFICATIONS);
            let date = Day(first.0 + rng.below(span) as u16);
            let reason = Reason::ALL[rng.below(Reason::ALL.len() as u64) as usize];
            entries.entry(serial).or_insert(Revocation {
                serial,
                date,
                reason,
            });
        }
        let list = RevocationList {
            key_id: issuer.public_key().key_id(),
            sequence: 42,
            issued_at: day("2029-07-01").start_unix(),
            next_update: day("2029-07-08").start_unix(),
            entries: entries.into_values().collect(),
        };
        let list_bytes = list.sign(&issuer).unwrap();
        assert_eq!(
            RevocationList::decode_verified(&list_bytes, &trust).unwrap(),
            list
        );

        let claim = Claim {
            key_id: issuer.public_key().key_id(),
            serial: 20_260_001,
            tier: Tier::Two,
            category: "router".into(),
            valid_from: day("2026-07-01"),
            valid_until: day("2029-06-30"),
            manufacturer: "深圳星联智能科技有限公司".into(),
            model: "XL-AX3000-CN".into(),
            record_sha256: record_digest(b"demo record"),
        };
        let digits = qr::encode_digits(claim.sign(&issuer).unwrap().as_bytes());

        let mut probes: Vec<u64> = list.entries.iter().step_by(20).map(|e| e.serial).collect();
        let revoked = probes.len();
        while probes.len() < 2 * revoked {
            let s = 1 + rng.below(CERTIFICATIONS);
            if list.lookup(s).is_none() {
                probes.push(s);
            }
        }
        Fixture {
            issuer,
            trust,
            list,
            list_bytes,
            digits,
            probes,
        }
    }

    fn ctx(&self) -> Context<'_> {
        Context {
            trust: &self.trust,
            revocations: Some(&self.list),
            now: day("2026-09-03").start_unix(),
            highest_seen_sequence: Some(41),
        }
    }
}

fn bench_verify(c: &mut Criterion, f: &Fixture) {
    let ctx = f.ctx();
    assert_eq!(
        verify_payload(&qr::decode_digits(&f.digits).unwrap(), &ctx).verdict,
        Verdict::Valid
    );
    let mut g = c.benchmark_group("label");
    g.bench_function("decode_digits", |b| {
        b.iter(|| qr::decode_digits(black_box(&f.digits)).unwrap())
    });
    let payload = qr::decode_digits(&f.digits).unwrap();
    g.bench_function("signed_claim_decode", |b| {
        b.iter(|| SignedClaim::decode(black_box(&payload)).unwrap())
    });
    g.bench_function("digits_decode_and_verify_payload", |b| {
        // verify_payload decodes the signed claim, then runs every step of the verdict.
        b.iter(|| verify_payload(&qr::decode_digits(black_box(&f.digits)).unwrap(), &ctx))
    });
    g.finish();
}

fn bench_list(c: &mut Criterion, f: &Fixture) {
    let mut g = c.benchmark_group("revocation_list_1m_certs_10k_revoked");
    g.throughput(Throughput::Elements(REVOKED as u64));
    g.bench_function("decode_verified", |b| {
        b.iter(|| RevocationList::decode_verified(black_box(&f.list_bytes), &f.trust).unwrap())
    });
    g.bench_function("decode_unverified", |b| {
        b.iter(|| RevocationList::decode_unverified(black_box(&f.list_bytes)).unwrap())
    });
    g.bench_function("encode_and_sign", |b| {
        b.iter_batched(
            || f.list.clone(),
            |list| list.sign(&f.issuer).unwrap(),
            BatchSize::SmallInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("revocation_lookup");
    let probes = &f.probes;
    let mut i = 0usize;
    g.bench_function("lookup", |b| {
        b.iter(|| {
            i = (i + 1) % probes.len();
            f.list.lookup(black_box(probes[i]))
        })
    });
    g.finish();
}

fn main() {
    let f = Fixture::new();
    let size = f.list_bytes.len();
    println!(
        "revocation list: {CERTIFICATIONS} certifications, {REVOKED} revoked: {size} bytes \
         encoded and signed ({:.2} KiB, limit {MAX_LIST_BYTES} bytes); typical label: {} digits",
        size as f64 / 1024.0,
        f.digits.len()
    );
    assert!(
        size <= MAX_LIST_BYTES,
        "revocation list is {size} bytes, over {MAX_LIST_BYTES}"
    );

    let mut c = Criterion::default().configure_from_args();
    bench_verify(&mut c, &f);
    bench_list(&mut c, &f);
    c.final_summary();
}
