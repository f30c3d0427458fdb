//! Stage: decide which rows of a chunk go to the table. A row is written only if its trip is
//! neither already stored nor seen earlier in the same file. pgrx-free.
//!
//! Trips are keyed by the first 16 bytes of their row hash. Two distinct trips share a key with
//! probability about n²/2¹²⁹ (10⁻²⁶ for a 4M-row file): never, in practice. The unique index on
//! the full 32-byte hash still guards every insert.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use crate::hash::RowHash;

pub type Key = u128;

pub fn key(hash: &[u8]) -> Key {
    Key::from_be_bytes(hash[..16].try_into().expect("a row hash has 32 bytes"))
}

/// The keys are SHA-256 output, already uniformly spread: hashing them again is wasted work.
#[derive(Default)]
pub struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | *b as u64;
        }
    }
    fn write_u128(&mut self, k: u128) {
        self.0 = k as u64;
    }
}

/// A set of trip keys.
pub type KeySet = HashSet<Key, BuildHasherDefault<KeyHasher>>;

pub fn key_set(capacity: usize) -> KeySet {
    KeySet::with_capacity_and_hasher(capacity, Default::default())
}

/// Positions of the rows whose trip is not in `stored`, in order. Read-only on the set, so the
/// pipeline's workers run it in parallel, off the backend's thread.
pub fn not_stored(stored: &KeySet, hashes: &[RowHash]) -> Vec<usize> {
    use rayon::prelude::*;
    hashes
        .par_iter()
        .enumerate()
        .filter(|(_, h)| !stored.contains(&key(&h[..])))
        .map(|(i, _)| i)
        .collect()
}

/// The trips already taken from this file (and, when probing, the ones found stored).
#[derive(Default)]
pub struct Seen(KeySet);

impl Seen {
    pub fn with_capacity(n: usize) -> Seen {
        Seen(key_set(n))
    }

    pub fn insert(&mut self, hash: &[u8]) -> bool {
        self.0.insert(key(hash))
    }

    pub fn contains(&self, hash: &[u8]) -> bool {
        self.0.contains(&key(hash))
    }

    /// Marks every row of a chunk seen. A replacement needs the set of all the file's trips: the
    /// load's own set serves, once it holds the stored ones too (marking a stored trip seen
    /// changes nothing for the load: stored trips are never candidates).
    pub fn insert_all(&mut self, hashes: &[RowHash]) {
        self.0.extend(hashes.iter().map(|h| key(&h[..])));
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Positions of the rows to write among `candidates`: those whose trip was not seen, in
    /// order. Marks them seen, so a later copy in the file is a duplicate.
    pub fn new_rows_among(&mut self, hashes: &[RowHash], candidates: &[usize]) -> Vec<usize> {
        candidates
            .iter()
            .copied()
            .filter(|&i| self.insert(&hashes[i][..]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(n: u8) -> RowHash {
        let mut x = [0u8; 32];
        x[0] = n;
        x[31] = n;
        x
    }

    #[test]
    fn new_rows_among_skips_known_and_repeated_trips() {
        let mut seen = Seen::default();
        seen.insert(&h(1));
        assert_eq!(
            seen.new_rows_among(&[h(1), h(2), h(3), h(2)], &[0, 1, 2, 3]),
            vec![1, 2]
        );
        assert_eq!(seen.new_rows_among(&[h(3), h(4)], &[0, 1]), vec![1]);
        assert_eq!(seen.len(), 4);
    }

    #[test]
    fn not_stored_then_new_among_them() {
        let mut stored = key_set(4);
        stored.insert(key(&h(1)));
        stored.insert(key(&h(3)));
        let hashes = [h(1), h(2), h(3), h(2), h(4)];
        let fresh = not_stored(&stored, &hashes);
        assert_eq!(fresh, vec![1, 3, 4]);
        let mut seen = Seen::default();
        assert_eq!(seen.new_rows_among(&hashes, &fresh), vec![1, 4]);
    }

    #[test]
    fn every_row_marked_seen_leaves_the_new_rows_unchanged() {
        let mut seen = Seen::default();
        let hashes = [h(1), h(2), h(3)];
        // Row 0 is stored (not a candidate); rows 1 and 2 are new.
        assert_eq!(seen.new_rows_among(&hashes, &[1, 2]), vec![1, 2]);
        seen.insert_all(&hashes);
        assert!(seen.contains(&h(1)) && seen.contains(&h(3)) && !seen.contains(&h(4)));
        assert_eq!(seen.len(), 3);
        assert_eq!(seen.new_rows_among(&[h(2), h(4)], &[0, 1]), vec![1]);
    }

    #[test]
    fn keys_are_the_leading_bytes() {
        let mut x = [0u8; 32];
        x[15] = 7;
        assert_eq!(key(&x), 7);
        x[16] = 9; // beyond the key
        assert_eq!(key(&x), 7);
    }
}
