//! The transparency log: an append-only Merkle tree of everything the registry signs (every
//! signed claim, and the sequence and SHA-256 of every revocation list and trust list), served as
//! static files and checkable by anyone.
//!
//! - [`entry`]: the bytes of one entry.
//! - [`merkle`]: RFC 6962 hashing; inclusion and consistency proofs, verified and computed.
//! - [`tile`]: the C2SP tlog-tiles layout (tiles of height 8, entry bundles, their paths) and
//!   [`TileHashes`], the hashes of a tree read from its tiles.
//! - [`edge`]: appending ([`Appender`]): the files an append writes, from the right edge only.
//! - [`checkpoint`]: the C2SP tlog-checkpoint body; [`note`]: C2SP signed-note with Ed25519.
//! - [`cosignature`]: witnesses' C2SP tlog-cosignatures (`cosignature/v1`) of a checkpoint.
//! - [`verify`]: a checkpoint under the trust list's log keys; a whole log recomputed.
//!
//! Everything is pure: the files of a log are read through [`LogFiles`], which the caller
//! implements (a directory, HTTP, memory). The byte-level specification is the "Log" section of
//! docs/FORMAT.md.
//!
//! Written here rather than taken from the crates `tlog_tiles` and `signed_note` (cloudflare/azul,
//! 0.2.0, the ports of Go's `sumdb/tlog` and `sumdb/note`): both need `std` (their errors use
//! thiserror 1, the checkpoint parser `std::io`), so neither builds in this `no_std` crate for
//! the browser; `tlog_tiles` 0.2.0 also writes Go's sumdb tile paths (`tile/8/0/…`,
//! `tile/8/data/…`) rather than C2SP's (`tile/0/…`, `tile/entries/…`) and brings `url` with its
//! ICU tables; `signed_note` verifies signatures without the strict checks every other starmark
//! signature gets. Using them in the generator only would have meant two implementations of one
//! format. Interoperability is tested instead against Go's reference implementation
//! (`golang.org/x/mod/sumdb/note` and `sumdb/tlog`, generator/tests/it/log.rs) and with the
//! vectors of `core/tests/vectors/log*.json`.

pub mod checkpoint;
pub mod cosignature;
pub mod edge;
pub mod entry;
pub mod merkle;
pub mod note;
pub mod tile;
pub mod verify;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

pub use checkpoint::Checkpoint;
pub use cosignature::WitnessKey;
pub use edge::{Appender, TreeEdge, Update};
pub use entry::Entry;
pub use merkle::{
    consistency_proof, inclusion_proof, leaf_hash, node_hash, tree_hash, verify_consistency,
    verify_inclusion, Hash, HashSource,
};
pub use note::{Note, NoteKey};
pub use tile::{BundleId, LogPath, TileHashes, TileId};
pub use verify::{check_log, verify_checkpoint, Problem, VerifiedCheckpoint};

use crate::error::LogError;
use crate::keys::SecretKey;

/// The files of a log, by path relative to its root (`checkpoint`, `tile/0/000`, ...): a
/// directory, a web server, memory. Implemented by the caller; the log code does no I/O.
pub trait LogFiles {
    /// The error of reading; converts the log's own errors so that both travel together.
    type Error: From<LogError>;

    /// The bytes of the file at `path`; `None` when there is no such file.
    fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>, Self::Error>;
}

/// The origin of a registry's log, from its base URL: the URL without its scheme and trailing
/// slashes, then `/log` (`https://label.example.cn` gives `label.example.cn/log`). It names the
/// log in its checkpoints and is the name of the log key in its signatures, so it must be a valid
/// key name (no white space, no `+`).
pub fn origin_of(base_url: &str) -> Result<String, LogError> {
    let rest = base_url
        .strip_prefix("https://")
        .or_else(|| base_url.strip_prefix("http://"))
        .unwrap_or(base_url)
        .trim_end_matches('/');
    let origin = format!("{rest}/log");
    if rest.is_empty() {
        return Err(LogError::BadKeyName {
            name: origin,
            why: "the base URL has no host",
        });
    }
    note::check_key_name(&origin)?;
    Ok(origin)
}

/// Signs a checkpoint with a log key: the signed note of its body, the key named by the
/// checkpoint's origin.
pub fn sign_checkpoint(checkpoint: &Checkpoint, key: &SecretKey) -> Result<String, LogError> {
    note::sign(&checkpoint.to_text(), &checkpoint.origin, key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_come_from_base_urls() {
        assert_eq!(
            origin_of("https://label.example.cn").unwrap(),
            "label.example.cn/log"
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8000/mirror/").unwrap(),
            "127.0.0.1:8000/mirror/log"
        );
        assert!(origin_of("https://").is_err());
        assert!(origin_of("https://a b").is_err());
        assert!(origin_of("https://a+b").is_err());
    }
}
