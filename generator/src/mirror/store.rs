//! What `mirror` fetches, and where it keeps it until the swap: the partial store beside the
//! mirror (`.NAME.partial/`), files named by their SHA-256 (`ab/cdef…`). A file enters the store
//! only after its size and SHA-256 matched what the signed manifest says (a listing: the hash it
//! was asked by), so an interrupted or refused run leaves verified files that the next run uses
//! instead of fetching them again. The store also reads the manifest's listings for the tree
//! walks ([`Listings`]): from the mirror when it has them, else from the store or the site.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use anyhow::{Context, Result};
use indicatif::ProgressBar;
use rayon::prelude::*;
use starmark_core::manifest::{node_path, sha256, FileMeta, Hash, Source, MAX_NODE_BYTES};
use starmark_core::to_hex;

use super::Problem;
use crate::manifest::read_limited;
use crate::source::Site;

/// Requests in flight at once.
const PARALLEL: usize = 8;

/// Counts of what a run fetched.
#[derive(Debug, Default)]
pub struct Stats {
    /// Files fetched from the site (not listings).
    pub files: AtomicU64,
    /// Files found in the store, fetched by an earlier run.
    pub resumed: AtomicU64,
    /// Listings fetched from the site.
    pub listings: AtomicU64,
    /// Bytes received from the site (files, listings, root, signature).
    pub bytes: AtomicU64,
}

/// The partial store and the site it fills from.
pub struct Store<'a> {
    site: &'a Site,
    dir: PathBuf,
    next_tmp: AtomicU64,
    pool: rayon::ThreadPool,
    /// Files stored by this run (the others in the store were by an earlier one).
    stored: Mutex<HashSet<Hash>>,
    /// The first local error (the store could not be written): the run fails with it.
    local: Mutex<Option<String>>,
    /// What was fetched.
    pub stats: Stats,
    /// Progress, in bytes of files.
    pub progress: ProgressBar,
}

impl<'a> Store<'a> {
    /// The store in `dir` (made if missing; what an earlier run left half-fetched is removed).
    pub fn open(site: &'a Site, dir: &Path, progress: ProgressBar) -> Result<Store<'a>> {
        let tmp = dir.join("tmp");
        if tmp.exists() {
            fs::remove_dir_all(&tmp)
                .with_context(|| format!("{}: cannot remove", tmp.display()))?;
        }
        fs::create_dir_all(&tmp).with_context(|| format!("{}: cannot create", tmp.display()))?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(PARALLEL)
            .thread_name(|i| format!("mirror-fetch-{i}"))
            .build()
            .context("cannot start the fetching threads")?;
        Ok(Store {
            site,
            dir: dir.to_path_buf(),
            next_tmp: AtomicU64::new(0),
            pool,
            stored: Mutex::new(HashSet::new()),
            local: Mutex::new(None),
            stats: Stats::default(),
            progress,
        })
    }

    /// The site fetched from.
    pub fn site(&self) -> &Site {
        self.site
    }

    /// Where the store keeps the file with this SHA-256.
    pub fn path_of(&self, sha256: &Hash) -> PathBuf {
        let hex = to_hex(sha256);
        let (a, b) = hex.split_at(2);
        self.dir.join(a).join(b)
    }

    fn tmp(&self) -> PathBuf {
        let n = self.next_tmp.fetch_add(1, Ordering::Relaxed);
        self.dir.join("tmp").join(n.to_string())
    }

    /// The stored file with this content, if the store has it (its size is checked; its hash
    /// was when it was stored).
    pub fn has(&self, meta: &FileMeta) -> Option<PathBuf> {
        let p = self.path_of(&meta.sha256);
        fs::metadata(&p)
            .ok()
            .filter(|m| m.is_file() && m.len() == meta.size)
            .map(|_| p)
    }

    /// The first local error of the run, if the store could not be written.
    pub fn local_error(&self) -> Option<String> {
        self.local.lock().ok().and_then(|l| l.clone())
    }

    /// Moves a verified temporary file into the store under its hash.
    fn keep(&self, tmp: &Path, sha256: &Hash) -> Result<PathBuf, Problem> {
        let to = self.path_of(sha256);
        let local = |e: std::io::Error, what: &str| {
            let detail = format!("{}: cannot {what}: {e}", to.display());
            if let Ok(mut l) = self.local.lock() {
                l.get_or_insert_with(|| detail.clone());
            }
            Problem::Local { detail }
        };
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(|e| local(e, "create its directory"))?;
        }
        fs::rename(tmp, &to).map_err(|e| local(e, "store"))?;
        if let Ok(mut s) = self.stored.lock() {
            s.insert(*sha256);
        }
        Ok(to)
    }

    /// Stores bytes fetched otherwise (a small file, a listing) under their hash.
    pub fn put(&self, bytes: &[u8]) -> Result<PathBuf, Problem> {
        let meta = FileMeta::of(bytes);
        if let Some(p) = self.has(&meta) {
            return Ok(p);
        }
        let tmp = self.tmp();
        if let Err(e) = fs::write(&tmp, bytes) {
            let detail = format!("{}: cannot write: {e}", tmp.display());
            if let Ok(mut l) = self.local.lock() {
                l.get_or_insert_with(|| detail.clone());
            }
            return Err(Problem::Local { detail });
        }
        self.keep(&tmp, &meta.sha256)
    }

