//! The log's vectors: `log_entries.json`, `log_tree.json`, `log_tiles.json`,
//! `log_checkpoint.json` and `log_refused.json` (docs/FORMAT.md, section "Log").

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use starmark_core::log::merkle::{
    consistency_proof, empty_root, inclusion_proof, leaf_hash, root_of, verify_consistency,
    verify_inclusion, Leaves,
};
use starmark_core::log::note::{self, NoteKey};
use starmark_core::log::{
    sign_checkpoint, verify_checkpoint, Appender, BundleId, Checkpoint, Entry, LogPath, Note,
    TileId,
};
use starmark_core::{Day, IssuerKey, SignedClaim, TrustList};

use super::{check, secret};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_else(|e| panic!("{s:?} is not hex: {e}"))
}

// ---------------------------------------------------------------------------------------------
// log_entries.json

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct EntryCase {
    description: String,
    inputs: EntryInputs,
    #[serde(default)]
    outputs: EntryOutputs,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct EntryInputs {
    /// `claim`, `revocation_list` or `trust_list`.
    kind: String,
    /// A claim entry: the signed claim (claim ‖ signature).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signed_claim_hex: Option<String>,
    /// A list entry: the list's sequence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sequence: Option<u64>,
    /// A list entry: the whole signed list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signed_list_hex: Option<String>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
struct EntryOutputs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    list_sha256_hex: Option<String>,
    entry_hex: String,
    leaf_hash_hex: String,
}

fn entry_case(case: &EntryCase) -> EntryCase {
    let i = &case.inputs;
    let list = || {
        (
            i.sequence.expect("a list entry has a sequence"),
            unhex(
                i.signed_list_hex
                    .as_deref()
                    .expect("a list entry has its list"),
            ),
        )
    };
    let (entry, list_sha256) = match i.kind.as_str() {
        "claim" => {
            let bytes = unhex(i.signed_claim_hex.as_deref().expect("a signed claim"));
            (Entry::Claim(SignedClaim::decode(&bytes).unwrap()), None)
        }
        "revocation_list" => {
            let (seq, bytes) = list();
            (
                Entry::revocation_list(seq, &bytes),
                Some(Sha256::digest(&bytes)),
            )
        }
        "trust_list" => {
            let (seq, bytes) = list();
            (Entry::trust_list(seq, &bytes), Some(Sha256::digest(&bytes)))
        }
        other => panic!("unknown kind {other:?}"),
    };
    let bytes = entry.encode();
    assert_eq!(Entry::decode(&bytes).unwrap(), entry);
    EntryCase {
        description: case.description.clone(),
        inputs: i.clone(),
        outputs: EntryOutputs {
            list_sha256_hex: list_sha256.map(hex::encode),
            entry_hex: hex::encode(&bytes),
            leaf_hash_hex: hex::encode(entry.leaf_hash()),
        },
    }
}

#[test]
fn log_entry_vectors() {
    check("log_entries.json", entry_case);
}

// ---------------------------------------------------------------------------------------------
// log_tree.json

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct TreeCase {
    description: String,
    inputs: TreeInputs,
    #[serde(default)]
    outputs: TreeOutputs,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct TreeInputs {
    /// The entries, in order (any bytes: hashing does not read them).
    entries_hex: Vec<String>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
struct TreeOutputs {
    leaf_hashes_hex: Vec<String>,
    /// The root of the first n entries, for n = 0, 1, ...
    roots_hex: Vec<String>,
    /// Every leaf's inclusion proof in every tree that holds it.
    inclusion: Vec<InclusionProof>,
    /// The consistency proof of every pair of sizes 1 ≤ old < new.
    consistency: Vec<ConsistencyProof>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct InclusionProof {
    index: u64,
    size: u64,
    proof_hex: Vec<String>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct ConsistencyProof {
    old: u64,
    new: u64,
    proof_hex: Vec<String>,
}

fn tree_case(case: &TreeCase) -> TreeCase {
    let entries: Vec<Vec<u8>> = case.inputs.entries_hex.iter().map(|e| unhex(e)).collect();
    let leaves: Vec<[u8; 32]> = entries.iter().map(|e| leaf_hash(e)).collect();
    let n = leaves.len() as u64;
    let roots: Vec<[u8; 32]> = (0..=leaves.len()).map(|k| root_of(&leaves[..k])).collect();
    assert_eq!(roots[0], empty_root());
    let hexes = |p: &[[u8; 32]]| p.iter().map(hex::encode).collect::<Vec<_>>();
    let mut inclusion = Vec::new();
    let mut consistency = Vec::new();
    for size in 1..=n {
        let mut src = Leaves(leaves[..size as usize].to_vec());
        for index in 0..size {
            let proof = inclusion_proof(&mut src, index, size).unwrap();
            verify_inclusion(
                &leaves[index as usize],
                index,
                size,
                &proof,
                &roots[size as usize],
            )
            .unwrap();
            inclusion.push(InclusionProof {
                index,
                size,
                proof_hex: hexes(&proof),
            });
        }
        for old in 1..size {
            let proof = consistency_proof(&mut src, old, size).unwrap();
            verify_consistency(
                old,
                size,
                &roots[old as usize],
                &roots[size as usize],
                &proof,
            )
            .unwrap();
            consistency.push(ConsistencyProof {
                old,
                new: size,
                proof_hex: hexes(&proof),
            });
        }
    }
    TreeCase {
        description: case.description.clone(),
        inputs: case.inputs.clone(),
        outputs: TreeOutputs {
            leaf_hashes_hex: hexes(&leaves),
            roots_hex: hexes(&roots),
            inclusion,
            consistency,
        },
    }
}

#[test]
fn log_tree_vectors() {
    check("log_tree.json", tree_case);
}

// ---------------------------------------------------------------------------------------------
// log_tiles.json

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct TilesCase {
    description: String,
    inputs: TilesInputs,
    #[serde(default)]
    outputs: TilesOutputs,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct TilesInputs {
    /// Tiles and bundles whose paths to write: a tile has a level, a bundle none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    paths_of: Vec<TileInput>,
    /// A log of this many entries, entry i being the trust list entry of sequence i whose
    /// SHA-256 is SHA-256 of i as 8 big-endian bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    entries: Option<u64>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct TileInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    level: Option<u8>,
    index: u64,
    width: u16,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
struct TilesOutputs {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    paths: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    root_hex: Option<String>,
    /// Every file of the log but the checkpoint: path, length, SHA-256, and the bytes of those
    /// under 100 bytes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    files: Vec<FileOutput>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct FileOutput {
    path: String,
    length: usize,
    sha256_hex: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hex: Option<String>,
}

/// Entry `i` of the tiles vectors.
fn numbered_entry(i: u64) -> Vec<u8> {
    Entry::trust_list(i, &i.to_be_bytes()).encode()
}

fn tiles_case(case: &TilesCase) -> TilesCase {
    let i = &case.inputs;
    let paths: Vec<String> = i
        .paths_of
        .iter()
        .map(|t| {
            let path = match t.level {
                Some(level) => TileId {
                    level,
                    index: t.index,
                    width: t.width,
                }
                .path(),
                None => BundleId {
                    index: t.index,
                    width: t.width,
                }
                .path(),
            };
            assert_eq!(LogPath::parse(&path).unwrap().path(), path);
            path
        })
        .collect();
    let mut root_hex = None;
    let mut files = Vec::new();
    if let Some(n) = i.entries {
        let mut a = Appender::new();
        for k in 0..n {
            a.append(numbered_entry(k)).unwrap();
        }
        let u = a.finish().unwrap();
        let leaves: Vec<[u8; 32]> = (0..n).map(|k| leaf_hash(&numbered_entry(k))).collect();
        assert_eq!(u.root, root_of(&leaves));
        root_hex = Some(hex::encode(u.root));
        let by_path: BTreeMap<String, Vec<u8>> = u.files.into_iter().collect();
        let expected: Vec<String> = TileId::all(n)
            .map(|t| t.path())
            .chain(BundleId::all(n).map(|b| b.path()))
            .collect();
        for path in expected {
            let bytes = &by_path[&path];
            files.push(FileOutput {
                path,
                length: bytes.len(),
                sha256_hex: hex::encode(Sha256::digest(bytes)),
                hex: (bytes.len() < 100).then(|| hex::encode(bytes)),
            });
        }
    }
    TilesCase {
        description: case.description.clone(),
        inputs: i.clone(),
        outputs: TilesOutputs {
            paths,
            root_hex,
            files,
        },
    }
}

#[test]
fn log_tiles_vectors() {
    check("log_tiles.json", tiles_case);
}

// ---------------------------------------------------------------------------------------------
// log_checkpoint.json

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct CheckpointCase {
    description: String,
    inputs: CheckpointInputs,
    #[serde(default)]
    outputs: CheckpointOutputs,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct CheckpointInputs {
    /// The seed of the signing key.
    seed_hex: String,
    /// A checkpoint (origin, size, root), signed under the origin as key name ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    origin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    root_hex: Option<String>,
    /// ... or any note text, signed under `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
struct CheckpointOutputs {
    public_key_hex: String,
    /// The key id in the trust list (SHA-256 of the public key, first 4 bytes).
    trust_key_id_hex: String,
    /// The key id in the note (SHA-256 of name ‖ 0x0A ‖ 0x01 ‖ public key, first 4 bytes).
    note_key_id_hex: String,
    /// The verifier key, as Go's note.NewVerifier reads it.
    vkey: String,
    /// The text signed.
    text: String,
    /// The signed note.
    signed_note: String,
}

fn checkpoint_case(case: &CheckpointCase) -> CheckpointCase {
    let i = &case.inputs;
    let key = secret(&i.seed_hex);
    let (text, name, signed) = match (&i.text, &i.origin) {
        (Some(text), None) => {
            let name = i.name.clone().expect("a note text has a key name");
            let signed = note::sign(text, &name, &key).unwrap();
            (text.clone(), name, signed)
        }
        (None, Some(origin)) => {
            let root: [u8; 32] = unhex(i.root_hex.as_deref().expect("a root"))
                .try_into()
                .expect("32 bytes");
            let cp = Checkpoint {
                origin: origin.clone(),
                size: i.size.expect("a size"),
                root,
                extensions: Vec::new(),
            };
            let signed = sign_checkpoint(&cp, &key).unwrap();
            // Verified under a trust list naming the key as a log key.
            let trust = TrustList {
                sequence: 1,
                issued_at: 0,
                issuers: Vec::new(),
                log_keys: vec![IssuerKey::new(
                    key.public_key(),
                    "log".into(),
                    Day(0),
                    Day::MAX,
                )],
            };
            let verified = verify_checkpoint(&signed, &trust, Some(origin)).unwrap();
            assert_eq!(verified.checkpoint, cp);
            (cp.to_text(), origin.clone(), signed)
        }
        _ => panic!("{}: a text or a checkpoint", case.description),
    };
    let note_key = NoteKey::new(&name, key.public_key()).unwrap();
    assert_eq!(Note::parse(&signed).unwrap().verify(&note_key), Ok(true));
    assert_eq!(NoteKey::from_vkey(&note_key.to_vkey()).unwrap(), note_key);
    CheckpointCase {
        description: case.description.clone(),
        inputs: i.clone(),
        outputs: CheckpointOutputs {
            public_key_hex: hex::encode(key.public_key().to_bytes()),
            trust_key_id_hex: hex::encode(key.public_key().key_id().0),
            note_key_id_hex: hex::encode(note_key.id()),
            vkey: note_key.to_vkey(),
            text,
            signed_note: signed,
        },
    }
}

#[test]
fn log_checkpoint_vectors() {
    check("log_checkpoint.json", checkpoint_case);
}

// ---------------------------------------------------------------------------------------------
// log_refused.json

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct RefusedCase {
    description: String,
    inputs: RefusedInputs,
    #[serde(default)]
    outputs: RefusedLogOutputs,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct RefusedInputs {
    /// `path`, `entry` (hex), `bundle` (hex, with `width`), `checkpoint` (a body) or
    /// `note` (a signed note, checked as a checkpoint under the log key `seed_hex`).
    kind: String,
    input: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    width: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    seed_hex: Option<String>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
struct RefusedLogOutputs {
    error: String,
}

fn refused_case(case: &RefusedCase) -> RefusedCase {
    let i = &case.inputs;
    let error = match i.kind.as_str() {
        "path" => LogPath::parse(&i.input).map(|_| ()).unwrap_err(),
        "entry" => Entry::decode(&unhex(&i.input)).map(|_| ()).unwrap_err(),
        "bundle" => BundleId {
            index: 0,
            width: i.width.expect("a bundle's width"),
        }
        .decode(&unhex(&i.input))
        .map(|_| ())
        .unwrap_err(),
        "checkpoint" => Checkpoint::parse(&i.input).map(|_| ()).unwrap_err(),
        "note" => {
            let key = secret(i.seed_hex.as_deref().expect("the log key's seed"));
            let trust = TrustList {
                sequence: 1,
                issued_at: 0,
                issuers: Vec::new(),
                log_keys: vec![IssuerKey::new(
                    key.public_key(),
                    "log".into(),
                    Day(0),
                    Day::MAX,
                )],
            };
            verify_checkpoint(&i.input, &trust, None)
                .map(|_| ())
                .unwrap_err()
        }
        other => panic!("unknown kind {other:?}"),
    };
    RefusedCase {
        description: case.description.clone(),
        inputs: i.clone(),
        outputs: RefusedLogOutputs {
            error: error.to_string(),
        },
    }
}

#[test]
fn log_refused_vectors() {
    check("log_refused.json", refused_case);
}

/// The vector signed with the key of Go's golang.org/x/mod/sumdb/note documentation gives
/// exactly the note and verifier key printed there.
#[test]
fn the_go_documentation_example_is_a_vector() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors/log_checkpoint.json");
    let file: super::File<CheckpointCase> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let go = file
        .cases
        .iter()
        .find(|c| c.inputs.name.as_deref() == Some("PeterNeumann"))
        .expect("the Go example case");
    let raw = base64::engine::general_purpose::STANDARD
        .decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
        .unwrap();
    assert_eq!(go.inputs.seed_hex, hex::encode(&raw[1..]));
    assert_eq!(
        go.outputs.vkey,
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    );
    assert_eq!(
        go.outputs.signed_note,
        "If you think cryptography is the answer to your problem,\n\
         then you don't know what your problem is.\n\
         \n\
         \u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    );
}

// ---------------------------------------------------------------------------------------------
// log_cosignature.json

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct CosignatureCase {
    description: String,
    inputs: CosignatureInputs,
    #[serde(default)]
    outputs: CosignatureOutputs,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct CosignatureInputs {
    /// The seed of the witness key.
    witness_seed_hex: String,
    /// The witness name (its key name).
    witness_name: String,
    /// When it cosigns (Unix seconds).
    timestamp: u64,
    /// The signed checkpoint it cosigns (text, blank line, the log's signature lines).
    checkpoint: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
struct CosignatureOutputs {
    public_key_hex: String,
    /// SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key), first 4 bytes.
    key_id_hex: String,
    /// `name+hex(key id)+base64(0x04 ‖ public key)`.
    vkey: String,
    /// What the witness signs: `cosignature/v1\ntime <timestamp>\n` then the checkpoint text.
    message: String,
    /// The signature line.
    line: String,
    /// The checkpoint with the line added.
    cosigned: String,
}

fn cosignature_case(case: &CosignatureCase) -> CosignatureCase {
    use starmark_core::log::cosignature::{self, WitnessKey};
    let i = &case.inputs;
    let key = secret(&i.witness_seed_hex);
    let mut note = Note::parse(&i.checkpoint).unwrap();
    let line = cosignature::cosign(&note.text, i.timestamp, &i.witness_name, &key).unwrap();
    cosignature::add_line(&mut note, line.clone());
    let cosigned = note.to_text();
    let witness = WitnessKey::new(&i.witness_name, key.public_key()).unwrap();
    assert_eq!(
        witness.verify(&Note::parse(&cosigned).unwrap()),
        Ok(Some(i.timestamp))
    );
    assert_eq!(WitnessKey::from_vkey(&witness.to_vkey()).unwrap(), witness);
    CosignatureCase {
        description: case.description.clone(),
        inputs: i.clone(),
        outputs: CosignatureOutputs {
            public_key_hex: hex::encode(key.public_key().to_bytes()),
            key_id_hex: hex::encode(witness.id()),
            vkey: witness.to_vkey(),
            message: cosignature::message(&note.text, i.timestamp),
            line: line.to_line(),
            cosigned,
        },
    }
}

#[test]
fn log_cosignature_vectors() {
    check("log_cosignature.json", cosignature_case);
}
