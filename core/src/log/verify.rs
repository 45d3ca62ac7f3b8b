//! Verifying a log: its checkpoint under the trust list's log keys ([`verify_checkpoint`]), and
//! its whole tree recomputed from its entry bundles and compared with every tile and with the
//! checkpoint ([`check_log`]).

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use crate::error::LogError;
use crate::keys::KeyId;
use crate::log::checkpoint::Checkpoint;
use crate::log::edge::TreeEdge;
use crate::log::entry::Entry;
use crate::log::merkle::{leaf_hash, Hash};
use crate::log::note::{Note, NoteKey};
use crate::log::tile::{encode_tile, BundleId, TileId};
use crate::log::LogFiles;
use crate::trust::TrustList;
use crate::wire::to_hex;

/// A checkpoint whose signature by a log key of the trust list verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedCheckpoint {
    /// The checkpoint body.
    pub checkpoint: Checkpoint,
    /// The trust list key id of the log key whose signature verified.
    pub log_key: KeyId,
    /// The whole note (other signatures, such as witnesses' cosignatures, kept unverified).
    pub note: Note,
}

/// Verifies a signed checkpoint, in steps:
///
/// 1. **Structure**: the signed note, then its text as a checkpoint.
/// 2. **Origin**: equal to `origin` when one is expected.
/// 3. **Key lookup**: a signature line named by the origin with the note key id of a log key of
///    the trust list (the key name is the origin). Issuer keys never count.
/// 4. **Key status**: a compromised log key's line is not accepted.
/// 5. **Signature**: strict Ed25519 over the text; a line of a listed key that does not verify
///    is an error.
///
/// Never panics.
pub fn verify_checkpoint(
    note: &str,
    trust: &TrustList,
    origin: Option<&str>,
) -> Result<VerifiedCheckpoint, LogError> {
    let note = Note::parse(note)?;
    let checkpoint = Checkpoint::parse(&note.text)?;
    if let Some(expected) = origin {
        if expected != checkpoint.origin {
            return Err(LogError::OriginMismatch {
                expected: String::from(expected),
                found: checkpoint.origin,
            });
        }
    }
    let mut compromised = None;
    for key in &trust.log_keys {
        let note_key = NoteKey::new(&checkpoint.origin, key.public_key)?;
        let has_line = note
            .signatures
            .iter()
            .any(|s| s.name == note_key.name() && s.key_id == note_key.id());
        if !has_line {
            continue;
        }
        if key.compromised_since.is_some() {
            compromised = Some(key.key_id);
            continue;
        }
        note.verify(&note_key)
            .map_err(|_| LogError::NoteSignature {
                key_id: to_hex(&key.key_id.0),
            })?;
        return Ok(VerifiedCheckpoint {
            checkpoint,
            log_key: key.key_id,
            note,
        });
    }
    Err(match compromised {
        Some(id) => LogError::CompromisedLogKey {
            key_id: to_hex(&id.0),
        },
        None => LogError::NoLogKeySignature {
            name: checkpoint.origin,
        },
    })
}

/// One thing wrong with a log's files, found by [`check_log`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A file the tree needs is not there.
    Missing {
        /// Its path.
        path: String,
    },
    /// A tile or bundle that does not decode (length, structure).
    Malformed {
        /// Why, naming the file.
        error: LogError,
    },
    /// An entry of a bundle that does not decode (its leaf hash still counts in the tree).
    BadEntry {
        /// The bundle's path.
        path: String,
        /// The entry's index in the log.
        index: u64,
        /// Why.
        error: LogError,
    },
    /// A tile that differs from the one its entries give.
    Mismatch {
        /// Its path.
        path: String,
    },
    /// The entries give another root than the checkpoint's.
    Root {
        /// The root the entries give.
        computed: Hash,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing { path } => write!(f, "{path}: missing"),
            Problem::Malformed { error } => write!(f, "{error}"),
            Problem::BadEntry { path, index, error } => {
                write!(f, "{path}: entry {index}: {error}")
            }
            Problem::Mismatch { path } => {
                write!(f, "{path}: differs from the hashes of the entries")
            }
            Problem::Root { computed } => write!(
                f,
                "checkpoint: the entries give the root {}, not the checkpoint's",
                to_hex(computed)
            ),
        }
    }
}

