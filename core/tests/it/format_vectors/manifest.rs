//! `tests/vectors/manifest.json` and `manifest_refused.json` (docs/FORMAT.md section 11).

use serde::{Deserialize, Serialize};
use starmark_core::manifest::{
    self, node_path, FileMeta, FnSource, Hash, Node, Root, RootSignature,
};
use starmark_core::{IssuerKey, TrustList};

use super::{check, day, secret};

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct ManifestCase {
    description: String,
    inputs: ManifestInputs,
    #[serde(default)]
    outputs: ManifestOutputs,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct ManifestInputs {
    issuer_seed_hex: String,
    /// Files with their content (UTF-8 text).
    files: Vec<FileInput>,
    /// Also `count` files `<dir>/<i>.html` (i from 0) whose content is `page <i>` and a line end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    generated: Option<Generated>,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct FileInput {
    path: String,
    content: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct Generated {
    dir: String,
    count: u32,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
struct ManifestOutputs {
    /// The input files (not the generated ones) as the manifest lists them.
    files: Vec<FileOutput>,
    /// Every listing and bucket, the site root's first, a level of the tree at a time.
    listings: Vec<ListingOutput>,
    /// `manifest/root.bin`.
    root_hex: String,
    root_sha256_hex: String,
    /// `manifest/root.sig`: key id, then the signature over "starmark-manifest-v1\0" || root.
    signature_hex: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct FileOutput {
    path: String,
    size: u64,
    sha256_hex: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct ListingOutput {
    /// Where the site publishes it.
    path: String,
    kind: String,
    dir: String,
    depth: u8,
    bytes_hex: String,
}

fn manifest_case(case: &ManifestCase) -> ManifestCase {
    let i = &case.inputs;
    let issuer = secret(&i.issuer_seed_hex);
    let mut files: Vec<(String, Vec<u8>)> = i
        .files
        .iter()
        .map(|f| (f.path.clone(), f.content.clone().into_bytes()))
        .collect();
    if let Some(g) = &i.generated {
        files.extend((0..g.count).map(|n| {
            (
                format!("{}/{n}.html", g.dir),
                format!("page {n}\n").into_bytes(),
            )
        }));
    }
    let built = manifest::build(files.iter().map(|(p, b)| (p.clone(), FileMeta::of(b)))).unwrap();
    let checkpoint = files
        .iter()
        .find(|(p, _)| p == manifest::CHECKPOINT_PATH)
        .map(|(_, b)| FileMeta::of(b).sha256);
    let root = Root {
        tree: built.tree,
        checkpoint,
    };
    let root_bytes = root.encode();
    let signature = RootSignature::sign(&root_bytes, &issuer).encode();

    // Back again: the walk lists exactly the files, and the signature verifies.
    let store: std::collections::BTreeMap<Hash, Vec<u8>> = built.nodes.iter().cloned().collect();
    let mut src = FnSource(|h: &Hash| store.get(h).cloned().ok_or(()));
    let contents = manifest::files(&Root::decode(&root_bytes).unwrap(), &mut src).unwrap();
    assert_eq!(contents.files.len(), files.len());
    let trust = TrustList {
        sequence: 1,
        issued_at: 0,
        issuers: vec![IssuerKey::new(
            issuer.public_key(),
            "vector issuer".into(),
            day("2026-01-01"),
            day("2030-12-31"),
        )],
        log_keys: Vec::new(),
    };
    RootSignature::decode(&signature)
        .unwrap()
        .verify(&root_bytes, &trust)
        .unwrap();

    let listings = contents
        .nodes
        .iter()
        .map(|h| {
            let bytes = &store[h];
            let node = Node::decode(bytes).unwrap();
            assert_eq!(&node.encode().unwrap(), bytes);
            ListingOutput {
                path: node_path(h),
                kind: match node {
                    Node::Leaf(_) => "listing".into(),
                    Node::Bucket(_) => "bucket".into(),
                },
                dir: node.position().dir.clone(),
                depth: node.position().depth,
                bytes_hex: hex::encode(bytes),
            }
        })
        .collect();
    ManifestCase {
        description: case.description.clone(),
        inputs: i.clone(),
        outputs: ManifestOutputs {
            files: i
                .files
                .iter()
                .map(|f| {
                    let m = FileMeta::of(f.content.as_bytes());
                    FileOutput {
                        path: f.path.clone(),
                        size: m.size,
                        sha256_hex: hex::encode(m.sha256),
                    }
                })
                .collect(),
            listings,
            root_hex: hex::encode(&root_bytes),
            root_sha256_hex: hex::encode(manifest::sha256(&root_bytes)),
            signature_hex: hex::encode(signature),
        },
    }
}

#[test]
fn manifest_vectors() {
    check("manifest.json", manifest_case);
}

// ---------------------------------------------------------------------------------------------
// manifest_refused.json

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct RefusedManifestCase {
    description: String,
    inputs: RefusedManifestInputs,
    #[serde(default)]
    outputs: RefusedManifestOutputs,
}

/// One object to decode (`object` "listing" or "root", in `bytes_hex`), or a whole tree to walk
/// (`object` "tree": `bytes_hex` is the root, `listings` the listings it may fetch).
#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct RefusedManifestInputs {
    object: String,
    bytes_hex: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    listings: Vec<ListingInput>,
}

/// A listing as a source serves it: by the hash `name_hex` (default: SHA-256 of the bytes).
#[derive(Serialize, Deserialize, PartialEq, Debug, Clone)]
struct ListingInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name_hex: Option<String>,
    bytes_hex: String,
}

#[derive(Serialize, Deserialize, PartialEq, Debug, Clone, Default)]
struct RefusedManifestOutputs {
    error: String,
}

fn refused_manifest_case(case: &RefusedManifestCase) -> RefusedManifestCase {
    let i = &case.inputs;
    let bytes = hex::decode(&i.bytes_hex).unwrap();
    let error = match i.object.as_str() {
        "listing" => Node::decode(&bytes)
            .expect_err("a refused listing must be refused")
            .to_string(),
        "root" => Root::decode(&bytes)
            .expect_err("a refused root must be refused")
            .to_string(),
        "tree" => {
            let store: std::collections::BTreeMap<Hash, Vec<u8>> = i
                .listings
                .iter()
                .map(|l| {
                    let b = hex::decode(&l.bytes_hex).unwrap();
                    let name = l.name_hex.as_deref().map_or_else(
                        || manifest::sha256(&b),
                        |n| hex::decode(n).unwrap().try_into().unwrap(),
                    );
                    (name, b)
                })
                .collect();
            let mut src = FnSource(|h: &Hash| store.get(h).cloned().ok_or("no such listing"));
            let root = Root::decode(&bytes).unwrap();
            manifest::files(&root, &mut src)
                .expect_err("a refused tree must be refused")
                .to_string()
        }
        other => panic!("{}: unknown object {other:?}", case.description),
    };
    RefusedManifestCase {
        description: case.description.clone(),
        inputs: i.clone(),
        outputs: RefusedManifestOutputs { error },
    }
}

#[test]
fn refused_manifest_vectors() {
    check("manifest_refused.json", refused_manifest_case);
}
