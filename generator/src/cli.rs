//! Command-line arguments (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Exit codes:
  0  success (verify: the label is genuine, valid, and the revocation data is fresh)
  1  verify: any other verdict (expired, not yet valid, revoked, counterfeit, unknown issuer,
     issuer key compromised, malformed) or stale revocation data (also without
     revocation-list.bin: the verdict is given, with a warning); log verify: a file of the
     transparency log does not match (each named); check-listings: at least one listing is
     not ok
  2  usage or input error (bad record, bad key, tampered list, unreadable file)
A closed pipe (`| head -1`) ends the output quietly, with the code above where it was already
known (verify, audit), else 0.";

/// starmark: signed IoT cybersecurity labels, their public registry and offline verification.
#[derive(Debug, Parser)]
#[command(name = "starmark", version, about, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new registry: starmark.toml, keys, a signed trust list, an empty revocation list.
    Init(InitArgs),
    /// Generate an Ed25519 key pair (PATH.key, mode 0600, and PATH.pub).
    Keygen(KeygenArgs),
    /// Manage the trust list of issuer and log keys (re-signed with the root key).
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Sign records: writes RECORD.sig beside each RECORD.md and prints its verify URL.
    Sign(SignArgs),
    /// Revoke a certification: re-signs the revocation list with sequence + 1.
    Revoke(RevokeArgs),
    /// Print the verify URL of a signed record; with --png, write its QR code.
    Qr(QrArgs),
    /// Verify a label: a verify URL, its digits, or a PNG/JPEG photo of one or more QR codes
    /// (every code in the photo is verified; the exit code is the worst).
    #[command(after_help = AFTER_HELP)]
    Verify(VerifyArgs),
    /// Build the public registry site: pages, labels (SVG and PNG), JSON API, feed, sitemap.
    Build(BuildArgs),
    /// Build, serve on 127.0.0.1, and rebuild when a record, list or template changes.
    Serve(ServeArgs),
    /// Make a demo registry of N signed synthetic records (for benchmarks and trying at scale).
    Demo(DemoArgs),
    /// The transparency log: make it for an older registry, check it, print its verifier keys.
    #[command(subcommand, after_help = LOG_HELP)]
    Log(LogCommand),
    /// Sign the site's manifest, or check a site directory against its manifest.
    #[command(subcommand)]
    Manifest(ManifestCommand),
    /// Check a retailer's product listings (CSV, XLSX or JSONL) against the registry's signed
    /// certifications: one result per listing, with its reason, in a CSV, JSON or XLSX report.
    #[command(after_help = LISTINGS_HELP)]
    CheckListings(CheckListingsArgs),
    /// Audit a published site (a directory or an http(s) URL): every file against the signed
    /// manifest, every claim and record, the lists, the transparency log, completeness both ways;
    /// optionally its rebuild, and cosign its checkpoint as a witness.
    #[command(after_help = AUDIT_HELP)]
    Audit(AuditArgs),
    /// Publish witnesses' cosignatures of the log checkpoint (the registry side of `audit
    /// --cosign`).
    #[command(subcommand, after_help = WITNESS_HELP)]
    Witness(WitnessCommand),
    /// Copy a published site into DIR, or bring DIR up to date, verifying everything: the signed
    /// manifest, the trust and revocation lists, the log, every claim and every file.
    #[command(after_help = MIRROR_HELP)]
    Mirror(MirrorArgs),
}

const AUDIT_HELP: &str = "\
Exit codes:
  0  everything held
  1  a problem was found; each is named (manifest, certifications, lists, log, state,
     completeness, witnesses, rebuild)
  2  usage or input error (no root key, unreadable target, state or key file)

With --state FILE the checkpoint, trust list and revocation list sequences seen are kept there,
and the next audit checks that the log only grew (a consistency proof) and that no list went
back; the file is written only when everything held. With --cosign KEY (needs --state) a
successful audit also cosigns the checkpoint as a witness (C2SP tlog-cosignature) into
--cosignature FILE, for the registry's `starmark witness add`.";

const WITNESS_HELP: &str = "\
A witness runs `starmark audit SITE --root HEX --state FILE --cosign KEY`, which writes the
checkpoint with its cosignature; the registry lists the witness in starmark.toml
  [[witness]]
  vkey = \"<the verifier key audit printed>\"
and runs `starmark witness add FILE`, then `starmark build`: log/checkpoint carries the
cosignature and api/v1/witnesses.json (shown on the verify page) counts it.";

