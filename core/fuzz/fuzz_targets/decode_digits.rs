//! QR digits and verify-URL parsing: never panics; digits that decode re-encode to themselves.
#![no_main]

use libfuzzer_sys::fuzz_target;
use starmark_core::qr::{decode_digits, digits_of, encode_digits};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(bytes) = decode_digits(&text) {
        assert_eq!(encode_digits(&bytes), text);
    }
    if let Ok(digits) = digits_of(&text) {
        let _ = decode_digits(digits);
    }
});
