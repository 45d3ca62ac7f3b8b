//! C2SP signed-note with Ed25519: the text, a blank line, then one line per signature,
//! `— <key name> <base64(key id ‖ signature)>` (U+2014 EM DASH, a space, the name, a space).
//!
//! - The **key id** of an Ed25519 key is the first 4 bytes of
//!   SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ 32-byte public key).
//! - The signature is Ed25519 over the text's bytes exactly (every line of it, each ending in
//!   `\n`), without a context string: the note format is the domain.
//! - A **verifier key** (Go's `note.NewVerifier`) is `<name>+<key id, 8 hex digits>+<base64(0x01
//!   ‖ public key)>`.
//!
//! Parsing follows Go's `golang.org/x/mod/sumdb/note.Open`: valid UTF-8, no control character but
//! `\n`, the signatures after the last blank line, each line well formed, at most 100 of them.
//! Signatures by keys the verifier does not know (witnesses' cosignatures, other keys) are kept
//! and ignored.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::LogError;
use crate::keys::{PublicKey, SecretKey, SIGNATURE_LEN};
use crate::log::checkpoint::B64;
use crate::wire::to_hex;

/// The signature type byte of Ed25519 in key ids and verifier keys.
pub const ED25519: u8 = 0x01;
/// What starts a signature line: U+2014 EM DASH and a space.
pub const SIGNATURE_PREFIX: &str = "\u{2014} ";
/// The most signature lines a note may carry.
pub const MAX_SIGNATURES: usize = 100;

/// Checks a key name: not empty, no white space (Unicode `White_Space`), no `+`.
pub fn check_key_name(name: &str) -> Result<(), LogError> {
    let bad = |why| LogError::BadKeyName {
        name: name.to_string(),
        why,
    };
    if name.is_empty() {
        return Err(bad("empty"));
    }
    if name.chars().any(char::is_whitespace) {
        return Err(bad("holds white space"));
    }
    if name.contains('+') {
        return Err(bad("holds a '+'"));
    }
    if name.chars().any(char::is_control) {
        return Err(bad("holds a control character"));
    }
    Ok(())
}

/// The key id of an Ed25519 key under a name: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key)[..4].
pub fn key_id(name: &str, key: &PublicKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ED25519]);
    h.update(key.to_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// An Ed25519 key under a name, as a note verifier knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteKey {
    name: String,
    key: PublicKey,
    id: [u8; 4],
}

impl NoteKey {
    /// The key `key` under the name `name` (checked with [`check_key_name`]).
    pub fn new(name: &str, key: PublicKey) -> Result<NoteKey, LogError> {
        check_key_name(name)?;
        Ok(NoteKey {
            name: name.to_string(),
            id: key_id(name, &key),
            key,
        })
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The public key.
    pub fn key(&self) -> &PublicKey {
        &self.key
    }

    /// The key id.
    pub fn id(&self) -> [u8; 4] {
        self.id
    }

    /// The verifier key string, `name+hex(key id)+base64(0x01 ‖ key)`, as Go's
    /// `note.NewVerifier` reads it.
    pub fn to_vkey(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(ED25519);
        raw.extend_from_slice(&self.key.to_bytes());
        format!("{}+{}+{}", self.name, to_hex(&self.id), B64.encode(raw))
    }

    /// Parses a verifier key string; refuses a bad name, an id that is not 8 hex digits or not
    /// the key's, a type other than Ed25519 and a public key that is not acceptable (weak or
    /// non-canonical). Never panics.
    pub fn from_vkey(vkey: &str) -> Result<NoteKey, LogError> {
        let (name, id, key) = parse_vkey(vkey, ED25519, "the key type is not Ed25519 (0x01)")?;
        let note_key = NoteKey::new(name, key)?;
        if note_key.id != id {
            return Err(LogError::BadVerifierKey {
                why: "the key id is not the key's",
            });
        }
        Ok(note_key)
    }
}

/// Splits a verifier key string `name+hex8+base64(type ‖ key)` of signature type `alg` with a
/// 32-byte Ed25519 key: (name, key id as written, key). The caller checks that the id is the
/// key's (each type derives it its own way). `wrong_type` is the error for another type byte.
pub(crate) fn parse_vkey<'a>(
    vkey: &'a str,
    alg: u8,
    wrong_type: &'static str,
) -> Result<(&'a str, [u8; 4], PublicKey), LogError> {
    let bad = |why| LogError::BadVerifierKey { why };
    let mut parts = vkey.splitn(3, '+');
    let (Some(name), Some(id_hex), Some(key64)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("not name+id+key"));
    };
    let id = crate::wire::from_hex::<4>(id_hex)
        .filter(|_| id_hex.bytes().all(|b| !b.is_ascii_uppercase()))
        .ok_or(bad("the key id is not 8 lower-case hex digits"))?;
    let raw = B64
        .decode(key64)
        .map_err(|_| bad("the key is not base64"))?;
    let (&found, key) = raw.split_first().ok_or(bad("the key is empty"))?;
    if found != alg {
        return Err(bad(wrong_type));
    }
    let key: [u8; 32] = key
        .try_into()
        .map_err(|_| bad("an Ed25519 key is 32 bytes"))?;
    let key = PublicKey::from_bytes(&key).map_err(|_| bad("the Ed25519 key is refused"))?;
    check_key_name(name)?;
    Ok((name, id, key))
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name.
    pub name: String,
    /// The key id (the first 4 bytes of the decoded base64).
    pub key_id: [u8; 4],
    /// The signature (the rest: 64 bytes for Ed25519; other types differ).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// The line, without its `\n`.
    pub fn to_line(&self) -> String {
        let mut raw = self.key_id.to_vec();
        raw.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}", self.name, B64.encode(raw))
    }
}

