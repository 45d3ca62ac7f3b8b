//! RFC 6962 / RFC 9162 Merkle tree hashing, and inclusion and consistency proofs: verified
//! ([`verify_inclusion`], [`verify_consistency`]) and computed ([`inclusion_proof`],
//! [`consistency_proof`]) from any [`HashSource`] that knows the hashes of complete subtrees
//! (the tiles of a log: [`super::tile::TileHashes`]; a list of leaf hashes: [`Leaves`]).
//!
//! Levels count from the leaves: the node at level `k` and index `i` is the root of the complete
//! subtree of the `2^k` leaves `i·2^k .. (i+1)·2^k − 1`.

use alloc::vec::Vec;

use sha2::{Digest, Sha256};

use crate::error::LogError;

/// A SHA-256 hash of the tree.
pub type Hash = [u8; 32];

/// The hash of the empty tree: SHA-256 of no bytes (RFC 6962 section 2.1).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The hash of a leaf: SHA-256(0x00 ‖ entry).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// The hash of an interior node: SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the tree whose leaves have these hashes (RFC 6962 MTH): the empty root for none.
pub fn root_of(leaves: &[Hash]) -> Hash {
    match leaves {
        [] => empty_root(),
        [one] => *one,
        _ => {
            let k = split_point(leaves.len() as u64) as usize;
            node_hash(&root_of(&leaves[..k]), &root_of(&leaves[k..]))
        }
    }
}

