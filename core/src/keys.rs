//! Ed25519 keys and domain-separated signatures.
//!
//! Every signed object is signed over `context || bytes`, where the context names the object type
//! and format version and ends in a NUL byte, so a signature for one kind of object never verifies
//! as another. Verification is strict (`verify_strict`: canonical S, no small-order R or A).

use alloc::vec::Vec;
use core::fmt;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::error::{KeyError, SignatureError};
use crate::wire::to_hex;

/// Context for claims (the payload of a label's QR code).
pub const CLAIM_CONTEXT: &[u8] = b"starmark-claim-v1\0";
/// Context for trust lists (signed by the root key).
pub const TRUST_LIST_CONTEXT: &[u8] = b"starmark-trust-list-v1\0";
/// Context for revocation lists (signed by an issuer key).
pub const REVOCATION_LIST_CONTEXT: &[u8] = b"starmark-revocation-list-v1\0";
/// Context for site manifests (signed by an issuer key).
pub const MANIFEST_CONTEXT: &[u8] = b"starmark-manifest-v1\0";

/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// A public key that passed the load-time checks: a canonical encoding of a point that is not of
/// small order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(VerifyingKey);

impl PublicKey {
    /// Loads a public key; refuses non-canonical encodings and small-order (weak) points.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<PublicKey, KeyError> {
        let key = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::NotAPoint)?;
        if key.to_edwards().compress().as_bytes() != bytes {
            return Err(KeyError::NonCanonical);
        }
        if key.is_weak() {
            return Err(KeyError::Weak);
        }
        Ok(PublicKey(key))
    }

    /// The 32-byte encoding.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The key id: the first four bytes of SHA-256 of the encoded key.
    pub fn key_id(&self) -> KeyId {
        let digest = Sha256::digest(self.0.as_bytes());
        KeyId([digest[0], digest[1], digest[2], digest[3]])
    }

    /// Strict Ed25519 verification of `signature` over the raw `message` (no context).
    /// Use [`PublicKey::verify_in_context`] for starmark objects.
    pub fn verify_raw(
        &self,
        message: &[u8],
        signature: &[u8; SIGNATURE_LEN],
    ) -> Result<(), SignatureError> {
        let sig = Signature::from_bytes(signature);
        self.0
            .verify_strict(message, &sig)
            .map_err(|_| SignatureError::Invalid)
    }

    /// Strict verification of a signature over `context || bytes`.
    pub fn verify_in_context(
        &self,
        context: &[u8],
        bytes: &[u8],
        signature: &[u8; SIGNATURE_LEN],
    ) -> Result<(), SignatureError> {
        self.verify_raw(&contextual(context, bytes), signature)
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", to_hex(self.0.as_bytes()))
    }
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&to_hex(self.0.as_bytes()))
    }
}

/// A secret signing key. Never printed: `Debug` shows only the key id.
pub struct SecretKey(SigningKey);

impl SecretKey {
    /// The key from its 32-byte seed (RFC 8032 secret key).
    pub fn from_seed(seed: &[u8; 32]) -> SecretKey {
        SecretKey(SigningKey::from_bytes(seed))
    }

    /// The 32-byte seed, for writing to a key file.
    pub fn to_seed(&self) -> [u8; 32] {
        self.0.to_bytes()
    }

    /// The matching public key. A key made from a seed is never weak.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.verifying_key())
    }

    /// Signs `context || bytes`. Deterministic: the same input gives the same signature.
    pub fn sign_in_context(&self, context: &[u8], bytes: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.0.sign(&contextual(context, bytes)).to_bytes()
    }

    /// Signs a message as it is, without a context: only for formats that are their own domain
    /// (the signed notes of the log, signed by log keys only).
    pub(crate) fn sign_raw(&self, message: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.0.sign(message).to_bytes()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey(key id {})", self.public_key().key_id())
    }
}

fn contextual(context: &[u8], bytes: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(context.len() + bytes.len());
    m.extend_from_slice(context);
    m.extend_from_slice(bytes);
    m
}

/// Four bytes that name an issuer key in claims and revocation lists (see [`PublicKey::key_id`]).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub [u8; 4]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_hex(&self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl Serialize for KeyId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_separates_object_types() {
        let sk = SecretKey::from_seed(&[7; 32]);
        let pk = sk.public_key();
        let sig = sk.sign_in_context(CLAIM_CONTEXT, b"abc");
        assert!(pk.verify_in_context(CLAIM_CONTEXT, b"abc", &sig).is_ok());
        assert!(pk
            .verify_in_context(TRUST_LIST_CONTEXT, b"abc", &sig)
            .is_err());
        assert!(pk.verify_in_context(CLAIM_CONTEXT, b"abd", &sig).is_err());
    }

    #[test]
    fn weak_and_non_canonical_keys_refused() {
        // The identity point (y = 1): small order.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(PublicKey::from_bytes(&identity), Err(KeyError::Weak));
        // y = p + 1 encodes the identity non-canonically.
        let mut non_canonical = [0xffu8; 32];
        non_canonical[0] = 0xee;
        non_canonical[31] = 0x7f;
        assert!(matches!(
            PublicKey::from_bytes(&non_canonical),
            Err(KeyError::NonCanonical | KeyError::Weak)
        ));
        // A point of order 8.
        let order8 = [
            0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10,
            0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77,
            0x92, 0xac, 0x03, 0x7a,
        ];
        assert_eq!(PublicKey::from_bytes(&order8), Err(KeyError::Weak));
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let sk = SecretKey::from_seed(&[0x42; 32]);
        let shown = alloc::format!("{sk:?}");
        assert!(!shown.contains("4242"));
        assert!(shown.contains(&sk.public_key().key_id().to_string()));
    }
}
