//! The site manifest: every published file's path, size and SHA-256, as a tree of small
//! content-addressed listings under one signed root (byte layout: docs/FORMAT.md section 11).
//!
//! - Each directory of the site has a **listing** of its entries, sorted by name: a file with its
//!   size and SHA-256, a subdirectory with the hash of its listing. A directory of more than
//!   [`MAX_ENTRIES`] entries is a **bucket** instead: up to 16 children, one per value of the next
//!   nibble of SHA-256(name), each a listing or again a bucket. So one changed file changes one
//!   small listing and the buckets and directories above it, whatever the size of the site.
//! - Every listing names its own position (directory and bucket prefix), so each listing file
//!   occurs once in a tree and is published under its SHA-256 (`manifest/ab/cdef….bin`).
//! - The [`Root`] holds the hash of the site root's listing and the SHA-256 of the log checkpoint
//!   (`log/checkpoint`) when the site publishes one. An issuer key of the trust list signs the
//!   root's bytes ([`RootSignature`], context `starmark-manifest-v1`).
//!
//! Reading: [`verify_root`] (or [`Root::decode`] and [`RootSignature::verify`]), then [`files`] (every file, each listing
//! checked), [`diff`] (what changed between two roots, fetching only listings that differ) or
//! [`lookup`] and [`lookup_many`] (given paths). Listings come from a [`Source`]; every one is checked against the hash
//! it was fetched by and against its position. Writing: [`build`] and [`update`].

mod build;
mod lookup;
mod node;
mod walk;

use alloc::string::String;
use alloc::vec::Vec;

use sha2::{Digest, Sha256};

use crate::error::{DecodeError, ManifestError};
use crate::keys::{KeyId, SecretKey, MANIFEST_CONTEXT, SIGNATURE_LEN};
use crate::trust::{IssuerKey, TrustList};
use crate::wire::{to_hex, Reader};

pub use build::{build, update, Built};
pub use lookup::{lookup, lookup_many};
pub use node::{Bucket, Child, Entry, Item, Leaf, Node, Position};
pub use walk::{diff, files, Changed, Contents, Diff, WalkError};

/// The manifest format version.
pub const MANIFEST_VERSION: u8 = 1;
/// Kind byte of a root.
pub const KIND_ROOT: u8 = 0;
/// Kind byte of a listing.
pub const KIND_LEAF: u8 = 1;
/// Kind byte of a bucket.
pub const KIND_BUCKET: u8 = 2;
/// The most entries one listing holds; a directory with more is split into buckets.
pub const MAX_ENTRIES: usize = 128;
/// Children of a bucket: one per nibble value.
pub const FANOUT: usize = 16;
/// The deepest bucket prefix, in nibbles (all of a SHA-256).
pub const MAX_DEPTH: u8 = 64;
/// Longest file or directory name, in bytes.
pub const MAX_NAME: usize = 255;
/// Longest directory path in a listing, in bytes.
pub const MAX_DIR: usize = 4096;
/// The largest encoded listing or bucket: a fetcher may refuse anything larger unread.
pub const MAX_NODE_BYTES: usize = 48 * 1024;
/// Size of an encoded [`RootSignature`].
pub const ROOT_SIGNATURE_LEN: usize = 4 + SIGNATURE_LEN;
/// Where a site publishes its manifest: the directory the manifest does not list.
pub const MANIFEST_DIR: &str = "manifest";
/// The root's path in the site.
pub const ROOT_PATH: &str = "manifest/root.bin";
/// The root signature's path in the site.
pub const SIGNATURE_PATH: &str = "manifest/root.sig";
/// The log checkpoint's path in the site, which the root ties to.
pub const CHECKPOINT_PATH: &str = "log/checkpoint";

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> Hash {
    Sha256::digest(bytes).into()
}

/// The site path of the listing or bucket with this hash: `manifest/` + the first two hex digits
/// + `/` + the other 62 + `.bin`.
pub fn node_path(hash: &Hash) -> String {
    let hex = to_hex(hash);
    let (a, b) = hex.split_at(2);
    alloc::format!("{MANIFEST_DIR}/{a}/{b}.bin")
}

/// The hash a listing path names (the inverse of [`node_path`]); `None` for any other path.
pub fn node_of_path(path: &str) -> Option<Hash> {
    let rest = path.strip_prefix(MANIFEST_DIR)?.strip_prefix('/')?;
    let (a, b) = rest.split_once('/')?;
    let b = b.strip_suffix(".bin")?;
    if a.len() != 2 || b.len() != 62 || !(a.bytes().chain(b.bytes())).all(is_lower_hex) {
        return None;
    }
    crate::wire::from_hex::<32>(&alloc::format!("{a}{b}"))
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

/// A file as the manifest lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FileMeta {
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the exact bytes.
    pub sha256: Hash,
}

impl FileMeta {
    /// The size and SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> FileMeta {
        FileMeta {
            size: bytes.len() as u64,
            sha256: sha256(bytes),
        }
    }
}

/// A file with its path from the site root (names joined by `/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileEntry {
    /// The path.
    pub path: String,
    /// Size and SHA-256.
    pub meta: FileMeta,
}

/// The manifest root: what the signature covers.
///
/// ```text
/// version u8 = 1 | kind u8 = 0 | tree [32] | checkpoint u8 (0 or 1) | [checkpoint_sha256 [32] if 1]
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Root {
    /// SHA-256 of the site root directory's listing (or bucket).
    pub tree: Hash,
    /// SHA-256 of `log/checkpoint` when the site publishes one.
    pub checkpoint: Option<Hash>,
}

