//! Witness cosignatures of checkpoints: C2SP tlog-cosignature, the Ed25519 type
//! `cosignature/v1` (c2sp.org/tlog-cosignature).
//!
//! A cosignature is one more signature line of the checkpoint's signed note:
//!
//! ```text
//! — <witness name> base64(key id [4] ‖ timestamp u64 big-endian [8] ‖ Ed25519 signature [64])
//! ```
//!
//! - The **key id** is SHA-256(name ‖ 0x0A ‖ 0x04 ‖ 32-byte public key)[..4] (0x04: the
//!   cosignature/v1 type, where a log key's note signature has 0x01).
//! - The **signed message** is `cosignature/v1\n`, `time <timestamp in decimal>\n`, then the
//!   checkpoint's whole text (every line, with its final line feed, no signature line).
//! - The **timestamp** is when the witness cosigned, in Unix seconds, at most 2^63 − 1.
//! - A **verifier key** is `<name>+<key id, 8 hex digits>+<base64(0x04 ‖ public key)>`.
//!
//! A witness cosigns a checkpoint only after checking that it is consistent with the largest one
//! it saw before. Go's `sumdb/note` ignores such lines (their key is unknown to it), so a
//! checkpoint with cosignatures still opens there.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use base64::Engine;
use sha2::{Digest, Sha256};

use crate::error::LogError;
use crate::keys::{PublicKey, SecretKey, SIGNATURE_LEN};
use crate::log::checkpoint::B64;
use crate::log::note::{check_key_name, parse_vkey, Note, NoteSignature};
use crate::wire::to_hex;

/// The signature type byte of Ed25519 cosignatures (`cosignature/v1`) in key ids and verifier
/// keys.
pub const COSIGNATURE_V1: u8 = 0x04;
/// The first line of the signed message.
pub const HEADER: &str = "cosignature/v1";
/// The largest timestamp a cosignature may carry.
pub const MAX_TIMESTAMP: u64 = (1 << 63) - 1;
/// Bytes after the key id in a cosignature line: the timestamp and the signature.
pub const COSIGNATURE_LEN: usize = 8 + SIGNATURE_LEN;

