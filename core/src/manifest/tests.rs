#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;

use super::node::nibble;
use super::*;
use crate::date::Day;
use crate::error::ManifestError;
use crate::trust::{IssuerKey, TrustList};

/// Every listing ever made, by hash: what a site directory or a mirror's cache holds.
#[derive(Default, Clone)]
struct Store(BTreeMap<Hash, Vec<u8>>);

impl Store {
    fn add(&mut self, built: &Built) {
        for (h, b) in &built.nodes {
            assert_eq!(&sha256(b), h, "a made listing is named by its hash");
            self.0.insert(*h, b.clone());
        }
    }
}

impl Source for Store {
    type Error = &'static str;
    fn get(&mut self, node: &Hash) -> Result<Vec<u8>, &'static str> {
        self.0.get(node).cloned().ok_or("no such listing")
    }
}

fn meta(n: u64) -> FileMeta {
    FileMeta::of(format!("content {n}").as_bytes())
}

fn tree_of(files: &BTreeMap<String, FileMeta>) -> (Built, Store) {
    let built = build(files.iter().map(|(p, m)| (p.clone(), *m))).unwrap();
    let mut store = Store::default();
    store.add(&built);
    (built, store)
}

fn root_of(tree: Hash) -> Root {
    Root {
        tree,
        checkpoint: None,
    }
}

fn listed(root: &Root, store: &mut Store) -> BTreeMap<String, FileMeta> {
    files(root, store)
        .unwrap()
        .files
        .into_iter()
        .map(|f| (f.path, f.meta))
        .collect()
}

/// `n` files named `dir/<i>.html`.
fn many(dir: &str, n: u64) -> BTreeMap<String, FileMeta> {
    (0..n)
        .map(|i| (format!("{dir}/{i}.html"), meta(i)))
        .collect()
}

#[test]
fn root_round_trip_and_refusals() {
    for checkpoint in [None, Some([7u8; 32])] {
        let root = Root {
            tree: [3; 32],
            checkpoint,
        };
        let bytes = root.encode();
        assert_eq!(bytes.len(), if checkpoint.is_some() { 67 } else { 35 });
        assert_eq!(Root::decode(&bytes), Ok(root));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(
            Root::decode(&longer),
            Err(ManifestError::Decode(DecodeError::TrailingBytes {
                count: 1
            }))
        ));
        assert!(Root::decode(&bytes[..bytes.len() - 1]).is_err());
    }
    let mut flag = root_of([1; 32]).encode();
    flag[34] = 2;
    assert!(matches!(
        Root::decode(&flag),
        Err(ManifestError::Decode(DecodeError::OutOfRange {
            field: "checkpoint"
        }))
    ));
    let mut kind = root_of([1; 32]).encode();
    kind[1] = 1;
    assert!(matches!(
        Root::decode(&kind),
        Err(ManifestError::WrongKind { found: 1, .. })
    ));
    let mut version = root_of([1; 32]).encode();
    version[0] = 2;
    assert!(matches!(
        Root::decode(&version),
        Err(ManifestError::Decode(DecodeError::UnsupportedVersion {
            found: 2,
            ..
        }))
    ));
}

fn trust(keys: &[(&SecretKey, Option<Day>)]) -> TrustList {
    let mut issuers: Vec<IssuerKey> = keys
        .iter()
        .map(|(k, comp)| {
            let mut i = IssuerKey::new(k.public_key(), "issuer".into(), Day(0), Day(100));
            i.compromised_since = *comp;
            i
        })
        .collect();
    issuers.sort_by_key(|k| k.key_id);
    TrustList {
        sequence: 1,
        issued_at: 0,
        issuers,
        log_keys: Vec::new(),
    }
}