/// `starmark audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The site: a directory (a build's output or a mirror) or an http:// or https:// URL.
    pub target: String,
    /// The registry's pinned root public key (64 hex digits). Default: the root key of
    /// --registry, or of the registry TARGET is the output of (TARGET/../starmark.toml).
    #[arg(long, value_name = "HEX")]
    pub root: Option<String>,
    /// A registry directory: its root key (without --root) and, with --rebuild, its
    /// configuration, templates and label font.
    #[arg(long, short = 'r', value_name = "DIR")]
    pub registry: Option<PathBuf>,
    /// The auditor's state: the checkpoint and list sequences seen last time (made when
    /// missing, updated only when everything held).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Rebuild the site from its published signed inputs and compare it file by file.
    #[arg(long)]
    pub rebuild: bool,
    /// Judge freshness at this time: YYYY-MM-DD (00:00 UTC) or Unix seconds. Default: now.
    #[arg(long, value_name = "DATE")]
    pub at: Option<String>,
    /// After a successful audit, cosign the checkpoint with this witness secret key (made by
    /// `starmark keygen`).
    #[arg(long, value_name = "KEYFILE", requires = "state")]
    pub cosign: Option<PathBuf>,
    /// The witness's name in its cosignatures (a key name, e.g. witness.example.org/w1).
    /// Default: witness-<key id>.
    #[arg(long, value_name = "NAME", requires = "cosign")]
    pub witness_name: Option<String>,
    /// Where --cosign writes the cosigned checkpoint.
    #[arg(
        long,
        value_name = "FILE",
        default_value = "checkpoint.cosigned",
        requires = "cosign"
    )]
    pub cosignature: PathBuf,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `starmark witness ...`.
#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Add the cosignatures in FILE (a cosigned checkpoint, or only cosignature lines) of
    /// witnesses listed in [[witness]] to the registry's log checkpoint.
    Add(WitnessAddArgs),
}

/// `starmark witness add`.
#[derive(Debug, Args)]
pub struct WitnessAddArgs {
    /// The file the witness sent.
    pub file: PathBuf,
    #[command(flatten)]
    pub registry: RegistryArg,
}

const MIRROR_HELP: &str = "\
Only what changed is fetched: the manifest's listings that differ, then the files whose size or
SHA-256 differs. The new generation is made beside DIR (.DIR.spare, hard links to the unchanged
files) and exchanged with DIR in one step; until then DIR is not touched, so a refused or
interrupted update leaves it exactly as it was, and the next run resumes with what was already
fetched and verified (.DIR.partial). DIR is the site itself: serve it as it is, from any host and
path. Timeouts: STARMARK_HTTP_TIMEOUT=SECONDS (connect and each read; default 15 and 30).

Exit codes:
  0  DIR is a verified copy of the site (updated, or already up to date)
  1  the update was refused (each problem is named); DIR is as it was
  2  usage or local error (bad root key, DIR not a mirror, unreadable or unwritable files)";

