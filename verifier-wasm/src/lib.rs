//! `starmark-verifier-wasm`: the WebAssembly behind the verify page. Bindings only: the verdict is
//! the one `starmark-core` computes, the same code as `starmark verify`.
//!
//! Three modules come from this crate, each built with `--no-default-features` by
//! `scripts/build-verifier`:
//!
//! - feature `verify`: [`verify`] and [`inspect`], everything a verdict needs;
//! - feature `scan`: [`decode_qr`], the camera's QR decoder (`rqrr`), a separate module that the
//!   page loads only when the camera is used in a browser without `BarcodeDetector`;
//! - feature `listings`: [`check_listings`], the "check listings" page's checker (the rules of
//!   `starmark_core::listings`, the files and reports of `starmark_listings`), loaded only when a
//!   file is checked.
//!
//! Results go to JavaScript as plain objects (serde-wasm-bindgen), never as thrown strings.
#![deny(missing_docs)]

/// The allocator of the verify module in the browser: `lol_alloc`'s free list (a few hundred
/// bytes of WebAssembly against about 7 KB for the default dlmalloc); its lock costs nothing
/// single-threaded. Only for the verify module alone, which makes a few dozen allocations a
/// verdict: its first-fit list is linear in the free blocks, so the listings checker (millions of
/// allocations: 100,000 rows took minutes instead of 4 s) and the camera decoder (an image a
/// frame) keep dlmalloc.
#[cfg(all(
    target_arch = "wasm32",
    not(any(feature = "listings", feature = "scan"))
))]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

#[cfg(feature = "listings")]
mod listings;
#[cfg(feature = "scan")]
mod scan;
#[cfg(feature = "verify")]
mod verify;

#[cfg(feature = "listings")]
pub use listings::{check, check_listings, ListingsOutcome};
#[cfg(feature = "scan")]
pub use scan::{decode_qr, decode_qr_luma};
#[cfg(feature = "verify")]
pub use verify::{inspect, inspect_lists, verify, verify_label, ListsInfo, Outcome};