#[test]
fn signature_is_checked_in_three_steps() {
    let good = SecretKey::from_seed(&[1; 32]);
    let bad = SecretKey::from_seed(&[2; 32]);
    let stranger = SecretKey::from_seed(&[3; 32]);
    let list = trust(&[(&good, None), (&bad, Some(Day(5)))]);
    let root = root_of([9; 32]).encode();
    let sig = RootSignature::sign(&root, &good);
    assert_eq!(RootSignature::decode(&sig.encode()), Ok(sig));
    assert_eq!(
        sig.verify(&root, &list).unwrap().key_id,
        good.public_key().key_id()
    );
    // Another root.
    let other = root_of([8; 32]).encode();
    assert!(matches!(
        sig.verify(&other, &list),
        Err(ManifestError::BadSignature { .. })
    ));
    // A signature over the same bytes in another context (a claim) does not verify.
    let claim_sig = RootSignature {
        key_id: good.public_key().key_id(),
        signature: good.sign_in_context(crate::keys::CLAIM_CONTEXT, &root),
    };
    assert!(claim_sig.verify(&root, &list).is_err());
    assert!(matches!(
        RootSignature::sign(&root, &stranger).verify(&root, &list),
        Err(ManifestError::UnknownSigner { .. })
    ));
    assert!(matches!(
        RootSignature::sign(&root, &bad).verify(&root, &list),
        Err(ManifestError::CompromisedSigner { .. })
    ));
    let (decoded, key) = verify_root(&root, &sig.encode(), &list).unwrap();
    assert_eq!(decoded, root_of([9; 32]));
    assert_eq!(key.key_id, good.public_key().key_id());
    assert!(matches!(
        verify_root(&root, &sig.encode()[..67], &list),
        Err(ManifestError::Decode(_))
    ));
    assert!(matches!(
        verify_root(&other, &sig.encode(), &list),
        Err(ManifestError::BadSignature { .. })
    ));
    assert!(RootSignature::decode(&sig.encode()[..67]).is_err());
    assert!(RootSignature::decode(&[sig.encode().as_slice(), &[0]].concat()).is_err());
}

#[test]
fn node_paths_name_the_hash() {
    let h = sha256(b"x");
    let p = node_path(&h);
    assert!(p.starts_with("manifest/2d/"), "{p}");
    assert!(p.ends_with(".bin"));
    assert_eq!(p.len(), "manifest/".len() + 2 + 1 + 62 + 4);
    assert_eq!(node_of_path(&p), Some(h));
    assert_eq!(node_of_path("manifest/root.bin"), None);
    assert_eq!(node_of_path(&p.to_uppercase()), None);
    assert_eq!(node_of_path(&p.replace(".bin", "")), None);
}

#[test]
fn small_site_lists_every_file_and_looks_up_paths() {
    let mut files_in: BTreeMap<String, FileMeta> = BTreeMap::new();
    files_in.insert("index.html".into(), meta(1));
    files_in.insert("cert/1.html".into(), meta(2));
    files_in.insert("en/cert/1.html".into(), meta(3));
    files_in.insert("api/v1/index.json".into(), meta(4));
    let (built, mut store) = tree_of(&files_in);
    let root = root_of(built.tree);
    let contents = files(&root, &mut store).unwrap();
    assert_eq!(
        contents
            .files
            .iter()
            .map(|f| (f.path.clone(), f.meta))
            .collect::<BTreeMap<_, _>>(),
        files_in
    );
    // Root, cert, en, en/cert, api, api/v1.
    assert_eq!(contents.nodes.len(), 6);
    assert_eq!(contents.nodes.len(), built.nodes.len());
    assert_eq!(contents.nodes[0], built.tree);
    assert_eq!(
        lookup(&built.tree, "en/cert/1.html", &mut store).unwrap(),
        Some(meta(3))
    );
    assert_eq!(lookup(&built.tree, "en/cert", &mut store).unwrap(), None);
    assert_eq!(
        lookup(&built.tree, "index.html/x", &mut store).unwrap(),
        None
    );
    assert_eq!(lookup(&built.tree, "nope.html", &mut store).unwrap(), None);
    // Nothing asked, nothing fetched.
    let mut nothing = FnSource(|_: &Hash| Err::<Vec<u8>, _>("fetched"));
    assert_eq!(
        lookup_many::<_, &str>(&built.tree, &[], &mut nothing).unwrap(),
        Vec::<Option<FileMeta>>::new()
    );
    let paths = ["cert/1.html", "nope", "en/cert/1.html", "index.html", "en"];
    assert_eq!(
        lookup_many(&built.tree, &paths, &mut store).unwrap(),
        [Some(meta(2)), None, Some(meta(3)), Some(meta(1)), None]
    );
    assert!(matches!(
        lookup(&built.tree, "a//b", &mut store),
        Err(WalkError::Tree(ManifestError::InvalidPath { .. }))
    ));
}

