//! The row hash: SHA-256 over a canonical encoding of a trip's *logical* values, so a trip hashes
//! the same whatever the file's physical types, column-name case or vintage. The README documents
//! the encoding byte for byte. pgrx-free; hashing runs on the loader's rayon pool.

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::trip::{TripBatch, Values};

pub type RowHash = [u8; 32];

/// Appends the canonical encoding of row `row` of `batch` to `out`:
/// the dataset's encoding byte (yellow's is 1, as before there were datasets), then for each of
/// its columns in order either `0x00` (NULL) or `0x01` followed by the value:
/// - whole numbers (whatever their width) and cents: 8-byte big-endian two's complement;
/// - timestamps: 8-byte big-endian microseconds since 1970-01-01 00:00:00;
/// - doubles (trip_distance, trip_miles): the 8-byte big-endian IEEE-754 double, with -0.0 written as 0.0 and every
///   NaN as 0x7FF8000000000000;
/// - text: 4-byte big-endian byte length, then the UTF-8 bytes.
///
/// A row with a coordinate (yellow 2009–2010) is encoded with its dataset's `Located` byte over
/// every column but the zones, which are computed from the coordinates; any other row with the
/// dataset's byte over the columns before the coordinates. So yellow rows of 2011 on hash as
/// they did before coordinates existed, and a better zone map never makes a stored trip new.
pub fn encode_row(batch: &TripBatch, row: usize, out: &mut Vec<u8>) {
    let (encoding, columns) = encoded_columns(batch, row);
    out.push(encoding);
    for (_, column) in columns {
        match column {
            Values::Int(v) => put(out, v[row].map(|x| (x as i64).to_be_bytes())),
            Values::BigInt(v) | Values::Timestamp(v) | Values::Money(v) => {
                put(out, v[row].map(i64::to_be_bytes))
            }
            Values::Float(v) => put(out, v[row].map(|x| canonical_f64(x).to_be_bytes())),
            Values::Text(v) => match &v[row] {
                None => out.push(0),
                Some(s) => {
                    out.push(1);
                    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
                    out.extend_from_slice(s.as_bytes());
                }
            },
        }
    }
}

/// The encoding byte of `row` and the columns its encoding covers.
fn encoded_columns(batch: &TripBatch, row: usize) -> (u8, impl Iterator<Item = (usize, &Values)>) {
    let d = batch.dataset;
    let located = d.located.filter(|l| {
        l.pickup
            .iter()
            .chain(&l.dropoff)
            .any(|&c| !batch.columns[c].is_null(row))
    });
    let (encoding, end, skip) = match located {
        Some(l) => (l.encoding, batch.columns.len(), l.zones),
        None => (d.encoding, d.hashed_columns(), [usize::MAX; 2]),
    };
    let columns = batch.columns[..end]
        .iter()
        .enumerate()
        .filter(move |(i, _)| !skip.contains(i));
    (encoding, columns)
}

fn put(out: &mut Vec<u8>, value: Option<[u8; 8]>) {
    match value {
        None => out.push(0),
        Some(bytes) => {
            out.push(1);
            out.extend_from_slice(&bytes);
        }
    }
}

fn canonical_f64(x: f64) -> u64 {
    if x.is_nan() {
        0x7FF8_0000_0000_0000
    } else if x == 0.0 {
        0
    } else {
        x.to_bits()
    }
}

pub fn row_hash(batch: &TripBatch, row: usize) -> RowHash {
    let mut buf = Vec::with_capacity(256);
    encode_row(batch, row, &mut buf);
    Sha256::digest(&buf).into()
}

/// Hashes every row of `batch` in parallel. Call it inside the loader's pool
/// (`threads::pool().install`); it touches only plain Rust data.
pub fn hash_batch(batch: &TripBatch) -> Vec<RowHash> {
    (0..batch.len())
        .into_par_iter()
        .with_min_len(1024)
        .map_init(
            // One stack buffer per worker, not one zeroed per row: each row overwrites the bytes
            // it uses, and only those are hashed.
            || (Vec::with_capacity(256), [0u8; FIXED]),
            |(buf, fixed), row| match encode_row_fixed(batch, row, fixed) {
                Some(len) => Sha256::digest(&fixed[..len]).into(),
                None => {
                    buf.clear();
                    encode_row(batch, row, buf);
                    Sha256::digest(&buf[..]).into()
                }
            },
        )
        .collect()
}

/// Room for a row of up to 25 columns whose texts are at most 15 bytes each (every real flag,
/// base number and license): 1 + 25 × 20 bytes.
const FIXED: usize = 512;