/// The key id of a witness key under a name: SHA-256(name ‖ 0x0A ‖ 0x04 ‖ key)[..4].
pub fn key_id(name: &str, key: &PublicKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', COSIGNATURE_V1]);
    h.update(key.to_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The message a witness signs: the header line, the time line, then the checkpoint text.
pub fn message(checkpoint_text: &str, timestamp: u64) -> String {
    format!("{HEADER}\ntime {timestamp}\n{checkpoint_text}")
}

/// A witness's Ed25519 key under its name, as a verifier of cosignatures knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessKey {
    name: String,
    key: PublicKey,
    id: [u8; 4],
}

impl WitnessKey {
    /// The key `key` under the name `name` (a valid note key name: not empty, no white space, no
    /// `+`).
    pub fn new(name: &str, key: PublicKey) -> Result<WitnessKey, LogError> {
        check_key_name(name)?;
        Ok(WitnessKey {
            name: name.to_string(),
            id: key_id(name, &key),
            key,
        })
    }

    /// The witness name (its key name).
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

    /// The verifier key string, `name+hex(key id)+base64(0x04 ‖ key)`.
    pub fn to_vkey(&self) -> String {
        let mut raw = Vec::with_capacity(33);
        raw.push(COSIGNATURE_V1);
        raw.extend_from_slice(&self.key.to_bytes());
        format!("{}+{}+{}", self.name, to_hex(&self.id), B64.encode(raw))
    }

    /// Parses a verifier key string of type 0x04; refuses a bad name, an id that is not 8
    /// lower-case hex digits or not the key's, another type (a log key's 0x01 included) and a
    /// weak or non-canonical key. Never panics.
    pub fn from_vkey(vkey: &str) -> Result<WitnessKey, LogError> {
        let (name, id, key) = parse_vkey(
            vkey,
            COSIGNATURE_V1,
            "the key type is not an Ed25519 cosignature key (0x04)",
        )?;
        let witness = WitnessKey::new(name, key)?;
        if witness.id != id {
            return Err(LogError::BadVerifierKey {
                why: "the key id is not the key's",
            });
        }
        Ok(witness)
    }

    /// Checks this witness's cosignature in a checkpoint's note: the first signature line with
    /// its name and key id, 72 bytes after the id, a timestamp of at most 2^63 − 1 and a strict
    /// Ed25519 signature over [`message`]. `Ok(None)` when the note has no line of this witness;
    /// `Ok(Some(timestamp))` when it verifies. Never panics.
    pub fn verify(&self, note: &Note) -> Result<Option<u64>, LogError> {
        let Some(line) = note
            .signatures
            .iter()
            .find(|s| s.name == self.name && s.key_id == self.id)
        else {
            return Ok(None);
        };
        let refused = |why| LogError::Cosignature {
            name: self.name.clone(),
            why,
        };
        let (time, signature) = parse_line(&line.signature).ok_or(refused(
            "not 72 bytes of timestamp and Ed25519 signature after the key id",
        ))?;
        if time > MAX_TIMESTAMP {
            return Err(refused("timestamp over 2^63 - 1"));
        }
        self.key
            .verify_raw(message(&note.text, time).as_bytes(), &signature)
            .map_err(|_| refused("the signature does not verify"))?;
        Ok(Some(time))
    }
}

/// The timestamp and signature of a cosignature line's bytes after the key id.
fn parse_line(bytes: &[u8]) -> Option<(u64, [u8; SIGNATURE_LEN])> {
    if bytes.len() != COSIGNATURE_LEN {
        return None;
    }
    let (time, signature) = bytes.split_at(8);
    Some((
        u64::from_be_bytes(time.try_into().ok()?),
        signature.try_into().ok()?,
    ))
}

/// Cosigns a checkpoint's text (which must be a valid note text ending in `\n`) as the witness
/// `name` with `key` at `timestamp`: the signature line to add to its note.
pub fn cosign(
    checkpoint_text: &str,
    timestamp: u64,
    name: &str,
    key: &SecretKey,
) -> Result<NoteSignature, LogError> {
    if !checkpoint_text.ends_with('\n')
        || checkpoint_text.chars().any(|c| c.is_control() && c != '\n')
    {
        return Err(LogError::MalformedNote {
            why: "the text must end with a line feed and hold no other control character",
        });
    }
    if timestamp > MAX_TIMESTAMP {
        return Err(LogError::Cosignature {
            name: name.to_string(),
            why: "timestamp over 2^63 - 1",
        });
    }
    let witness = WitnessKey::new(name, key.public_key())?;
    let mut signature = timestamp.to_be_bytes().to_vec();
    signature.extend_from_slice(&key.sign_raw(message(checkpoint_text, timestamp).as_bytes()));
    Ok(NoteSignature {
        name: witness.name,
        key_id: witness.id,
        signature,
    })
}

/// Adds (or replaces) `line` in `note`: an earlier line of the same key name and id is removed,
/// so a note carries one cosignature per witness, the newest. The order of the other lines is
/// kept; the new line goes last.
pub fn add_line(note: &mut Note, line: NoteSignature) {
    note.signatures
        .retain(|s| !(s.name == line.name && s.key_id == line.key_id));
    note.signatures.push(line);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::note;

    const TEXT: &str = "label.example.cn/log\n3\nBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQU=\n";

    fn witness() -> (SecretKey, WitnessKey) {
        let sk = SecretKey::from_seed(&[7; 32]);
        let wk = WitnessKey::new("witness.example.org/w1", sk.public_key()).unwrap();
        (sk, wk)
    }

    #[test]
    fn a_cosignature_verifies_beside_the_log_signature() {
        let log = SecretKey::from_seed(&[2; 32]);
        let signed = note::sign(TEXT, "label.example.cn/log", &log).unwrap();
        let (sk, wk) = witness();
        let mut n = Note::parse(&signed).unwrap();
        assert_eq!(wk.verify(&n), Ok(None));
        let line = cosign(TEXT, 1_796_000_000, wk.name(), &sk).unwrap();
        assert_eq!(line.signature.len(), 72);
        assert_eq!(&line.signature[..8], &1_796_000_000u64.to_be_bytes());
        add_line(&mut n, line);
        let text = n.to_text();
        let reparsed = Note::parse(&text).unwrap();
        assert_eq!(wk.verify(&reparsed), Ok(Some(1_796_000_000)));
        // The log key's own line still verifies; the cosignature is another key to it.
        let log_key = note::NoteKey::new("label.example.cn/log", log.public_key()).unwrap();
        assert_eq!(reparsed.verify(&log_key), Ok(true));
        // A newer cosignature of the same witness replaces the older one.
        let mut again = reparsed.clone();
        add_line(
            &mut again,
            cosign(TEXT, 1_796_000_100, wk.name(), &sk).unwrap(),
        );
        assert_eq!(again.signatures.len(), 2);
        assert_eq!(wk.verify(&again), Ok(Some(1_796_000_100)));
    }

    #[test]
    fn a_cosignature_of_another_checkpoint_or_time_is_refused() {
        let (sk, wk) = witness();
        let line = cosign(TEXT, 100, wk.name(), &sk).unwrap();
        let refused = Err(LogError::Cosignature {
            name: wk.name().into(),
            why: "the signature does not verify",
        });
        // The same line under another tree size.
        let other = Note {
            text: TEXT.replacen("\n3\n", "\n4\n", 1),
            signatures: alloc::vec![line.clone()],
        };
        assert_eq!(wk.verify(&other), refused);
        // Another timestamp than the one signed.
        let mut shifted = line.clone();
        shifted.signature[7] ^= 1;
        let n = Note {
            text: TEXT.into(),
            signatures: alloc::vec![shifted],
        };
        assert_eq!(wk.verify(&n), refused);
        // A line cut short.
        let mut short = line.clone();
        short.signature.pop();
        let n = Note {
            text: TEXT.into(),
            signatures: alloc::vec![short],
        };
        assert!(matches!(wk.verify(&n), Err(LogError::Cosignature { .. })));
        // A timestamp past 2^63 - 1.
        assert!(cosign(TEXT, 1 << 63, wk.name(), &sk).is_err());
        // The same key signing as a log key (type 0x01) is another key id: no line of the witness.
        let as_note = note::sign(TEXT, wk.name(), &sk).unwrap();
        assert_eq!(wk.verify(&Note::parse(&as_note).unwrap()), Ok(None));
    }

    #[test]
    fn verifier_keys_round_trip_and_refuse_other_types() {
        let (_, wk) = witness();
        let vkey = wk.to_vkey();
        assert!(vkey.starts_with("witness.example.org/w1+"));
        assert_eq!(WitnessKey::from_vkey(&vkey), Ok(wk.clone()));
        // The same key as a note (log) key: type 0x01.
        let log_vkey = note::NoteKey::new(wk.name(), *wk.key()).unwrap().to_vkey();
        assert_eq!(
            WitnessKey::from_vkey(&log_vkey),
            Err(LogError::BadVerifierKey {
                why: "the key type is not an Ed25519 cosignature key (0x04)"
            })
        );
        let (name, rest) = vkey.split_once('+').unwrap();
        let wrong_id = format!("{name}+00000000+{}", rest.split_once('+').unwrap().1);
        assert_eq!(
            WitnessKey::from_vkey(&wrong_id),
            Err(LogError::BadVerifierKey {
                why: "the key id is not the key's"
            })
        );
        assert!(WitnessKey::from_vkey("no plus").is_err());
        assert!(WitnessKey::new("has space", *wk.key()).is_err());
    }
}
