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

/// A hash set of trip keys (the recent keys of a [`KeyTable`]).
pub type KeySet = HashSet<Key, BuildHasherDefault<KeyHasher>>;

pub fn key_set(capacity: usize) -> KeySet {
    KeySet::with_capacity_and_hasher(capacity, Default::default())
}

/// Keys a [`KeyTable`] holds in its hash set before they are merged into the sorted array.
const RECENT_MIN: usize = 1 << 16;
const RECENT_MAX: usize = 1 << 20;

/// A set of trip keys at about 17 bytes a key, for the sets that grow with a file (a 24M-row
/// month): a hash set of 16-byte keys takes 17 bytes a bucket and doubles its buckets, so 24M
/// keys took 570 MB. Here the keys sit sorted in one array, found through a directory of their
/// leading bits (keys are SHA-256 output, uniformly spread: a directory slot holds a handful);
/// new keys wait in a small hash set and are merged into the array in place (from its end, into
/// capacity reserved for the file's rows) once it holds an eighth of it or 1M keys.
#[derive(Default)]
pub struct KeyTable {
    sorted: Vec<Key>,
    /// `directory[s]..directory[s + 1]`: the range of `sorted` whose keys start with `s`.
    directory: Vec<u32>,
    /// 128 minus the number of leading bits the directory is indexed by.
    shift: u32,
    recent: KeySet,
}

impl KeyTable {
    /// Room for `n` keys in the sorted array (reserved, not touched: it costs memory as it fills).
    pub fn with_capacity(n: usize) -> KeyTable {
        KeyTable {
            sorted: Vec::with_capacity(n),
            ..KeyTable::default()
        }
    }

    /// The set of `keys` (sorted on the worker pool; no second copy).
    pub fn from_keys(mut keys: Vec<Key>) -> KeyTable {
        use rayon::prelude::*;
        crate::threads::pool().install(|| keys.par_sort_unstable());
        keys.dedup();
        let mut table = KeyTable {
            sorted: keys,
            ..KeyTable::default()
        };
        table.index();
        table
    }

    fn slot(&self, k: Key) -> usize {
        if self.shift >= 128 {
            0
        } else {
            (k >> self.shift) as usize
        }
    }

    /// Whether the sorted array holds `k`.
    fn in_sorted(&self, k: Key) -> bool {
        if self.sorted.is_empty() {
            return false;
        }
        let s = self.slot(k);
        let (from, to) = (self.directory[s] as usize, self.directory[s + 1] as usize);
        self.sorted[from..to].binary_search(&k).is_ok()
    }

    pub fn contains(&self, k: Key) -> bool {
        self.recent.contains(&k) || self.in_sorted(k)
    }

    /// Adds `k`; false if it was there. May merge.
    pub fn insert(&mut self, k: Key) -> bool {
        if self.in_sorted(k) || !self.recent.insert(k) {
            return false;
        }
        self.merge_if_due();
        true
    }

    pub fn len(&self) -> usize {
        self.sorted.len() + self.recent.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes it holds: the sorted keys and the directory, and the recent keys' hash table
    /// whole. (Capacity reserved for the sorted array costs nothing until keys fill it.)
    pub fn bytes(&self) -> usize {
        let buckets = if self.recent.capacity() == 0 {
            0
        } else {
            (self.recent.capacity() * 8 / 7).next_power_of_two()
        };
        self.sorted.len() * std::mem::size_of::<Key>()
            + self.directory.capacity() * 4
            + buckets * (std::mem::size_of::<Key>() + 1)
    }

    fn merge_if_due(&mut self) {
        let due = (self.sorted.len() / 8).clamp(RECENT_MIN, RECENT_MAX);
        if self.recent.len() >= due {
            self.merge();
        }
    }

    /// Moves the recent keys into the sorted array: sorted, then merged from the back, in place.
    fn merge(&mut self) {
        let mut batch: Vec<Key> = self.recent.drain().collect();
        batch.sort_unstable();
        let old = self.sorted.len();
        self.sorted.resize(old + batch.len(), 0);
        let (mut i, mut j, mut k) = (old, batch.len(), old + batch.len());
        while j > 0 {
            if i > 0 && self.sorted[i - 1] > batch[j - 1] {
                self.sorted[k - 1] = self.sorted[i - 1];
                i -= 1;
            } else {
                self.sorted[k - 1] = batch[j - 1];
                j -= 1;
            }
            k -= 1;
        }
        self.index();
    }

    /// Rebuilds the directory: about eight keys a slot (half a byte a key), at most 2^24 slots.
    fn index(&mut self) {
        let n = self.sorted.len();
        let bits = (usize::BITS - (n / 8).max(1).leading_zeros()).clamp(1, 24);
        self.shift = 128 - bits;
        let slots = 1usize << bits;
        self.directory.clear();
        self.directory.reserve_exact(slots + 1);
        let mut at = 0usize;
        for s in 0..slots {
            while at < n && ((self.sorted[at] >> self.shift) as usize) < s {
                at += 1;
            }
            self.directory.push(at as u32);
        }
        self.directory.push(n as u32);
    }
}

/// Positions of the rows whose trip is not in `stored`, in order. Read-only on the set, so the
/// pipeline's workers run it in parallel, off the backend's thread.
pub fn not_stored(stored: &KeyTable, hashes: &[RowHash]) -> Vec<usize> {
    use rayon::prelude::*;
    hashes
        .par_iter()
        .enumerate()
        .filter(|(_, h)| !stored.contains(key(&h[..])))
        .map(|(i, _)| i)
        .collect()
}

/// The trips already taken from this file (and, when probing, the ones found stored).
#[derive(Default)]
pub struct Seen(KeyTable);

impl Seen {
    /// Room for a file of `n` rows.
    pub fn with_capacity(n: usize) -> Seen {
        Seen(KeyTable::with_capacity(n))
    }

