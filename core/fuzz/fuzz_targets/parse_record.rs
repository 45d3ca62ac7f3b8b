//! Record parsing: never panics on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use starmark_core::record::Record;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = Record::parse(&text);
});
