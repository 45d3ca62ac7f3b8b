//! Trust-list and revocation-list decoding: never panics, whatever the bytes.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use starmark_core::{PublicKey, RevocationList, SecretKey, TrustList};

/// The root key of the vectors in tests/vectors/trust_list.json.
fn root() -> &'static PublicKey {
    static ROOT: OnceLock<PublicKey> = OnceLock::new();
    ROOT.get_or_init(|| SecretKey::from_seed(&[0x01; 32]).public_key())
}

fuzz_target!(|data: &[u8]| {
    let _ = TrustList::decode_verified(data, root());
    if let Ok(list) = RevocationList::decode_unverified(data) {
        // The decoder accepts any Rice parameter and date width, the encoder picks the smallest:
        // re-encoding may change the bytes, never the list.
        let mut body = list.encode_body().expect("a decoded list encodes");
        body.extend_from_slice(&[0; 64]);
        assert_eq!(RevocationList::decode_unverified(&body).as_ref(), Ok(&list));
        for e in &list.entries {
            assert_eq!(list.lookup(e.serial), Some(e));
        }
    }
});