impl Root {
    /// The encoding (35 or 67 bytes).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(67);
        out.push(MANIFEST_VERSION);
        out.push(KIND_ROOT);
        out.extend_from_slice(&self.tree);
        match &self.checkpoint {
            None => out.push(0),
            Some(h) => {
                out.push(1);
                out.extend_from_slice(h);
            }
        }
        out
    }

    /// Decodes a root. Never panics; rejects trailing bytes, other versions and kinds, and a
    /// checkpoint flag other than 0 or 1.
    pub fn decode(bytes: &[u8]) -> Result<Root, ManifestError> {
        let mut r = Reader::new(bytes);
        check_header(&mut r, KIND_ROOT, "0 (root)")?;
        let tree = r.array("tree")?;
        let checkpoint = match r.u8("checkpoint")? {
            0 => None,
            1 => Some(r.array("checkpoint_sha256")?),
            _ => {
                return Err(DecodeError::OutOfRange {
                    field: "checkpoint",
                }
                .into())
            }
        };
        r.finish()?;
        Ok(Root { tree, checkpoint })
    }
}

/// Reads and checks the version and kind bytes.
pub(crate) fn check_header(
    r: &mut Reader<'_>,
    kind: u8,
    expected: &'static str,
) -> Result<(), ManifestError> {
    let version = r.u8("version")?;
    if version != MANIFEST_VERSION {
        return Err(DecodeError::UnsupportedVersion {
            found: version,
            expected: MANIFEST_VERSION,
        }
        .into());
    }
    let found = r.u8("kind")?;
    if found != kind {
        return Err(ManifestError::WrongKind { expected, found });
    }
    Ok(())
}

/// The signature of a manifest root: which issuer key, and its Ed25519 signature over
/// `"starmark-manifest-v1\0" ‖ root bytes`.
///
/// ```text
/// key_id [4] | signature [64]
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RootSignature {
    /// The signing issuer key.
    pub key_id: KeyId,
    /// The signature.
    pub signature: [u8; SIGNATURE_LEN],
}

impl RootSignature {
    /// Signs the root's bytes with an issuer key. Deterministic.
    pub fn sign(root_bytes: &[u8], key: &SecretKey) -> RootSignature {
        RootSignature {
            key_id: key.public_key().key_id(),
            signature: key.sign_in_context(MANIFEST_CONTEXT, root_bytes),
        }
    }

    /// The 68-byte encoding.
    pub fn encode(&self) -> [u8; ROOT_SIGNATURE_LEN] {
        let mut out = [0u8; ROOT_SIGNATURE_LEN];
        out[..4].copy_from_slice(&self.key_id.0);
        out[4..].copy_from_slice(&self.signature);
        out
    }

    /// Decodes exactly 68 bytes. Never panics.
    pub fn decode(bytes: &[u8]) -> Result<RootSignature, ManifestError> {
        let mut r = Reader::new(bytes);
        let key_id = KeyId(r.array("key_id")?);
        let signature = r.array("signature")?;
        r.finish()?;
        Ok(RootSignature { key_id, signature })
    }

    /// Verifies the signature over `root_bytes` with a verified trust list: (1) the key is in the
    /// list, (2) it is not marked compromised, (3) strict Ed25519 over the manifest context.
    /// Returns the signing key. The manifest carries no date, so a retired key's period does not
    /// apply; a compromised key is refused whatever the date.
    pub fn verify<'t>(
        &self,
        root_bytes: &[u8],
        trust: &'t TrustList,
    ) -> Result<&'t IssuerKey, ManifestError> {
        let key_id = alloc::string::ToString::to_string(&self.key_id);
        // 1. Key lookup.
        let issuer = trust
            .issuer(self.key_id)
            .ok_or_else(|| ManifestError::UnknownSigner {
                key_id: key_id.clone(),
            })?;
        // 2. Key status.
        if issuer.compromised_since.is_some() {
            return Err(ManifestError::CompromisedSigner { key_id });
        }
        // 3. Strict signature.
        issuer
            .public_key
            .verify_in_context(MANIFEST_CONTEXT, root_bytes, &self.signature)
            .map_err(|_| ManifestError::BadSignature { key_id })?;
        Ok(issuer)
    }
}

/// Decodes a root and checks its signature with a verified trust list: what a mirror or an
/// auditor does first with `manifest/root.bin` and `manifest/root.sig`. Returns the root and the
/// issuer key that signed it.
pub fn verify_root<'t>(
    root_bytes: &[u8],
    signature: &[u8],
    trust: &'t TrustList,
) -> Result<(Root, &'t IssuerKey), ManifestError> {
    let root = Root::decode(root_bytes)?;
    let key = RootSignature::decode(signature)?.verify(root_bytes, trust)?;
    Ok((root, key))
}

/// Where listings come from: the hash names the listing; the walk checks the bytes against it.
/// `get_many` lets a fetcher over a network ask for a whole level of the tree at once; by
/// default it asks one at a time.
pub trait Source {
    /// Why a listing could not be had.
    type Error;
    /// The bytes of the listing with this hash.
    fn get(&mut self, node: &Hash) -> Result<Vec<u8>, Self::Error>;
    /// The bytes of several listings, in the order asked.
    fn get_many(&mut self, nodes: &[Hash]) -> Vec<Result<Vec<u8>, Self::Error>> {
        nodes.iter().map(|n| self.get(n)).collect()
    }
}

/// A [`Source`] made of a closure.
pub struct FnSource<F>(pub F);

impl<F, E> Source for FnSource<F>
where
    F: FnMut(&Hash) -> Result<Vec<u8>, E>,
{
    type Error = E;
    fn get(&mut self, node: &Hash) -> Result<Vec<u8>, E> {
        (self.0)(node)
    }
}

#[cfg(test)]
mod tests;