/// `starmark mirror`.
#[derive(Debug, Args)]
pub struct MirrorArgs {
    /// The published site: an https:// or http:// URL of its root, or a local directory.
    pub source: String,
    /// The mirror directory (made if missing; an earlier mirror is brought up to date).
    pub dir: PathBuf,
    /// The registry's pinned root public key (64 hex digits).
    #[arg(long, value_name = "HEX")]
    pub root: String,
    /// Print one JSON object (the report) on stdout.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

const LOG_HELP: &str = "\
The log (REGISTRY/log/) holds every signed claim, revocation list and trust list, in the order
they were signed; `init` makes it, `sign`, `revoke` and `trust` append to it, `build` publishes
it under log/ of the site. A registry made before the log gets one in four steps:
  starmark keygen keys/log
  starmark trust add keys/log.pub --purpose log --name \"Registry log\"
  (set log_secret = \"keys/log.key\" under [keys] in starmark.toml)
  starmark log backfill

Exit codes of `log verify`: 0 the log is whole, 1 a file does not match (each named), 2 usage or
input error (no log, unreadable or refused checkpoint or trust list).";

/// `starmark log ...`.
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Make the log of a registry made before the log existed: every signed claim in serial
    /// order, then the current trust list and revocation list. Refused if there is a log.
    Backfill(LogArgs),
    /// Recompute the log from its entry bundles; check every tile and the signed checkpoint.
    #[command(visible_alias = "check")]
    Verify(LogArgs),
    /// Print the verifier key (`name+id+key`, as Go's note.NewVerifier reads it) of every log
    /// key of the trust list that is not compromised, one per line.
    Key(LogArgs),
}

/// Arguments of the `log` commands.
#[derive(Debug, Args)]
pub struct LogArgs {
    #[command(flatten)]
    pub registry: RegistryArg,
}

const LISTINGS_HELP: &str = "\
Results (one per listing, in this order of precedence; the others found go to the `also` column):
  bad_row            the row cannot be read (the column and value are named)
  counterfeit_label  the label link's signature fails, or it is signed by a key this registry does
                     not trust, or it leads to another site than the registry's
  not_found          no verified certification has this number, label, or manufacturer and model
  ambiguous          no certificate number or label, and several certifications match
  revoked            revoked (date and reason in the report)
  maker_mismatch     the certification is of another manufacturer
  model_mismatch     the certification is for another model
  tier_overclaimed   the listing claims more stars than certified
  expired            the certification's validity has ended
  not_yet_valid      the certification's validity has not started
  stale_data         nothing else wrong, but the revocation list is out of date or missing
  ok                 a valid certification, fresh revocation data

Columns are found by header (证书编号 / certificate number, 标签链接 / label URL, 制造商 /
manufacturer, 型号 / model, 星级 / tier, 商品编号 / listing id, 店铺 / shop); --column ROLE=HEADER
chooses one (ROLE: listing_id, shop, manufacturer, model, tier, certificate, label).

Exit codes:
  0  every listing is ok
  1  at least one listing is not ok
  2  usage or input error (unreadable file, missing column, source refused)";

const MANIFEST_VERIFY_EXIT: &str = "\
Exit codes:
  0  every file matches the manifest, the manifest is signed by a trusted issuer key
  1  a problem was found (each is named): a missing, altered or extra file, a damaged or
     misplaced listing, no manifest, no signature (unless --allow-unsigned), a signature that
     does not verify or is by a key the trust list does not hold or marks compromised
  2  usage or input error (no root key, unreadable directory)";

/// `starmark manifest ...`.
#[derive(Debug, Subcommand)]
pub enum ManifestCommand {
    /// Build the site and sign its manifest with the issuer key of starmark.toml; the signature
    /// is also kept in REGISTRY/manifest.sig, so later builds of the same site publish it.
    Sign(ManifestSignArgs),
    /// Check a site directory against its manifest: the signature, every listing, every file's
    /// size and SHA-256, missing and extra files.
    #[command(after_help = MANIFEST_VERIFY_EXIT)]
    Verify(ManifestVerifyArgs),
}

/// `starmark manifest sign`.
#[derive(Debug, Args)]
pub struct ManifestSignArgs {
    /// The registry directory (with starmark.toml).
    #[arg(default_value = ".")]
    pub registry: PathBuf,
    /// Output directory. Default: REGISTRY/public.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No progress bar and no summary line.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `starmark manifest verify`.
#[derive(Debug, Args)]
pub struct ManifestVerifyArgs {
    /// The site directory (a build's output or a mirror).
    pub dir: PathBuf,
    /// The registry's pinned root public key (64 hex digits). Default: the root key of the
    /// registry given with --registry, or of the registry that DIR is the output of
    /// (DIR/../starmark.toml).
    #[arg(long, value_name = "HEX")]
    pub root: Option<String>,
    /// The registry whose root key to use.
    #[arg(long, short = 'r', value_name = "DIR", conflicts_with = "root")]
    pub registry: Option<PathBuf>,
    /// An unsigned manifest is not a problem.
    #[arg(long)]
    pub allow_unsigned: bool,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `starmark build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The registry directory (with starmark.toml).
    #[arg(default_value = ".")]
    pub registry: PathBuf,
    /// Output directory. Default: REGISTRY/public.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// No progress bar and no summary line.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Rebuild everything, ignoring the build cache.
    #[arg(long)]
    pub full: bool,
    /// Show statuses as of this day (YYYY-MM-DD) or Unix time. Default: the revocation list's
    /// issue time, so the same registry always builds to the same bytes.
    #[arg(long, value_name = "DATE")]
    pub at: Option<String>,
    /// Sign the manifest with the issuer key of starmark.toml (also kept in
    /// REGISTRY/manifest.sig, so later builds of the same site publish it). Without it the
    /// manifest is signed only when REGISTRY/manifest.sig signs exactly this build.
    #[arg(long)]
    pub sign_manifest: bool,
}

/// `starmark serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The registry directory (with starmark.toml).
    #[arg(default_value = ".")]
    pub registry: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, short = 'p', default_value_t = 8000)]
    pub port: u16,
    /// Output directory. Default: REGISTRY/public.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Serve under this path prefix (e.g. /mirror/registry/), to try a mirror's layout.
    #[arg(long, value_name = "PATH", default_value = "/")]
    pub prefix: String,
    /// Milliseconds allowed for a request head (and for a kept-alive connection to stay idle)
    /// before the connection is closed. Hidden: for tests.
    #[arg(long, value_name = "MS", default_value_t = 10_000, hide = true,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout_ms: u64,
    /// Connections held at once. Hidden: for tests.
    #[arg(long, value_name = "N", default_value_t = 512, hide = true,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
}