/// [`encode_row`] into a stack buffer, without the Vec's growth checks: hashing is the
/// costliest step of a reload. None if the row does not fit (long text).
fn encode_row_fixed(batch: &TripBatch, row: usize, buf: &mut [u8; FIXED]) -> Option<usize> {
    fn put8(buf: &mut [u8; FIXED], at: &mut usize, value: Option<[u8; 8]>) {
        match value {
            None => {
                buf[*at] = 0;
                *at += 1;
            }
            Some(bytes) => {
                buf[*at] = 1;
                buf[*at + 1..*at + 9].copy_from_slice(&bytes);
                *at += 9;
            }
        }
    }
    if batch.columns.len() * 20 + 1 > FIXED {
        return None;
    }
    let (encoding, columns) = encoded_columns(batch, row);
    buf[0] = encoding;
    let mut at = 1;
    for (_, column) in columns {
        match column {
            Values::Int(v) => put8(buf, &mut at, v[row].map(|x| (x as i64).to_be_bytes())),
            Values::BigInt(v) | Values::Timestamp(v) | Values::Money(v) => {
                put8(buf, &mut at, v[row].map(i64::to_be_bytes))
            }
            Values::Float(v) => put8(buf, &mut at, v[row].map(|x| canonical_f64(x).to_be_bytes())),
            Values::Text(v) => match &v[row] {
                None => {
                    buf[at] = 0;
                    at += 1;
                }
                Some(s) if s.len() <= 15 => {
                    buf[at] = 1;
                    buf[at + 1..at + 5].copy_from_slice(&(s.len() as u32).to_be_bytes());
                    buf[at + 5..at + 5 + s.len()].copy_from_slice(s.as_bytes());
                    at += 5 + s.len();
                }
                Some(_) => return None,
            },
        }
    }
    Some(at)
}