/// The largest power of two smaller than `n` (n ≥ 2): where RFC 6962 splits a tree of `n` leaves.
fn split_point(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// Where the hashes of complete subtrees come from. Implemented over a log's tiles
/// ([`super::tile::TileHashes`]) and over a list of leaf hashes ([`Leaves`]).
pub trait HashSource {
    /// The error of a lookup; a source that cannot answer (a missing or damaged tile) says why.
    type Error: From<LogError>;

    /// The root of the complete subtree at `level` and `index` (leaves `index·2^level ..`).
    fn subtree(&mut self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// A [`HashSource`] over the leaf hashes of a whole tree, held in memory (tests, small logs).
#[derive(Clone, Debug, Default)]
pub struct Leaves(pub Vec<Hash>);

impl HashSource for Leaves {
    type Error = LogError;

    fn subtree(&mut self, level: u8, index: u64) -> Result<Hash, LogError> {
        let size = self.0.len() as u64;
        let not_stored = LogError::NotStored { level, index, size };
        let width = 1u64
            .checked_shl(u32::from(level))
            .ok_or(not_stored.clone())?;
        let lo = index.checked_mul(width).ok_or(not_stored.clone())?;
        let hi = lo.checked_add(width).ok_or(not_stored.clone())?;
        if hi > size {
            return Err(not_stored);
        }
        Ok(root_of(&self.0[lo as usize..hi as usize]))
    }
}

/// The root of the leaves `lo .. hi` (hi > lo) of a tree, as RFC 6962 splits it: from the hashes
/// of complete subtrees only.
pub fn range_hash<S: HashSource>(src: &mut S, lo: u64, hi: u64) -> Result<Hash, S::Error> {
    let n = hi - lo;
    if n.is_power_of_two() && lo.is_multiple_of(n) {
        return src.subtree(n.trailing_zeros() as u8, lo / n);
    }
    let k = split_point(n);
    let left = range_hash(src, lo, lo + k)?;
    let right = range_hash(src, lo + k, hi)?;
    Ok(node_hash(&left, &right))
}

/// The root of a tree of `size` leaves, from the source (the empty root for size 0).
pub fn tree_hash<S: HashSource>(src: &mut S, size: u64) -> Result<Hash, S::Error> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(src, 0, size)
}

/// The inclusion proof of leaf `index` in the tree of `size` leaves (RFC 6962 PATH), computed
/// from the source: the hashes from the leaf's sibling up to the root's child.
pub fn inclusion_proof<S: HashSource>(
    src: &mut S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>, S::Error> {
    if index >= size {
        return Err(LogError::IndexOutOfRange { index, size }.into());
    }
    let mut proof = Vec::new();
    path(src, index, 0, size, &mut proof)?;
    Ok(proof)
}

/// PATH(m, D[lo:hi]), appended bottom-up.
fn path<S: HashSource>(
    src: &mut S,
    m: u64,
    lo: u64,
    hi: u64,
    out: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = hi - lo;
    if n <= 1 {
        return Ok(());
    }
    let k = split_point(n);
    if m < k {
        path(src, m, lo, lo + k, out)?;
        out.push(range_hash(src, lo + k, hi)?);
    } else {
        path(src, m - k, lo + k, hi, out)?;
        out.push(range_hash(src, lo, lo + k)?);
    }
    Ok(())
}

/// The consistency proof between the tree of `old` leaves and the tree of `new` leaves that
/// extends it (RFC 6962 PROOF), computed from the source of the newer tree. Empty when `old` is
/// 0 or equal to `new`.
pub fn consistency_proof<S: HashSource>(
    src: &mut S,
    old: u64,
    new: u64,
) -> Result<Vec<Hash>, S::Error> {
    if old > new {
        return Err(LogError::TreeShrunk { old, new }.into());
    }
    let mut proof = Vec::new();
    if old > 0 && old < new {
        subproof(src, old, 0, new, true, &mut proof)?;
    }
    Ok(proof)
}

/// SUBPROOF(m, D[lo:hi], b), appended bottom-up.
fn subproof<S: HashSource>(
    src: &mut S,
    m: u64,
    lo: u64,
    hi: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = hi - lo;
    if m == n {
        if !whole {
            out.push(range_hash(src, lo, hi)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(src, m, lo, lo + k, whole, out)?;
        out.push(range_hash(src, lo + k, hi)?);
    } else {
        subproof(src, m - k, lo + k, hi, false, out)?;
        out.push(range_hash(src, lo, lo + k)?);
    }
    Ok(())
}

/// Checks that `leaf` (a leaf hash) is leaf `index` of the tree of `size` leaves whose root is
/// `root`, by the inclusion proof `proof` (RFC 9162 section 2.1.3.2). Never panics.
pub fn verify_inclusion(
    leaf: &Hash,
    index: u64,
    size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), LogError> {
    if index >= size {
        return Err(LogError::IndexOutOfRange { index, size });
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return Err(LogError::InclusionProof);
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    if s == 0 && r == *root {
        Ok(())
    } else {
        Err(LogError::InclusionProof)
    }
}

/// Checks that the tree of `new` leaves with root `new_root` extends the tree of `old` leaves
/// with root `old_root`, by the consistency proof `proof` (RFC 9162 section 2.1.4.2). From the
/// empty tree (old = 0) every tree is consistent with an empty proof; equal sizes need equal
/// roots and an empty proof; a smaller new tree is refused. Never panics.
pub fn verify_consistency(
    old: u64,
    new: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), LogError> {
    if old > new {
        return Err(LogError::TreeShrunk { old, new });
    }
    if old == 0 || old == new {
        let same = old == 0 || old_root == new_root;
        return if proof.is_empty() && same {
            Ok(())
        } else {
            Err(LogError::ConsistencyProof)
        };
    }
    let (first, rest): (Hash, &[Hash]) = if old.is_power_of_two() {
        (*old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(LogError::ConsistencyProof),
        }
    };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (first, first);
    for c in rest {
        if s == 0 {
            return Err(LogError::ConsistencyProof);
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    if s == 0 && fr == *old_root && sr == *new_root {
        Ok(())
    } else {
        Err(LogError::ConsistencyProof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: u64) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    #[test]
    fn known_roots() {
        // RFC 6962 test vectors as used by Certificate Transparency implementations: the leaves
        // "", 0x00, 0x10, 0x2021, 0x3031, 0x40414243, 0x5051525354555657, 0x606162...6f.
        let inputs: [&[u8]; 8] = [
            b"",
            &[0x00],
            &[0x10],
            &[0x20, 0x21],
            &[0x30, 0x31],
            &[0x40, 0x41, 0x42, 0x43],
            &[0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
            &[
                0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d,
                0x6e, 0x6f,
            ],
        ];
        let hashes: Vec<Hash> = inputs.iter().map(|e| leaf_hash(e)).collect();
        let hex = |h: Hash| crate::to_hex(&h);
        assert_eq!(
            hex(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(root_of(&hashes[..1])),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        assert_eq!(
            hex(root_of(&hashes[..3])),
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"
        );
        assert_eq!(
            hex(root_of(&hashes)),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
        );
    }

    #[test]
    fn proofs_of_every_leaf_and_every_pair_of_sizes_verify() {
        let all = leaves(40);
        for size in 1..=all.len() as u64 {
            let mut src = Leaves(all[..size as usize].to_vec());
            let root = root_of(&src.0);
            assert_eq!(tree_hash(&mut src, size).unwrap(), root);
            for index in 0..size {
                let proof = inclusion_proof(&mut src, index, size).unwrap();
                let leaf = all[index as usize];
                verify_inclusion(&leaf, index, size, &proof, &root).unwrap();
                // The wrong index, leaf or root.
                if size > 1 {
                    let other = (index + 1) % size;
                    assert!(verify_inclusion(&leaf, other, size, &proof, &root).is_err());
                }
                assert!(verify_inclusion(&[9; 32], index, size, &proof, &root).is_err());
                assert!(verify_inclusion(&leaf, index, size, &proof, &[9; 32]).is_err());
            }
            for old in 0..=size {
                let old_root = root_of(&all[..old as usize]);
                let proof = consistency_proof(&mut src, old, size).unwrap();
                verify_consistency(old, size, &old_root, &root, &proof).unwrap();
                if old > 0 && old < size {
                    assert!(verify_consistency(old, size, &[7; 32], &root, &proof).is_err());
                    assert!(verify_consistency(old, size, &old_root, &[7; 32], &proof).is_err());
                    assert!(verify_consistency(old, size, &old_root, &root, &[]).is_err());
                    let mut longer = proof.clone();
                    longer.push([0; 32]);
                    assert!(verify_consistency(old, size, &old_root, &root, &longer).is_err());
                }
            }
        }
    }

    #[test]
    fn a_shrunk_tree_and_leaves_outside_the_tree_are_refused() {
        let mut src = Leaves(leaves(4));
        assert_eq!(
            consistency_proof(&mut src, 5, 4),
            Err(LogError::TreeShrunk { old: 5, new: 4 })
        );
        assert_eq!(
            verify_consistency(5, 4, &[0; 32], &[0; 32], &[]),
            Err(LogError::TreeShrunk { old: 5, new: 4 })
        );
        assert_eq!(
            inclusion_proof(&mut src, 4, 4),
            Err(LogError::IndexOutOfRange { index: 4, size: 4 })
        );
        assert_eq!(
            verify_inclusion(&[0; 32], 0, 0, &[], &[0; 32]),
            Err(LogError::IndexOutOfRange { index: 0, size: 0 })
        );
        // Same size: the roots must be equal and the proof empty.
        let root = root_of(&src.0);
        assert!(verify_consistency(4, 4, &root, &root, &[]).is_ok());
        assert!(verify_consistency(4, 4, &root, &[1; 32], &[]).is_err());
        assert!(verify_consistency(4, 4, &root, &root, &[root]).is_err());
    }

    proptest! {
        #[test]
        fn arbitrary_proofs_never_panic(index in any::<u64>(), size in any::<u64>(), old in any::<u64>(),
                                        proof in proptest::collection::vec(any::<[u8; 32]>(), 0..70)) {
            let _ = verify_inclusion(&[1; 32], index, size, &proof, &[2; 32]);
            let _ = verify_consistency(old, size, &[1; 32], &[2; 32], &proof);
        }
    }
}