/// `starmark check-listings`.
#[derive(Debug, Args)]
pub struct CheckListingsArgs {
    /// The listings file: .csv (UTF-8 with or without BOM, or GB18030; comma, semicolon or tab),
    /// .xlsx, or .jsonl.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Where the certifications come from: a registry directory, a built site or mirror
    /// directory, or the https:// address of a published site.
    #[arg(long, value_name = "SOURCE")]
    pub registry: String,
    /// The registry's root public key (64 hex digits, or a .pub file); required for a site,
    /// a mirror or a URL. Default for a registry directory: its keys/root.pub.
    #[arg(long, value_name = "HEX|FILE")]
    pub root: Option<String>,
    /// Where the registry's label links lead (https://label.example.cn); a label link to another
    /// site is counterfeit. Default for a registry directory: its base_url.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Check as of this day (YYYY-MM-DD, 00:00 UTC) or Unix time. Default: now.
    #[arg(long, value_name = "DATE")]
    pub at: Option<String>,
    /// Write the report to this file (its extension picks the format). Default: CSV on stdout.
    #[arg(long, short = 'o', value_name = "REPORT")]
    pub out: Option<PathBuf>,
    /// Report format.
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
    /// The sheet of an XLSX file. Default: the first.
    #[arg(long, value_name = "NAME")]
    pub sheet: Option<String>,
    /// Choose a column by its header: ROLE=HEADER (ROLE: listing_id, shop, manufacturer, model,
    /// tier, certificate, label). May be repeated.
    #[arg(long = "column", value_name = "ROLE=HEADER")]
    pub columns: Vec<String>,
    /// Remember this run in FILE and add a `changed` column (new, fixed, newly_revoked,
    /// newly_expired...) against the run remembered there before.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Refuse a listings file larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 256 << 20)]
    pub max_bytes: u64,
    /// No progress bar and no summary.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// The report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// CSV, UTF-8 with BOM.
    Csv,
    /// JSON.
    Json,
    /// Excel workbook.
    Xlsx,
}

/// `starmark demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of synthetic certifications.
    #[arg(long, value_name = "N")]
    pub synthetic: u64,
    /// Directory of the new registry.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// Where the registry is.
#[derive(Debug, Args)]
pub struct RegistryArg {
    /// The registry directory (the one with starmark.toml). Default: found from the current
    /// directory or the first file argument upwards.
    #[arg(long, short = 'r', value_name = "DIR")]
    pub registry: Option<PathBuf>,
}

/// `starmark init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory of the new registry (created if missing; must not hold a starmark.toml).
    pub dir: PathBuf,
    /// Name of the registry (shown on the Chinese pages, and on the English ones without
    /// --name-en).
    #[arg(long, default_value = "IoT Cybersecurity Label Registry")]
    pub name: String,
    /// English name of the registry, shown on the English pages (`name_en` in starmark.toml).
    #[arg(long, value_name = "NAME")]
    pub name_en: Option<String>,
    /// Public base URL where the registry will be served; labels point to <URL>/verify/.
    #[arg(long, value_name = "URL", default_value = "https://label.example.cn")]
    pub base_url: String,
    /// Name of the first issuer key's holder.
    #[arg(long, default_value = "Certification authority")]
    pub issuer_name: String,
    /// First day the first issuer key may sign (YYYY-MM-DD). Default: today.
    #[arg(long, value_name = "DATE")]
    pub issuer_valid_from: Option<String>,
}

/// `starmark keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Path without extension: writes PATH.key (secret, mode 0600) and PATH.pub.
    pub path: PathBuf,
}