/// Lower-case hex, for logs, tests and the README.
pub fn hex(hash: &[u8]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// An order-independent digest of a set of trips: the wrapping sum of their row hashes' first
/// eight bytes. The digests of disjoint sets add up to their union's, so the workers' shares of a
/// load add up to the coordinator's count of it (`load::shards`): the same trips, not only as many.
pub fn sum_digest<'a>(hashes: impl IntoIterator<Item = &'a RowHash>) -> i64 {
    hashes.into_iter().fold(0i64, |sum, h| {
        let first: [u8; 8] = h[..8].try_into().expect("32 bytes");
        sum.wrapping_add(i64::from_le_bytes(first))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{ALL, YELLOW};

    #[test]
    fn sum_digests_add_up_over_disjoint_sets_in_any_order() {
        let h = |b: u8| -> RowHash { std::array::from_fn(|i| b.wrapping_mul(i as u8 + 7)) };
        let all = [h(1), h(2), h(3), h(250)];
        let whole = sum_digest(&all);
        assert_eq!(
            sum_digest(&all[..1]).wrapping_add(sum_digest(&all[1..])),
            whole
        );
        assert_eq!(sum_digest([&all[3], &all[0], &all[2], &all[1]]), whole);
        // A different trip in place of one changes it.
        assert_ne!(sum_digest([&all[0], &all[1], &all[2], &h(251)]), whole);
        assert_eq!(sum_digest([]), 0);
    }

    use crate::dataset::yellow::idx;

    fn one_row() -> TripBatch {
        let mut b = TripBatch::empty(&YELLOW, 1);
        for (i, c) in b.columns.iter_mut().enumerate() {
            *c = Values::nulls(YELLOW.columns[i].kind, 1);
        }
        b.columns[idx::VENDOR_ID] = Values::Int(vec![Some(1)]);
        b.columns[idx::PICKUP] = Values::Timestamp(vec![Some(0)]);
        b.columns[idx::DROPOFF] = Values::Timestamp(vec![Some(1_000_000)]);
        b.columns[idx::TRIP_DISTANCE] = Values::Float(vec![Some(-0.0)]);
        b.columns[idx::STORE_AND_FWD_FLAG] = Values::Text(vec![Some("N".into())]);
        b.columns[idx::FARE_AMOUNT] = Values::Money(vec![Some(-1210)]);
        b
    }

    #[test]
    fn every_dataset_fits_the_fixed_buffer_and_starts_with_its_byte() {
        for d in ALL {
            assert!(d.columns.len() * 20 < FIXED, "{}", d.name);
            let mut one = TripBatch::empty(d, 1);
            for (c, col) in one.columns.iter_mut().zip(d.columns) {
                *c = Values::nulls(col.kind, 1);
            }
            let mut out = Vec::new();
            encode_row(&one, 0, &mut out);
            assert_eq!(out[0], d.encoding);
            assert_eq!(out.len(), 1 + d.hashed_columns());
            let mut fixed = [0u8; FIXED];
            assert_eq!(encode_row_fixed(&one, 0, &mut fixed), Some(out.len()));
        }
    }

    #[test]
    fn encoding_is_byte_exact() {
        let mut out = Vec::new();
        encode_row(&one_row(), 0, &mut out);
        let mut want = vec![1u8];
        want.extend([1, 0, 0, 0, 0, 0, 0, 0, 1]); // VendorID 1
        want.extend([1, 0, 0, 0, 0, 0, 0, 0, 0]); // pickup 1970-01-01 00:00:00
        want.extend([1, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40]); // dropoff + 1 s
        want.push(0); // passenger_count NULL
        want.extend([1, 0, 0, 0, 0, 0, 0, 0, 0]); // trip_distance -0.0 as 0.0
        want.push(0); // RatecodeID NULL
        want.extend([1, 0, 0, 0, 1, b'N']); // store_and_fwd_flag
        want.extend([0, 0, 0]); // PU, DO, payment_type NULL
        want.extend([1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb, 0x46]); // fare -12.10
        want.extend([0; 9]); // the other nine amounts NULL
        assert_eq!(out, want);
        assert_eq!(out.len(), 1 + 3 * 9 + 1 + 9 + 1 + 6 + 3 + 9 + 9);
    }

    #[test]
    fn parallel_and_serial_hashes_agree_and_differ_per_row() {
        let mut b = TripBatch::empty(&YELLOW, 3000);
        let row = one_row();
        for _ in 0..3000 {
            b.push_row(&row, 0);
        }
        if let Values::Money(v) = &mut b.columns[13] {
            for (i, x) in v.iter_mut().enumerate() {
                *x = Some(i as i64);
            }
        }
        let par = hash_batch(&b);
        let serial: Vec<_> = (0..b.len()).map(|r| row_hash(&b, r)).collect();
        assert_eq!(par, serial);
        let mut distinct = par.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 3000);
    }

    #[test]
    fn fixed_and_growing_encodings_agree() {
        let mut long = one_row();
        long.columns[idx::STORE_AND_FWD_FLAG] = Values::Text(vec![Some("x".repeat(40).into())]);
        let mut short = one_row();
        short.columns[idx::STORE_AND_FWD_FLAG] = Values::Text(vec![Some("0123456789abcde".into())]);
        for b in [one_row(), long, short] {
            let mut grown = Vec::new();
            encode_row(&b, 0, &mut grown);
            let mut fixed = [0u8; FIXED];
            let is_long = matches!(&b.columns[idx::STORE_AND_FWD_FLAG], Values::Text(v) if v[0].as_ref().is_some_and(|s| s.len() > 15));
            match encode_row_fixed(&b, 0, &mut fixed) {
                Some(len) => assert_eq!(&fixed[..len], &grown[..]),
                None => assert!(is_long, "only long text takes the growing path"),
            }
            assert_eq!(hash_batch(&b)[0], row_hash(&b, 0));
        }
    }

    #[test]
    fn null_differs_from_zero_and_from_empty_text() {
        let a = one_row();
        let mut b = one_row();
        b.columns[idx::PASSENGER_COUNT] = Values::Int(vec![Some(0)]);
        let mut c = one_row();
        c.columns[idx::STORE_AND_FWD_FLAG] = Values::Text(vec![Some("".into())]);
        let mut d = one_row();
        d.columns[idx::STORE_AND_FWD_FLAG] = Values::Text(vec![None]);
        let hashes = [
            row_hash(&a, 0),
            row_hash(&b, 0),
            row_hash(&c, 0),
            row_hash(&d, 0),
        ];
        for i in 0..4 {
            for j in i + 1..4 {
                assert_ne!(hashes[i], hashes[j], "{i} vs {j}");
            }
        }
    }
}

#[cfg(test)]
mod readme_example {
    use super::*;
    use crate::read::TripReader;

    /// The worked example of docs/row-hash.md, from the first row of the official-type sample.
    #[test]
    fn first_row_of_the_official_sample() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/yellow_tripdata_2025-01_sample5.parquet"
        );
        let batch = TripReader::open(path, 10).unwrap().next().unwrap().unwrap();
        let mut encoding = Vec::new();
        encode_row(&batch, 0, &mut encoding);
        assert_eq!(hex(&encoding), README_ENCODING);
        assert_eq!(hex(&row_hash(&batch, 0)), README_HASH);
        // docs/row-hash.md shows the encoding and hash verbatim.
        let readme = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/row-hash.md"
        ))
        .unwrap();
        assert!(readme.contains(README_HASH));
        assert!(readme.replace(['\n', ' '], "").contains(README_ENCODING));
    }

    const README_ENCODING: &str = "010100000000000000010100062a99fcafb3800100062a9a1a8c5ac0010000000000000001013ff999999999999a01000000000000000101000000014e0100000000000000e50100000000000000ed0100000000000000010100000000000003e801000000000000015e01000000000000003201000000000000012c0100000000000000000100000000000000640100000000000007080100000000000000fa010000000000000000010000000000000000";
    const README_HASH: &str = "cf7b3663aa50dcc0d8100ec9c0bab542df80790ccda2b375f48f463762c8f52b";
}