/// A parsed signed note: its text and its signature lines, none verified yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The signed text, ending in `\n`.
    pub text: String,
    /// The signature lines, in order.
    pub signatures: Vec<NoteSignature>,
}

impl Note {
    /// Parses a signed note. Never panics; refuses control characters other than `\n`, a note
    /// without a blank line before its signatures or without a signature, a malformed signature
    /// line and more than 100 signatures.
    pub fn parse(note: &str) -> Result<Note, LogError> {
        let bad = |why| LogError::MalformedNote { why };
        if note.chars().any(|c| c.is_control() && c != '\n') {
            return Err(bad("holds a control character"));
        }
        let split = note
            .rfind("\n\n")
            .ok_or(bad("no blank line before the signatures"))?;
        let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
        let Some(sigs) = sigs.strip_suffix('\n') else {
            return Err(bad(
                "no signature, or the last one does not end with a line feed",
            ));
        };
        let mut signatures = Vec::new();
        for line in sigs.split('\n') {
            if signatures.len() == MAX_SIGNATURES {
                return Err(bad("more than 100 signatures"));
            }
            let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or(bad(
                "a signature line does not start with an em dash and a space",
            ))?;
            let (name, b64) = rest.split_once(' ').ok_or(bad(
                "a signature line has no space between name and signature",
            ))?;
            check_key_name(name).map_err(|_| bad("a signature line's key name is not valid"))?;
            let raw = B64
                .decode(b64)
                .map_err(|_| bad("a signature is not base64"))?;
            if raw.len() < 5 {
                return Err(bad("a signature is shorter than 5 bytes"));
            }
            signatures.push(NoteSignature {
                name: name.to_string(),
                key_id: [raw[0], raw[1], raw[2], raw[3]],
                signature: raw[4..].to_vec(),
            });
        }
        Ok(Note {
            text: text.to_string(),
            signatures,
        })
    }

    /// Checks the first signature line of `key` (same name and key id) with strict Ed25519
    /// verification. `Ok(false)` when the note has no line of that key; an error when it has one
    /// that does not verify.
    pub fn verify(&self, key: &NoteKey) -> Result<bool, LogError> {
        let Some(sig) = self
            .signatures
            .iter()
            .find(|s| s.name == key.name && s.key_id == key.id)
        else {
            return Ok(false);
        };
        let signature: [u8; SIGNATURE_LEN] =
            sig.signature
                .as_slice()
                .try_into()
                .map_err(|_| LogError::NoteSignature {
                    key_id: to_hex(&key.id),
                })?;
        key.key
            .verify_raw(self.text.as_bytes(), &signature)
            .map_err(|_| LogError::NoteSignature {
                key_id: to_hex(&key.id),
            })?;
        Ok(true)
    }

    /// The whole note: text, blank line, signature lines.
    pub fn to_text(&self) -> String {
        let mut s = self.text.clone();
        s.push('\n');
        for sig in &self.signatures {
            s.push_str(&sig.to_line());
            s.push('\n');
        }
        s
    }
}

