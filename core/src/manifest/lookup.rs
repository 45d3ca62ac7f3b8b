//! Looking up given paths in a manifest tree, fetching only the listings on the way to them.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use super::node::{check_name, nibble};
use super::walk::{fetch, join, WalkError, Want};
use super::{sha256, FileMeta, Hash, Item, Node, Position, Source};
use crate::error::ManifestError;

/// The file at `path` (names joined by `/`) in the tree `tree`, fetching only the listings on
/// the way; `None` when there is no such file (or it is a directory).
pub fn lookup<S: Source>(
    tree: &Hash,
    path: &str,
    source: &mut S,
) -> Result<Option<FileMeta>, WalkError<S::Error>> {
    Ok(lookup_many(tree, &[path], source)?
        .into_iter()
        .next()
        .flatten())
}

/// One path being looked up: which, how far, and the SHA-256 of its next name.
struct Query {
    index: usize,
    at: usize,
    name_hash: Hash,
}

/// The files at `paths` in the tree `tree`, in the order given (`None`: no such file). Each
/// listing on the way to any of them is fetched once, a level of the tree at a time.
pub fn lookup_many<S: Source, P: AsRef<str>>(
    tree: &Hash,
    paths: &[P],
    source: &mut S,
) -> Result<Vec<Option<FileMeta>>, WalkError<S::Error>> {
    let mut found = alloc::vec![None; paths.len()];
    if paths.is_empty() {
        return Ok(found);
    }
    let mut names: Vec<Vec<&str>> = Vec::with_capacity(paths.len());
    for p in paths {
        let parts: Vec<&str> = p.as_ref().split('/').collect();
        if parts.iter().any(|n| check_name("name", n).is_err()) {
            return Err(WalkError::Tree(ManifestError::InvalidPath {
                path: String::from(p.as_ref()),
            }));
        }
        names.push(parts);
    }
    let queries: Vec<Query> = names
        .iter()
        .enumerate()
        .map(|(index, parts)| Query {
            index,
            at: 0,
            name_hash: sha256(parts[0].as_bytes()),
        })
        .collect();
    let mut frontier = alloc::vec![(
        Want {
            hash: *tree,
            pos: Position::top(""),
            count: None,
        },
        queries,
    )];
    while !frontier.is_empty() {
        let wants: Vec<Want> = frontier.iter().map(|(w, _)| w.clone()).collect();
        let nodes = fetch(source, &wants)?;
        let mut next = Vec::new();
        for ((_, queries), node) in frontier.into_iter().zip(nodes) {
            match node {
                Node::Bucket(b) => {
                    let mut groups: [Vec<Query>; 16] = Default::default();
                    for q in queries {
                        groups[usize::from(nibble(&q.name_hash, b.position.depth))].push(q);
                    }
                    for (i, group) in groups.into_iter().enumerate() {
                        if let (Some(c), Some(pos), false) =
                            (b.children[i], b.position.child(i as u8), group.is_empty())
                        {
                            let want = Want {
                                hash: c.node,
                                pos,
                                count: Some(c.count),
                            };
                            next.push((want, group));
                        }
                    }
                }
                Node::Leaf(l) => {
                    let mut deeper: BTreeMap<&str, (Hash, Vec<Query>)> = BTreeMap::new();
                    for q in queries {
                        let parts = &names[q.index];
                        let name = parts[q.at];
                        let Ok(at) = l
                            .entries
                            .binary_search_by(|e| e.name.as_bytes().cmp(name.as_bytes()))
                        else {
                            continue;
                        };
                        match (l.entries[at].item, q.at + 1 == parts.len()) {
                            (Item::File(meta), true) => found[q.index] = Some(meta),
                            (Item::Dir(h), false) => {
                                deeper.entry(name).or_insert((h, Vec::new())).1.push(Query {
                                    index: q.index,
                                    at: q.at + 1,
                                    name_hash: sha256(parts[q.at + 1].as_bytes()),
                                });
                            }
                            _ => {}
                        }
                    }
                    for (name, (hash, qs)) in deeper {
                        let want = Want {
                            hash,
                            pos: Position::top(&join(&l.position.dir, name)),
                            count: None,
                        };
                        next.push((want, qs));
                    }
                }
            }
        }
        frontier = next;
    }
    Ok(found)
}