    /// A small file of the site read whole, at most `max` bytes; counted, not stored.
    pub fn small(&self, path: &str, max: u64, why: &str) -> Result<Vec<u8>, Problem> {
        let bytes = self
            .site
            .get(path, max, why)
            .map_err(|e| Problem::fetch(path, e))?;
        self.stats
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes)
    }

    /// The file `path` of the site with the content `meta` (size and SHA-256 from the signed
    /// manifest): from the store, or fetched (at most `meta.size` bytes), checked and stored.
    pub fn file(&self, path: &str, meta: &FileMeta) -> Result<PathBuf, Problem> {
        if let Some(p) = self.has(meta) {
            return Ok(p);
        }
        let tmp = self.tmp();
        let got = self
            .site
            .get_to_file(path, meta.size, "the size the manifest gives", &tmp)
            .map_err(|e| {
                let _ = fs::remove_file(&tmp);
                Problem::fetch(path, e)
            })?;
        self.stats.bytes.fetch_add(got.size, Ordering::Relaxed);
        self.stats.files.fetch_add(1, Ordering::Relaxed);
        self.progress.inc(got.size);
        if got != *meta {
            let _ = fs::remove_file(&tmp);
            return Err(Problem::Altered {
                path: path.to_string(),
                detail: differs(&got, meta),
            });
        }
        self.keep(&tmp, &meta.sha256)
    }

    /// Every file of `wanted` in the store (fetched in parallel); the problems, sorted by path.
    pub fn files(&self, wanted: &[(&str, FileMeta)]) -> Vec<Problem> {
        let (had, missing): (Vec<_>, Vec<_>) = wanted
            .iter()
            .partition(|(_, meta)| self.has(meta).is_some());
        let earlier = self.stored.lock().map_or(0, |s| {
            had.iter().filter(|(_, m)| !s.contains(&m.sha256)).count()
        });
        self.stats
            .resumed
            .fetch_add(earlier as u64, Ordering::Relaxed);
        self.progress
            .inc_length(missing.iter().map(|(_, m)| m.size).sum());
        let mut problems: Vec<Problem> = self.pool.install(|| {
            missing
                .par_iter()
                .filter_map(|(path, meta)| self.file(path, meta).err())
                .collect()
        });
        problems.sort_by(|a, b| a.path().cmp(b.path()));
        problems
    }

    /// A listing by its hash: from the store, or fetched from the site, checked and stored.
    fn node(&self, hash: &Hash) -> Result<Vec<u8>> {
        let stored = self.path_of(hash);
        if let Ok(bytes) = read_limited(&stored, MAX_NODE_BYTES) {
            if sha256(&bytes) == *hash {
                return Ok(bytes);
            }
        }
        let path = node_path(hash);
        let bytes = self
            .site
            .get(&path, MAX_NODE_BYTES as u64, "the largest listing")?;
        self.stats
            .bytes
            .fetch_add(bytes.len() as u64, Ordering::Relaxed);
        self.stats.listings.fetch_add(1, Ordering::Relaxed);
        if sha256(&bytes) == *hash {
            self.put(&bytes).map_err(|p| anyhow::anyhow!("{p}"))?;
        }
        // A listing that does not hash to its name is named by the walk.
        Ok(bytes)
    }
}

/// How a file received differs from the manifest's entry.
pub fn differs(got: &FileMeta, want: &FileMeta) -> String {
    if got.size != want.size {
        format!("{} bytes, the manifest says {}", got.size, want.size)
    } else {
        format!(
            "SHA-256 {}, the manifest says {}",
            to_hex(&got.sha256),
            to_hex(&want.sha256)
        )
    }
}

/// The manifest's listings, for tree walks: from the mirror (`mirror/manifest/…`, when they are
/// there and hash right), else from the store or the site.
pub struct Listings<'s> {
    mirror: Option<&'s Path>,
    store: &'s Store<'s>,
    /// Listings read in this run, by hash (a walk may ask for one again).
    cache: HashMap<Hash, Vec<u8>>,
}

impl<'s> Listings<'s> {
    /// Listings of the mirror in `mirror` (if any), else of the store.
    pub fn new(mirror: Option<&'s Path>, store: &'s Store<'s>) -> Listings<'s> {
        Listings {
            mirror,
            store,
            cache: HashMap::new(),
        }
    }

    fn local(&self, hash: &Hash) -> Option<Vec<u8>> {
        let dir = self.mirror?;
        let bytes = read_limited(&dir.join(node_path(hash)), MAX_NODE_BYTES).ok()?;
        (sha256(&bytes) == *hash).then_some(bytes)
    }
}

impl Source for Listings<'_> {
    type Error = anyhow::Error;

    fn get(&mut self, node: &Hash) -> Result<Vec<u8>> {
        let mut got = self.get_many(std::slice::from_ref(node));
        got.pop()
            .unwrap_or_else(|| Err(anyhow::anyhow!("no listing")))
    }

    fn get_many(&mut self, nodes: &[Hash]) -> Vec<Result<Vec<u8>>> {
        let mut out: Vec<Option<Result<Vec<u8>>>> = nodes
            .iter()
            .map(|h| self.cache.get(h).cloned().or_else(|| self.local(h)).map(Ok))
            .collect();
        let remote: Vec<(usize, Hash)> = out
            .iter()
            .zip(nodes)
            .enumerate()
            .filter(|(_, (got, _))| got.is_none())
            .map(|(i, (_, h))| (i, *h))
            .collect();
        let store = self.store;
        let fetched: Vec<(usize, Result<Vec<u8>>)> = store.pool.install(|| {
            remote
                .par_iter()
                .map(|(i, h)| (*i, store.node(h)))
                .collect()
        });
        for (i, r) in fetched {
            if let Some(slot) = out.get_mut(i) {
                *slot = Some(r);
            }
        }
        out.into_iter()
            .zip(nodes)
            .map(|(r, h)| {
                let r = r.unwrap_or_else(|| Err(anyhow::anyhow!("no listing")));
                if let Ok(bytes) = &r {
                    self.cache.insert(*h, bytes.clone());
                }
                r
            })
            .collect()
    }
}