#[test]
fn empty_site_is_one_empty_listing() {
    let (built, mut store) = tree_of(&BTreeMap::new());
    assert_eq!(built.nodes.len(), 1);
    let contents = files(&root_of(built.tree), &mut store).unwrap();
    assert!(contents.files.is_empty());
}

#[test]
fn large_directories_split_into_buckets_and_merge_back() {
    for (n, buckets) in [(128u64, false), (129, true), (5000, true)] {
        let (built, mut store) = tree_of(&many("cert", n));
        let dir = lookup_node(&built.tree, "cert", &mut store);
        assert_eq!(matches!(dir, Node::Bucket(_)), buckets, "{n} entries");
        assert_eq!(listed(&root_of(built.tree), &mut store), many("cert", n));
        // No listing above the limit.
        for bytes in store.0.values() {
            if let Node::Leaf(l) = Node::decode(bytes).unwrap() {
                assert!(l.entries.len() <= MAX_ENTRIES);
            }
        }
    }
    // 129 -> 128 entries: the bucket becomes one listing again.
    let (big, mut store) = tree_of(&many("cert", 129));
    let removed = update(
        Some(&big.tree),
        [("cert/128.html".to_string(), None)],
        &mut store,
    )
    .unwrap();
    let (small, _) = tree_of(&many("cert", 128));
    assert_eq!(removed.tree, small.tree);
    store.add(&removed);
    assert!(matches!(
        lookup_node(&removed.tree, "cert", &mut store),
        Node::Leaf(_)
    ));
}

/// The top node of directory `dir` (a direct child of the root).
fn lookup_node(tree: &Hash, dir: &str, store: &mut Store) -> Node {
    let Node::Leaf(root) = Node::decode(&store.get(tree).unwrap()).unwrap() else {
        panic!("root is a bucket")
    };
    let e = root.entries.iter().find(|e| e.name == dir).unwrap();
    let Item::Dir(h) = e.item else {
        panic!("not a directory")
    };
    Node::decode(&store.get(&h).unwrap()).unwrap()
}

#[test]
fn one_change_in_a_large_directory_makes_few_listings() {
    let before = many("cert", 20_000);
    let (old, mut store) = tree_of(&before);
    let new = update(
        Some(&old.tree),
        [("cert/777.html".to_string(), Some(meta(1_000_000)))],
        &mut store,
    )
    .unwrap();
    // The leaf (20,000 / 16² ≈ 78 entries), its two buckets and the root's listing.
    assert_eq!(new.nodes.len(), 4, "{} listings made", new.nodes.len());
    assert_eq!(new.nodes.len(), new.gone.len());
    let bytes: usize = new.nodes.iter().map(|(_, b)| b.len()).sum();
    assert!(bytes < 6_000, "{bytes} bytes");
    store.add(&new);
    let d = diff(&root_of(old.tree), &root_of(new.tree), &mut store).unwrap();
    assert_eq!(d.changed.len(), 1);
    assert_eq!(d.changed[0].path, "cert/777.html");
    assert!(d.added.is_empty() && d.removed.is_empty());
    let made: BTreeSet<Hash> = new.nodes.iter().map(|(h, _)| *h).collect();
    assert_eq!(d.new_nodes.iter().copied().collect::<BTreeSet<_>>(), made);
    assert_eq!(
        d.gone_nodes.iter().copied().collect::<BTreeSet<_>>(),
        new.gone.iter().copied().collect()
    );
}