    pub fn insert(&mut self, hash: &[u8]) -> bool {
        self.0.insert(key(hash))
    }

    pub fn contains(&self, hash: &[u8]) -> bool {
        self.0.contains(key(hash))
    }

    /// Marks every row of a chunk seen. A replacement needs the set of all the file's trips: the
    /// load's own set serves, once it holds the stored ones too (marking a stored trip seen
    /// changes nothing for the load: stored trips are never candidates).
    pub fn insert_all(&mut self, hashes: &[RowHash]) {
        for h in hashes {
            self.0.insert(key(&h[..]));
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The bytes the set holds.
    pub fn bytes(&self) -> usize {
        self.0.bytes()
    }

    /// Positions of the rows to write among `candidates`: those whose trip was not seen, in
    /// order. Marks them seen, so a later copy in the file is a duplicate. The sorted part of the
    /// set is searched on the worker pool; merging waits until the chunk is done, so a key is
    /// never in neither part.
    pub fn new_rows_among(&mut self, hashes: &[RowHash], candidates: &[usize]) -> Vec<usize> {
        use rayon::prelude::*;
        let table = &self.0;
        let unsorted: Vec<usize> = crate::threads::pool().install(|| {
            candidates
                .par_iter()
                .copied()
                .filter(|&i| !table.in_sorted(key(&hashes[i][..])))
                .collect()
        });
        let rows = unsorted
            .into_iter()
            .filter(|&i| self.0.recent.insert(key(&hashes[i][..])))
            .collect();
        self.0.merge_if_due();
        rows
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
        let stored = KeyTable::from_keys(vec![key(&h(3)), key(&h(1))]);
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

    /// SHA-256-like keys: every bit uniformly spread (splitmix64 for each half).
    fn spread(i: u64) -> Key {
        let mix = |mut z: u64| {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        ((mix(i) as u128) << 64) | mix(i ^ 0xA5A5_A5A5_A5A5_A5A5) as u128
    }

    #[test]
    fn a_key_table_is_a_set() {
        let mut t = KeyTable::with_capacity(300_000);
        let mut model = std::collections::HashSet::new();
        for i in 0..300_000u64 {
            // Every third key comes again later: duplicates across merges.
            let k = spread(if i % 3 == 2 { i / 2 } else { i });
            assert_eq!(t.insert(k), model.insert(k), "{i}");
        }
        assert_eq!(t.len(), model.len());
        for i in 0..400_000u64 {
            assert_eq!(t.contains(spread(i)), model.contains(&spread(i)), "{i}");
        }
        // Keys at the ends of the key space.
        for k in [0, 1, u128::MAX, u128::MAX - 1, 1 << 127] {
            assert!(t.insert(k));
            assert!(!t.insert(k));
            assert!(t.contains(k));
        }
        let frozen =
            KeyTable::from_keys((0..1000).map(spread).chain((0..10).map(spread)).collect());
        assert_eq!(frozen.len(), 1000);
        assert!(frozen.contains(spread(999)) && !frozen.contains(spread(1000)));
        assert!(!KeyTable::default().contains(0));
    }

    /// 3M keys take 16 bytes each in the sorted array reserved for them, the directory at most
    /// half a byte a key, the recent keys' hash set at most 36 MB: about 17 bytes a key for a
    /// 24M-row month, not a hash table's 24.
    #[test]
    fn a_key_table_holds_about_seventeen_bytes_a_key() {
        let n = 3_000_000u64;
        let mut seen = Seen::with_capacity(n as usize);
        let mut peak = 0;
        let hashes: Vec<RowHash> = (0..n)
            .map(|i| {
                let mut h = [0u8; 32];
                h[..16].copy_from_slice(&spread(i).to_be_bytes());
                h
            })
            .collect();
        for chunk in hashes.chunks(100_000) {
            let all: Vec<usize> = (0..chunk.len()).collect();
            assert_eq!(seen.new_rows_among(chunk, &all).len(), chunk.len());
            peak = peak.max(seen.bytes());
        }
        assert_eq!(seen.len(), n as usize);
        assert!(
            peak <= n as usize * 16 + (n as usize / 2) * 4 + (1 << 21) * 17,
            "{peak} bytes for {n} keys"
        );
        // Every key again: all duplicates.
        for chunk in hashes.chunks(100_000) {
            let all: Vec<usize> = (0..chunk.len()).collect();
            assert!(seen.new_rows_among(chunk, &all).is_empty());
        }
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
