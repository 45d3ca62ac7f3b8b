//! `starmark-core`: the formats, signatures and verdict of the starmark label registry.
//!
//! Pure: no I/O, no clock, no threads; builds for `wasm32-unknown-unknown`. Time is always an
//! argument. Every decoder never panics, never allocates more than its input justifies and rejects
//! trailing bytes. The byte-level specification is `docs/FORMAT.md`.
//!
//! Data flows one way: a [`record::Record`] gives a [`claim::Claim`], which the issuer signs into a
//! [`claim::SignedClaim`]; its bytes become the QR digits ([`qr`]); a verifier decodes them and
//! [`verdict::verify`] decides, with the [`trust::TrustList`] and [`revocation::RevocationList`].
//! Everything the registry signs is also an entry of its transparency [`log`].
//! The [`manifest`] lists every file a site publishes under one signed root.
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]

extern crate alloc;

pub mod bundle;
pub mod claim;
pub mod date;
pub mod error;
pub mod keys;
pub mod listings;
pub mod log;
pub mod manifest;
pub mod qr;
pub mod record;
pub mod report;
pub mod revocation;
pub mod text;
pub mod trust;
pub mod uscc;
pub mod verdict;
mod wire;

pub use claim::{Claim, SignedClaim, Tier};
pub use date::Day;
pub use error::Error;
pub use keys::{KeyId, PublicKey, SecretKey};
pub use report::Report;
pub use revocation::{Reason, Revocation, RevocationList};
pub use trust::{IssuerKey, LogKey, Purpose, TrustList};
pub use verdict::{verify, verify_payload, verify_target, Context, Verdict, Verification};
pub use wire::{from_hex, to_hex};