#[test]
fn builder_refuses_bad_paths_and_conflicts() {
    for bad in [
        "",
        "/a",
        "a/",
        "a//b",
        "./a",
        "a/../b",
        "a\nb",
        &"x".repeat(256),
    ] {
        assert!(
            matches!(
                build([(bad.to_string(), meta(1))]),
                Err(ManifestError::InvalidPath { .. })
            ),
            "{bad:?}"
        );
    }
    assert!(matches!(
        build([("a".to_string(), meta(1)), ("a/b".to_string(), meta(2))]),
        Err(ManifestError::PathConflict { .. })
    ));
    let (base, mut store) = tree_of(&many("d", 3));
    // A file where a directory with files is.
    assert!(matches!(
        update(
            Some(&base.tree),
            [("d".to_string(), Some(meta(1)))],
            &mut store
        ),
        Err(WalkError::Tree(ManifestError::PathConflict { .. }))
    ));
    // A directory under a file.
    assert!(matches!(
        update(
            Some(&base.tree),
            [("d/0.html/x".to_string(), Some(meta(1)))],
            &mut store
        ),
        Err(WalkError::Tree(ManifestError::PathConflict { .. }))
    ));
    // Removing what is not a file.
    for path in ["d", "d/9.html", "nope"] {
        assert!(
            matches!(
                update(Some(&base.tree), [(path.to_string(), None)], &mut store),
                Err(WalkError::Tree(ManifestError::NotAFile { .. }))
            ),
            "{path}"
        );
    }
    // A directory emptied and replaced by a file in one update is fine.
    let mut changes: Vec<(String, Option<FileMeta>)> =
        (0..3).map(|i| (format!("d/{i}.html"), None)).collect();
    changes.push(("d".to_string(), Some(meta(5))));
    let swapped = update(Some(&base.tree), changes, &mut store).unwrap();
    let (expected, _) = tree_of(&[("d".to_string(), meta(5))].into_iter().collect());
    assert_eq!(swapped.tree, expected.tree);
    // And a file removed and replaced by a directory (two levels deep) in one update.
    store.add(&swapped);
    let back = update(
        Some(&swapped.tree),
        [
            ("d".to_string(), None),
            ("d/e/f.html".to_string(), Some(meta(6))),
        ],
        &mut store,
    )
    .unwrap();
    let (expected, _) = tree_of(&[("d/e/f.html".to_string(), meta(6))].into_iter().collect());
    assert_eq!(back.tree, expected.tree);
}

/// A tree with one listing replaced by `bytes` (re-hashed up to the root).
fn tampered(files_in: &BTreeMap<String, FileMeta>, edit: impl Fn(&mut Node)) -> (Root, Store) {
    let (built, store) = tree_of(files_in);
    let mut store2 = store.clone();
    // Edit the listing of directory "cert" (a leaf) and re-hash its parent, the root.
    let Node::Leaf(mut root) = Node::decode(&store.0[&built.tree]).unwrap() else {
        panic!()
    };
    let e = root.entries.iter_mut().find(|e| e.name == "cert").unwrap();
    let Item::Dir(h) = e.item else { panic!() };
    let mut node = Node::decode(&store.0[&h]).unwrap();
    edit(&mut node);
    let bytes = encode_unchecked(&node);
    let nh = sha256(&bytes);
    store2.0.insert(nh, bytes);
    e.item = Item::Dir(nh);
    let rb = Node::Leaf(root).encode().unwrap();
    let rh = sha256(&rb);
    store2.0.insert(rh, rb);
    (root_of(rh), store2)
}

/// Encodes a leaf without the encoder's checks (to make listings that break the rules).
fn encode_unchecked(node: &Node) -> Vec<u8> {
    let Node::Leaf(l) = node else { panic!() };
    let mut out = vec![MANIFEST_VERSION, KIND_LEAF];
    crate::wire::put_varint(&mut out, l.position.dir.len() as u64);
    out.extend_from_slice(l.position.dir.as_bytes());
    out.push(l.position.depth);
    out.extend_from_slice(&l.position.prefix[..usize::from(l.position.depth).div_ceil(2)]);
    crate::wire::put_varint(&mut out, l.entries.len() as u64);
    for e in &l.entries {
        crate::wire::put_text(&mut out, &e.name);
        match e.item {
            Item::File(m) => {
                out.push(0);
                crate::wire::put_varint(&mut out, m.size);
                out.extend_from_slice(&m.sha256);
            }
            Item::Dir(h) => {
                out.push(1);
                out.extend_from_slice(&h);
            }
        }
    }
    out
}