/// Recomputes the tree of `size` entries from the entry bundles and compares every tile and the
/// root with the files and with `root` (the checkpoint's). Calls `each` with the index and
/// decoded entry of every entry that decodes, in order. Returns the problems found, none when the
/// log is whole; stops at the first bundle that is missing or does not decode (the entries after
/// it cannot be known). Errors of `files` itself (a file that cannot be read) end the check.
pub fn check_log<F: LogFiles>(
    files: &mut F,
    size: u64,
    root: &Hash,
    mut each: impl FnMut(u64, &Entry),
) -> Result<Vec<Problem>, F::Error> {
    let mut problems = Vec::new();
    let mut edge = TreeEdge::new();
    let mut index: u64 = 0;
    for bundle in BundleId::all(size) {
        let path = bundle.path();
        let Some(data) = files.read(&path)? else {
            problems.push(Problem::Missing { path });
            return Ok(problems);
        };
        let entries = match bundle.decode(&data) {
            Ok(entries) => entries,
            Err(error) => {
                problems.push(Problem::Malformed { error });
                return Ok(problems);
            }
        };
        for bytes in entries {
            match Entry::decode(bytes) {
                Ok(entry) => each(index, &entry),
                Err(error) => problems.push(Problem::BadEntry {
                    path: path.clone(),
                    index,
                    error,
                }),
            }
            for (id, hashes) in edge.push(leaf_hash(bytes))? {
                compare_tile(files, id, &hashes, &mut problems)?;
            }
            index += 1;
        }
    }
    let partial: Vec<(TileId, Vec<Hash>)> = edge
        .partial_tiles()
        .map(|(id, h)| (id, h.to_vec()))
        .collect();
    for (id, hashes) in partial {
        compare_tile(files, id, &hashes, &mut problems)?;
    }
    let computed = edge.root();
    if computed != *root {
        problems.push(Problem::Root { computed });
    }
    Ok(problems)
}