/// `starmark trust ...`.
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Show the trust list.
    List(TrustListArgs),
    /// Add an issuer key, or a log key (--purpose log).
    Add(TrustAddArgs),
    /// Retire an issuer key: it may no longer sign certifications starting after --date.
    Retire(TrustRetireArgs),
    /// Mark an issuer key compromised: every label it signed becomes ISSUER KEY COMPROMISED.
    Compromised(TrustCompromisedArgs),
}

/// Arguments every trust-changing command shares.
#[derive(Debug, Args)]
pub struct RootKeyArg {
    /// The root secret key. Default: the registry's keys/root.key.
    #[arg(long, value_name = "FILE")]
    pub root_key: Option<PathBuf>,
}

/// `starmark trust list`.
#[derive(Debug, Args)]
pub struct TrustListArgs {
    #[command(flatten)]
    pub registry: RegistryArg,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// What a key of the trust list signs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PurposeArg {
    /// Claims (labels) and revocation lists.
    Issuer,
    /// The transparency log's checkpoints.
    Log,
}

/// `starmark trust add`.
#[derive(Debug, Args)]
pub struct TrustAddArgs {
    /// The key's public key file (from `starmark keygen`).
    pub public_key: PathBuf,
    /// Who holds the key.
    #[arg(long)]
    pub name: String,
    /// What the key signs.
    #[arg(long, value_enum, default_value_t = PurposeArg::Issuer)]
    pub purpose: PurposeArg,
    /// First day the key may sign (YYYY-MM-DD). Default: today.
    #[arg(long, value_name = "DATE")]
    pub valid_from: Option<String>,
    /// Last day the key may sign (YYYY-MM-DD). Default: five years from --valid-from.
    #[arg(long, value_name = "DATE")]
    pub valid_until: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArg,
    #[command(flatten)]
    pub root: RootKeyArg,
}

/// `starmark trust retire`.
#[derive(Debug, Args)]
pub struct TrustRetireArgs {
    /// Key id (8 hex digits, see `starmark trust list`).
    pub key_id: String,
    /// Last day the key may sign (YYYY-MM-DD). Default: today.
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArg,
    #[command(flatten)]
    pub root: RootKeyArg,
}

/// `starmark trust compromised`.
#[derive(Debug, Args)]
pub struct TrustCompromisedArgs {
    /// Key id (8 hex digits, see `starmark trust list`).
    pub key_id: String,
    /// Day the compromise began or was found (YYYY-MM-DD). Default: today.
    #[arg(long, value_name = "DATE")]
    pub since: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArg,
    #[command(flatten)]
    pub root: RootKeyArg,
}

/// `starmark sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// Record files (Markdown with TOML front matter), each named by its serial (0042.md).
    #[arg(required = true, value_name = "RECORD.md")]
    pub records: Vec<PathBuf>,
    /// Replace an existing signature that differs (for example after a key rotation).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub registry: RegistryArg,
}

/// `starmark revoke`.
#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// Serial of the certification to revoke. Omit with --refresh.
    #[arg(required_unless_present = "refresh")]
    pub serial: Option<u64>,
    /// Reason: false_claim, unreported_change, security_flaw, withdrawn, key_compromise, other.
    #[arg(long, required_unless_present = "refresh")]
    pub reason: Option<String>,
    /// Day of revocation (YYYY-MM-DD). Default: today.
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    /// Re-sign the list unchanged with a new next-update (sequence + 1), so it does not go stale.
    #[arg(long, conflicts_with_all = ["serial", "reason", "date"])]
    pub refresh: bool,
    #[command(flatten)]
    pub registry: RegistryArg,
}

/// `starmark qr`.
#[derive(Debug, Args)]
pub struct QrArgs {
    /// A signed record file.
    #[arg(value_name = "RECORD.md")]
    pub record: PathBuf,
    /// Write the QR code as a PNG image.
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
    /// Pixels per QR module in the PNG.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub scale: u32,
    #[command(flatten)]
    pub registry: RegistryArg,
}

/// `starmark verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// A verify URL, the digits alone, or the path of a PNG/JPEG photo of the QR code (or of
    /// several: each is reported with its index and position).
    pub target: String,
    /// The time to verify at: YYYY-MM-DD (00:00 UTC) or Unix seconds. Default: now.
    #[arg(long, value_name = "DATE")]
    pub at: Option<String>,
    /// The highest revocation list sequence seen before: an older list is refused (rollback).
    #[arg(long, value_name = "N")]
    pub seen_sequence: Option<u64>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub registry: RegistryArg,
}