#[test]
fn walks_refuse_listings_that_do_not_belong() {
    let base = many("cert", 3);
    // A listing that names another directory.
    let (root, mut store) = tampered(&base, |n| {
        if let Node::Leaf(l) = n {
            l.position.dir = "other".into();
        }
    });
    assert!(matches!(
        files(&root, &mut store),
        Err(WalkError::Invalid {
            error: ManifestError::WrongPosition { .. },
            ..
        })
    ));
    // Unsorted entries.
    let (root, mut store) = tampered(&base, |n| {
        if let Node::Leaf(l) = n {
            l.entries.swap(0, 1);
        }
    });
    assert!(matches!(
        files(&root, &mut store),
        Err(WalkError::Invalid {
            error: ManifestError::Decode(DecodeError::NotSorted { .. }),
            ..
        })
    ));
    // A listing whose bytes are not those of its hash.
    let (built, mut store) = tree_of(&base);
    let cert = store.0.keys().copied().find(|h| *h != built.tree).unwrap();
    store.0.get_mut(&cert).unwrap()[5] ^= 1;
    let err = files(&root_of(built.tree), &mut store).unwrap_err();
    assert!(
        matches!(
            err,
            WalkError::Invalid {
                error: ManifestError::HashMismatch { .. },
                ref dir,
                ..
            } if dir == "cert"
        ),
        "{err}"
    );
    assert!(err.to_string().contains("cert"), "{err}");
    // A missing listing.
    let (built, mut store) = tree_of(&base);
    store.0.remove(&cert);
    assert!(matches!(
        files(&root_of(built.tree), &mut store),
        Err(WalkError::Fetch { .. })
    ));
}

#[test]
fn bucket_children_are_checked_against_their_position_and_count() {
    let (built, store) = tree_of(&many("cert", 300));
    let mut bad = store.clone();
    let Node::Leaf(mut root) = Node::decode(&store.0[&built.tree]).unwrap() else {
        panic!()
    };
    let Item::Dir(h) = root.entries[0].item else {
        panic!()
    };
    let Node::Bucket(b) = Node::decode(&store.0[&h]).unwrap() else {
        panic!()
    };
    let set: Vec<usize> = (0..16).filter(|i| b.children[*i].is_some()).collect();
    let rehash = |bucket: Box<Bucket>, root: &mut Leaf, bad: &mut Store| {
        let bytes = Node::Bucket(bucket).encode().unwrap();
        let bh = sha256(&bytes);
        bad.0.insert(bh, bytes);
        root.entries[0].item = Item::Dir(bh);
        let rb = Node::Leaf(root.clone()).encode().unwrap();
        let rh = sha256(&rb);
        bad.0.insert(rh, rb);
        root_of(rh)
    };
    // Two children swapped: each sits at the other's prefix.
    let mut swapped = b.clone();
    swapped.children.swap(set[0], set[1]);
    let r = rehash(swapped, &mut root, &mut bad);
    assert!(matches!(
        files(&r, &mut bad),
        Err(WalkError::Invalid {
            error: ManifestError::WrongPrefix { .. } | ManifestError::CountMismatch { .. },
            ..
        })
    ));
    // A wrong count.
    let mut counted = b.clone();
    if let Some(c) = counted.children[set[0]].as_mut() {
        c.count += 1;
    }
    let r = rehash(counted, &mut root, &mut bad);
    assert!(matches!(
        files(&r, &mut bad),
        Err(WalkError::Invalid {
            error: ManifestError::CountMismatch { .. },
            ..
        })
    ));
}

#[test]
fn the_root_ties_the_tree_to_its_checkpoint() {
    let mut files_in = many("cert", 2);
    let checkpoint = FileMeta::of(b"example.com/log\n2\nabc=\n");
    files_in.insert(CHECKPOINT_PATH.into(), checkpoint);
    let (built, mut store) = tree_of(&files_in);
    let tied = Root {
        tree: built.tree,
        checkpoint: Some(checkpoint.sha256),
    };
    assert!(files(&tied, &mut store).is_ok());
    assert!(matches!(
        files(&root_of(built.tree), &mut store),
        Err(WalkError::Tree(ManifestError::CheckpointUndeclared))
    ));
    let other = Root {
        tree: built.tree,
        checkpoint: Some([0; 32]),
    };
    assert!(matches!(
        files(&other, &mut store),
        Err(WalkError::Tree(ManifestError::CheckpointMismatch { .. }))
    ));
    let (plain, mut store2) = tree_of(&many("cert", 2));
    let claims = Root {
        tree: plain.tree,
        checkpoint: Some(checkpoint.sha256),
    };
    assert!(matches!(
        files(&claims, &mut store2),
        Err(WalkError::Tree(ManifestError::CheckpointMissing))
    ));
    store2.0.extend(store.0.clone());
    assert!(matches!(
        diff(&root_of(plain.tree), &other, &mut store2),
        Err(WalkError::Tree(ManifestError::CheckpointMismatch { .. }))
    ));
    let d = diff(&root_of(plain.tree), &tied, &mut store2).unwrap();
    assert_eq!(d.added.len(), 1);
    assert_eq!(d.added[0].path, CHECKPOINT_PATH);
}

