//! Claim and signed-claim decoding: never panics; what decodes re-encodes to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use starmark_core::{Claim, SignedClaim};

fuzz_target!(|data: &[u8]| {
    if let Ok(claim) = Claim::decode(data) {
        assert_eq!(claim.encode().ok().as_deref(), Some(data));
    }
    if let Ok(signed) = SignedClaim::decode(data) {
        assert_eq!(signed.as_bytes(), data);
        let n = signed.claim_bytes().len();
        assert_eq!(n + 64, data.len());
        assert_eq!(signed.claim().encode().ok().as_deref(), Some(&data[..n]));
    }
});