fn compare_tile<F: LogFiles>(
    files: &mut F,
    id: TileId,
    hashes: &[Hash],
    problems: &mut Vec<Problem>,
) -> Result<(), F::Error> {
    let path = id.path();
    match files.read(&path)? {
        None => problems.push(Problem::Missing { path }),
        Some(data) if data != encode_tile(hashes) => problems.push(Problem::Mismatch { path }),
        Some(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::date::Day;
    use crate::log::edge::Appender;
    use crate::log::{note, sign_checkpoint};
    use crate::trust::IssuerKey;
    use crate::SecretKey;
    use alloc::collections::BTreeMap;
    use alloc::string::ToString;
    use alloc::vec;

    #[derive(Default, Clone)]
    struct Files(BTreeMap<String, Vec<u8>>);

    impl LogFiles for Files {
        type Error = LogError;
        fn read(&mut self, path: &str) -> Result<Option<Vec<u8>>, LogError> {
            Ok(self.0.get(path).cloned())
        }
    }

    fn trust(issuer: &SecretKey, logs: &[&SecretKey]) -> TrustList {
        let key = |k: &SecretKey| IssuerKey::new(k.public_key(), "k".into(), Day(0), Day(9));
        TrustList {
            sequence: 1,
            issued_at: 0,
            issuers: vec![key(issuer)],
            log_keys: logs.iter().map(|k| key(k)).collect(),
        }
    }

    fn checkpoint() -> Checkpoint {
        Checkpoint {
            origin: "label.example.cn/log".into(),
            size: 3,
            root: [5; 32],
            extensions: Vec::new(),
        }
    }

    #[test]
    fn a_checkpoint_verifies_only_under_a_good_log_key() {
        let (issuer, log, other) = (
            SecretKey::from_seed(&[1; 32]),
            SecretKey::from_seed(&[2; 32]),
            SecretKey::from_seed(&[3; 32]),
        );
        let cp = checkpoint();
        let signed = sign_checkpoint(&cp, &log).unwrap();
        let list = trust(&issuer, &[&other, &log]);
        let v = verify_checkpoint(&signed, &list, Some("label.example.cn/log")).unwrap();
        assert_eq!(v.checkpoint, cp);
        assert_eq!(v.log_key, log.public_key().key_id());
        assert_eq!(
            verify_checkpoint(&signed, &list, Some("elsewhere/log")),
            Err(LogError::OriginMismatch {
                expected: "elsewhere/log".into(),
                found: "label.example.cn/log".into()
            })
        );
        // Signed by the issuer key: not a log key.
        let by_issuer = sign_checkpoint(&cp, &issuer).unwrap();
        assert_eq!(
            verify_checkpoint(&by_issuer, &list, None),
            Err(LogError::NoLogKeySignature {
                name: "label.example.cn/log".into()
            })
        );
        // The log key marked compromised.
        let mut bad = list.clone();
        for k in &mut bad.log_keys {
            k.compromised_since = Some(Day(1));
        }
        assert!(matches!(
            verify_checkpoint(&signed, &bad, None),
            Err(LogError::CompromisedLogKey { .. })
        ));
        // A changed tree size under the old signature.
        let forged = signed.replacen("\n3\n", "\n4\n", 1);
        assert_eq!(
            verify_checkpoint(&forged, &list, None),
            Err(LogError::NoteSignature {
                key_id: log.public_key().key_id().to_string()
            })
        );
        // A witness's cosignature beside it changes nothing.
        let cosigned = note::sign(&cp.to_text(), "witness.example", &other).unwrap();
        let line = cosigned.lines().last().unwrap();
        let both = format!("{signed}{line}\n");
        assert!(verify_checkpoint(&both, &list, None).is_ok());
    }

    #[test]
    fn check_log_finds_every_damaged_file() {
        let mut a = Appender::new();
        for i in 0u64..600 {
            let e = Entry::trust_list(i, &i.to_be_bytes()).encode();
            a.append(e).unwrap();
        }
        let u = a.finish().unwrap();
        let mut files = Files::default();
        for (p, b) in &u.files {
            files.0.insert(p.clone(), b.clone());
        }
        let mut seen = 0;
        let problems = check_log(&mut files.clone(), u.size, &u.root, |i, e| {
            assert_eq!(*e, Entry::trust_list(i, &i.to_be_bytes()));
            seen += 1;
        })
        .unwrap();
        assert_eq!(problems, []);
        assert_eq!(seen, 600);

        let mut tile = files.clone();
        tile.0.get_mut("tile/0/001").unwrap()[40] ^= 1;
        tile.0.remove("tile/1/000.p/2");
        let problems = check_log(&mut tile, u.size, &u.root, |_, _| {}).unwrap();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "tile/0/001: differs from the hashes of the entries",
                "tile/1/000.p/2: missing"
            ]
        );
        let problems = check_log(&mut files.clone(), u.size, &[0; 32], |_, _| {}).unwrap();
        assert!(matches!(problems[..], [Problem::Root { .. }]));

        // An entry changed in a bundle: its leaf, so a tile and the root, differ.
        let mut bundle = files.clone();
        let b = bundle.0.get_mut("tile/entries/001").unwrap();
        b[10] ^= 1;
        let problems = check_log(&mut bundle, u.size, &u.root, |_, _| {}).unwrap();
        let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 3, "{shown:?}");
        assert_eq!(
            shown[0],
            "tile/0/001: differs from the hashes of the entries"
        );
        assert_eq!(
            shown[1],
            "tile/1/000.p/2: differs from the hashes of the entries"
        );
        assert!(shown[2].starts_with("checkpoint: the entries give the root "));
        // A bundle cut short: the check stops there.
        let mut cut = files.clone();
        cut.0.get_mut("tile/entries/000").unwrap().pop();
        let problems = check_log(&mut cut, u.size, &u.root, |_, _| {}).unwrap();
        assert!(matches!(problems[..], [Problem::Malformed { .. }]));
        // An undecodable entry is named, and its leaf still counts.
        let mut a = Appender::new();
        a.append(vec![9, 9]).unwrap();
        let u = a.finish().unwrap();
        let mut files = Files(u.files.into_iter().collect());
        let problems = check_log(&mut files, u.size, &u.root, |_, _| {}).unwrap();
        assert_eq!(
            problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["tile/entries/000.p/1: entry 0: log entry: unknown type 9"]
        );
    }
}