#[test]
fn decoder_refuses_what_the_encoder_never_writes() {
    let leaf = |dir: &str, depth: u8, names: &[&str]| {
        let mut prefix = [0u8; 32];
        if depth > 0 {
            let h = sha256(names[0].as_bytes());
            for i in 0..depth {
                let n = nibble(&h, i);
                prefix[usize::from(i / 2)] |= if i % 2 == 0 { n << 4 } else { n };
            }
        }
        Node::Leaf(Leaf {
            position: Position {
                dir: dir.into(),
                depth,
                prefix,
            },
            entries: names
                .iter()
                .map(|n| Entry {
                    name: (*n).into(),
                    item: Item::File(meta(1)),
                })
                .collect(),
        })
    };
    let ok = leaf("a/b", 3, &["x.html"]).encode().unwrap();
    assert!(Node::decode(&ok).is_ok());
    // An empty listing is only the site root's top.
    assert!(matches!(
        leaf("a", 0, &[]).encode(),
        Err(ManifestError::EmptyDirectory { .. })
    ));
    assert!(leaf("", 0, &[]).encode().is_ok());
    // Names.
    for bad in [".", "..", "a/b"] {
        assert!(
            matches!(
                leaf("", 0, &[bad]).encode(),
                Err(ManifestError::InvalidName { .. })
            ),
            "{bad}"
        );
    }
    // A name that hashes into another bucket.
    let Node::Leaf(mut l) = leaf("a", 2, &["x.html"]) else {
        panic!()
    };
    l.entries[0].name = "y.html".into();
    let wrong = Node::Leaf(l.clone());
    if sha256(b"y.html")[0] != sha256(b"x.html")[0] {
        assert!(matches!(
            Node::decode(&encode_unchecked(&wrong)),
            Err(ManifestError::WrongBucket { .. })
        ));
    }
    // The spare nibble of an odd prefix.
    let mut odd = leaf("a", 1, &["x.html"]).encode().unwrap();
    let at = 2 + 1 + 1 + 1; // version, kind, dir length, "a", depth
    odd[at] |= 1;
    assert!(matches!(
        Node::decode(&odd),
        Err(ManifestError::PrefixPadding)
    ));
    // Entry type, count limit, bucket rules.
    let mut ty = ok.clone();
    let type_at = ok.len() - 32 - 2; // type, size varint (1 byte), sha256
    assert_eq!(ty[type_at], 0);
    ty[type_at] = 2;
    assert!(matches!(
        Node::decode(&ty),
        Err(ManifestError::InvalidEntryType { value: 2 })
    ));
    let mut too_many = vec![MANIFEST_VERSION, KIND_LEAF, 0, 0];
    crate::wire::put_varint(&mut too_many, 129);
    assert!(matches!(
        Node::decode(&too_many),
        Err(ManifestError::Decode(DecodeError::LengthTooLarge {
            field: "count",
            ..
        }))
    ));
    let child = Some(Child {
        node: [1; 32],
        count: 64,
    });
    let mut children = [None; FANOUT];
    children[0] = child;
    children[1] = child;
    let small = Node::Bucket(Box::new(Bucket {
        position: Position::top("a"),
        children,
    }));
    assert!(matches!(
        small.encode(),
        Err(ManifestError::BucketTooSmall { total: 128, .. })
    ));
    let empty = Node::Bucket(Box::new(Bucket {
        position: Position::top("a"),
        children: [None; FANOUT],
    }));
    assert!(matches!(empty.encode(), Err(ManifestError::EmptyBucket)));
    let mut bytes = vec![MANIFEST_VERSION, 7];
    bytes.extend_from_slice(&[0; 8]);
    assert!(matches!(
        Node::decode(&bytes),
        Err(ManifestError::WrongKind { found: 7, .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Property tests

/// A path from a small alphabet, so that directories are shared and some grow past one listing.
fn path_strategy() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            6 => Just("cert/"),
            1 => Just(""),
            1 => Just("en/cert/"),
            1 => Just("a/b/"),
            1 => Just("x/"),
            1 => Just("7/"),
            1 => Just("7/8/"),
        ],
        0u32..400,
        prop_oneof![Just(".html"), Just(".json"), Just("")],
    )
        .prop_map(|(d, i, ext)| format!("{d}{i}{ext}"))
}

/// A set of files where no path is also a directory ("x" vs "x/...").
fn files_strategy() -> impl Strategy<Value = BTreeMap<String, FileMeta>> {
    proptest::collection::btree_map(path_strategy(), (0u64..5).prop_map(meta), 0..700).prop_map(
        |mut m| {
            let dirs: BTreeSet<String> = m
                .keys()
                .filter_map(|p| p.rsplit_once('/').map(|(d, _)| d.to_string()))
                .flat_map(|d| {
                    let parts: Vec<&str> = d.split('/').collect();
                    (1..=parts.len())
                        .map(|n| parts[..n].join("/"))
                        .collect::<Vec<_>>()
                })
                .collect();
            m.retain(|p, _| !dirs.contains(p));
            m
        },
    )
}

fn leaf_strategy() -> impl Strategy<Value = Node> {
    (
        proptest::collection::btree_map(
            "[a-z0-9.\\-中]{1,12}".prop_filter("not . or ..", |s| s != "." && s != ".."),
            prop_oneof![
                (any::<u64>(), any::<[u8; 32]>())
                    .prop_map(|(size, sha256)| Item::File(FileMeta { size, sha256 })),
                any::<[u8; 32]>().prop_map(Item::Dir),
            ],
            1..40,
        ),
        prop_oneof![Just(""), Just("cert"), Just("a/b c/d")],
    )
        .prop_map(|(m, dir)| {
            Node::Leaf(Leaf {
                position: Position::top(dir),
                entries: m
                    .into_iter()
                    .map(|(name, item)| Entry { name, item })
                    .collect(),
            })
        })
}

fn bucket_strategy() -> impl Strategy<Value = Node> {
    (
        proptest::collection::vec(proptest::option::of((any::<[u8; 32]>(), 1u64..1000)), 16),
        0u8..64,
        any::<[u8; 32]>(),
    )
        .prop_filter_map("more than one listing's entries", |(kids, depth, bits)| {
            let mut children = [None; FANOUT];
            for (slot, k) in children.iter_mut().zip(kids) {
                *slot = k.map(|(node, count)| Child { node, count });
            }
            let total: u64 = children.iter().flatten().map(|c| c.count).sum();
            if total <= MAX_ENTRIES as u64 {
                return None;
            }
            let mut pos = Position::top("cert");
            for i in 0..depth {
                pos = pos.child(nibble(&bits, i))?;
            }
            Some(Node::Bucket(Box::new(Bucket {
                position: pos,
                children,
            })))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn nodes_round_trip(node in prop_oneof![leaf_strategy(), bucket_strategy()]) {
        let bytes = node.encode().unwrap();
        prop_assert!(bytes.len() <= MAX_NODE_BYTES);
        let back = Node::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &node);
        prop_assert_eq!(back.encode().unwrap(), bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_decoded_nodes_re_encode_alike(
        b in proptest::collection::vec(any::<u8>(), 0..300)
    ) {
        if let Ok(node) = Node::decode(&b) {
            prop_assert_eq!(node.encode().unwrap(), b.clone());
        }
        if let Ok(root) = Root::decode(&b) {
            prop_assert_eq!(root.encode(), b.clone());
        }
        let _ = RootSignature::decode(&b);
    }

    #[test]
    fn mutated_listings_never_panic(node in leaf_strategy(), at in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = node.encode().unwrap();
        let i = at.index(bytes.len());
        bytes[i] = byte;
        if let Ok(n) = Node::decode(&bytes) {
            prop_assert_eq!(n.encode().unwrap(), bytes);
        }
    }

    #[test]
    fn a_tree_lists_exactly_its_files(files_in in files_strategy()) {
        let (built, mut store) = tree_of(&files_in);
        prop_assert_eq!(listed(&root_of(built.tree), &mut store), files_in.clone());
        // Every file is found by a look-up of many paths at once, and absent paths are not.
        let mut paths: Vec<String> = files_in.keys().cloned().collect();
        paths.push("cert/none.html".into());
        let found = lookup_many(&built.tree, &paths, &mut store).unwrap();
        prop_assert_eq!(found.last(), Some(&None));
        for (p, f) in paths.iter().zip(&found) {
            prop_assert_eq!(f.as_ref(), files_in.get(p));
        }
    }

    #[test]
    fn updating_gives_the_tree_of_the_new_files(
        before in files_strategy(),
        after in files_strategy(),
    ) {
        let (old, mut store) = tree_of(&before);
        // Changes: every path of `after` set, every path only in `before` removed; paths whose
        // file or directory role flips are set only when their old role is gone.
        let mut changes: Vec<(String, Option<FileMeta>)> = before
            .keys()
            .filter(|p| !after.contains_key(*p))
            .map(|p| (p.clone(), None))
            .collect();
        changes.extend(after.iter().filter(|(p, m)| before.get(*p) != Some(m)).map(|(p, m)| (p.clone(), Some(*m))));
        let result = update(Some(&old.tree), changes, &mut store);
        let (fresh, _) = tree_of(&after);
        match result {
            Ok(new) => {
                prop_assert_eq!(new.tree, fresh.tree);
                let old_nodes: BTreeSet<Hash> = files(&root_of(old.tree), &mut store).unwrap().nodes.into_iter().collect();
                store.add(&new);
                let new_nodes: BTreeSet<Hash> = files(&root_of(new.tree), &mut store).unwrap().nodes.into_iter().collect();
                let made: BTreeSet<Hash> = new.nodes.iter().map(|(h, _)| *h).collect();
                let gone: BTreeSet<Hash> = new.gone.iter().copied().collect();
                // Exactly the listings of the new tree that the old one lacks are made, and
                // exactly those of the old tree that the new one lacks are gone.
                prop_assert_eq!(&made, &new_nodes.difference(&old_nodes).copied().collect());
                prop_assert_eq!(&gone, &old_nodes.difference(&new_nodes).copied().collect());
                let d = diff(&root_of(old.tree), &root_of(new.tree), &mut store).unwrap();
                prop_assert_eq!(d.new_nodes.iter().copied().collect::<BTreeSet<_>>(), made);
                prop_assert_eq!(d.gone_nodes.iter().copied().collect::<BTreeSet<_>>(), gone);
                let added: BTreeMap<String, FileMeta> = d.added.into_iter().map(|f| (f.path, f.meta)).collect();
                let removed: BTreeMap<String, FileMeta> = d.removed.into_iter().map(|f| (f.path, f.meta)).collect();
                let changed: BTreeMap<String, (FileMeta, FileMeta)> = d.changed.into_iter().map(|c| (c.path, (c.old, c.new))).collect();
                for (p, m) in &after {
                    match before.get(p) {
                        None => prop_assert_eq!(added.get(p), Some(m)),
                        Some(o) if o != m => prop_assert_eq!(changed.get(p), Some(&(*o, *m))),
                        Some(_) => prop_assert!(!changed.contains_key(p) && !added.contains_key(p)),
                    }
                }
                for (p, m) in &before {
                    if !after.contains_key(p) {
                        prop_assert_eq!(removed.get(p), Some(m));
                    }
                }
                prop_assert_eq!(added.len() + removed.len() + changed.len(),
                    after.keys().filter(|p| before.get(*p) != after.get(*p)).count()
                        + before.keys().filter(|p| !after.contains_key(*p)).count());
            }
            Err(e) => prop_assert!(false, "update failed: {}", e),
        }
    }
}