/// Signs `text` (which must end in `\n` and be a valid note text) with `key` under `name`:
/// returns the signed note, `text ‖ \n ‖ — name base64(id ‖ signature) ‖ \n`.
pub fn sign(text: &str, name: &str, key: &SecretKey) -> Result<String, LogError> {
    if !text.ends_with('\n') || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(LogError::MalformedNote {
            why: "the text must end with a line feed and hold no other control character",
        });
    }
    let note_key = NoteKey::new(name, key.public_key())?;
    let note = Note {
        text: text.to_string(),
        signatures: alloc::vec![NoteSignature {
            name: name.to_string(),
            key_id: note_key.id,
            signature: key.sign_raw(text.as_bytes()).to_vec(),
        }],
    };
    Ok(note.to_text())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of Go's golang.org/x/mod/sumdb/note documentation (Ed25519 key of
    /// PeterNeumann, the note "If you think cryptography is the answer to your problem, ...").
    const GO_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const GO_NOTE: &str = "If you think cryptography is the answer to your problem,\n\
                           then you don't know what your problem is.\n\
                           \n\
                           \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    #[test]
    fn the_go_documentation_example_verifies() {
        let key = NoteKey::from_vkey(GO_VKEY).unwrap();
        assert_eq!(key.name(), "PeterNeumann");
        assert_eq!(key.to_vkey(), GO_VKEY);
        let note = Note::parse(GO_NOTE).unwrap();
        assert!(note.text.starts_with("If you think"));
        assert_eq!(note.verify(&key), Ok(true));
        assert_eq!(note.to_text(), GO_NOTE);
        // Signing the same text with the example's secret key gives the same note (Ed25519 is
        // deterministic).
        let seed = B64
            .decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
            .unwrap();
        let sk = SecretKey::from_seed(&seed[1..].try_into().unwrap());
        let text = &note.text;
        assert_eq!(sign(text, "PeterNeumann", &sk).unwrap(), GO_NOTE);
        let tampered = GO_NOTE.replacen("problem,", "problem;", 1);
        assert_eq!(
            Note::parse(&tampered).unwrap().verify(&key),
            Err(LogError::NoteSignature {
                key_id: "c74f20a3".into()
            })
        );
    }

    #[test]
    fn signed_notes_verify_and_other_keys_are_ignored() {
        let sk = SecretKey::from_seed(&[9; 32]);
        let signed = sign("hello\nworld\n", "example.org/log", &sk).unwrap();
        let key = NoteKey::new("example.org/log", sk.public_key()).unwrap();
        assert!(signed.starts_with("hello\nworld\n\n\u{2014} example.org/log "));
        let note = Note::parse(&signed).unwrap();
        assert_eq!(note.verify(&key), Ok(true));
        // The same key under another name is another key id: no line of it.
        let other = NoteKey::new("example.org/other", sk.public_key()).unwrap();
        assert_eq!(note.verify(&other), Ok(false));
        // A second, unknown signature is kept and ignored.
        let cosigned = format!("{signed}\u{2014} witness AAAAAAE=\n");
        let note = Note::parse(&cosigned).unwrap();
        assert_eq!(note.signatures.len(), 2);
        assert_eq!(note.verify(&key), Ok(true));
        assert_eq!(note.to_text(), cosigned);
        let round = NoteKey::from_vkey(&key.to_vkey()).unwrap();
        assert_eq!(round, key);
    }

    #[test]
    fn malformed_notes_and_keys_are_refused() {
        let sk = SecretKey::from_seed(&[9; 32]);
        let signed = sign("a\n", "n", &sk).unwrap();
        for (note, why) in [
            ("a\n", "no blank line before the signatures"),
            (
                "a\n\n",
                "no signature, or the last one does not end with a line feed",
            ),
            (
                "a\n\n- n AAAAAAE=\n",
                "a signature line does not start with an em dash and a space",
            ),
            (
                "a\n\n\u{2014} nAAAAAAE=\n",
                "a signature line has no space between name and signature",
            ),
            (
                "a\n\n\u{2014} n+ AAAAAAE=\n",
                "a signature line's key name is not valid",
            ),
            (
                "a\n\n\u{2014} n AAAA\n",
                "a signature is shorter than 5 bytes",
            ),
            ("a\n\n\u{2014} n ?\n", "a signature is not base64"),
            ("a\tb\n\n\u{2014} n AAAAAAE=\n", "holds a control character"),
        ] {
            assert_eq!(
                Note::parse(note),
                Err(LogError::MalformedNote { why }),
                "{note:?}"
            );
        }
        let many = format!("a\n\n{}", "\u{2014} n AAAAAAE=\n".repeat(101));
        assert_eq!(
            Note::parse(&many),
            Err(LogError::MalformedNote {
                why: "more than 100 signatures"
            })
        );
        assert!(Note::parse(&signed).is_ok());
        assert!(sign("no newline", "n", &sk).is_err());
        assert!(sign("a\n", "with space", &sk).is_err());
        for vkey in [
            "",
            "n+0000000+AQ==",
            "n+zzzzzzzz+AQ==",
            "n+00000000+AQ==",
            "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
            "PeterNeumann+c74f20a3+AhpjQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        ] {
            assert!(NoteKey::from_vkey(vkey).is_err(), "{vkey:?}");
        }
    }
}
