//! Broken parquet files for the fault tests: a good file cut short at many offsets, with wrong
//! magic, a lying footer length, absurd row counts and sizes declared by a well-formed footer,
//! and bytes flipped in the footer, in page headers and in page data. Every case must give a
//! clean error (or load, when the damage is harmless) — never a crash, never an internal error.
//! pgrx-free.

use bytes::Bytes;
use parquet::file::metadata::ParquetMetaDataReader;

use taxi_core::read::thrift;

/// One broken file.
#[derive(Debug, Clone)]
pub struct Case {
    /// What was done, e.g. "truncated at 1234 of 50000 bytes".
    pub name: String,
    /// Which kind of damage, for summaries.
    pub kind: &'static str,
    pub bytes: Vec<u8>,
}

fn case(kind: &'static str, name: String, bytes: Vec<u8>) -> Case {
    Case { name, kind, bytes }
}

/// `count` offsets spread evenly over `range` (deduplicated).
fn spread(range: std::ops::Range<usize>, count: usize) -> Vec<usize> {
    if range.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<usize> = (0..count)
        .map(|i| range.start + i * (range.end - range.start) / count)
        .collect();
    out.dedup();
    out
}

fn flipped(good: &[u8], at: usize, how: u8) -> Vec<u8> {
    let mut b = good.to_vec();
    b[at] = match how {
        0 => b[at] ^ 0xff,
        1 => 0x00,
        _ => 0x7f,
    };
    b
}

/// The broken variants of `good`, a valid parquet file (at least a few kilobytes, more than one
/// column chunk).
pub fn cases(good: &[u8]) -> Vec<Case> {
    let n = good.len();
    let mut out = Vec::new();

    // Cut short: every one of the first 16 bytes, 48 offsets through the file, the last 12.
    let mut cuts: Vec<usize> = (0..=16).collect();
    cuts.extend(spread(17..n - 12, 48));
    cuts.extend(n - 12..n);
    for cut in cuts {
        out.push(case(
            "truncated",
            format!("truncated at {cut} of {n} bytes"),
            good[..cut].to_vec(),
        ));
    }

    // Wrong magic.
    let mut head = good.to_vec();
    head[..4].copy_from_slice(b"PAR0");
    out.push(case("wrong magic", "head magic PAR0".into(), head));
    let mut tail = good.to_vec();
    tail[n - 4..].copy_from_slice(b"PAR0");
    out.push(case("wrong magic", "tail magic PAR0".into(), tail));
    let mut both = good.to_vec();
    both[..4].copy_from_slice(b"\0\0\0\0");
    both[n - 4..].copy_from_slice(b"\0\0\0\0");
    out.push(case("wrong magic", "no magic at all".into(), both));
    out.push(case(
        "wrong magic",
        "only two magics".into(),
        b"PAR1PAR1".to_vec(),
    ));
    let mut hollow = b"PAR1".to_vec();
    hollow.extend(std::iter::repeat_n(0u8, 100));
    hollow.extend_from_slice(b"PAR1");
    out.push(case("wrong magic", "magic around zeros".into(), hollow));
    let mut trailing = good.to_vec();
    trailing.extend_from_slice(b"garbage after the footer");
    out.push(case(
        "wrong magic",
        "garbage after the footer".into(),
        trailing,
    ));

    // The footer's length field lies.
    let meta_len = u32::from_le_bytes(good[n - 8..n - 4].try_into().unwrap()) as usize;
    for len in [
        0u64,
        1,
        7,
        8,
        meta_len as u64 - 1,
        meta_len as u64 + 1,
        n as u64 - 8,
        n as u64 - 7,
        n as u64,
        u32::MAX as u64 / 2,
        u32::MAX as u64,
    ] {
        let mut b = good.to_vec();
        b[n - 8..n - 4].copy_from_slice(&(len as u32).to_le_bytes());
        out.push(case(
            "footer length",
            format!("footer length {len} (true {meta_len})"),
            b,
        ));
    }

    // The footer's row counts and sizes made absurd: found by walking its Thrift encoding, the
    // value re-encoded, the footer's length field fixed — a well-formed file that lies.
    let footer = &good[n - 8 - meta_len..n - 8];
    let mut fields = Vec::new();
    thrift::walk_struct(footer, |f| fields.push(f.clone())).expect("the good footer walks");
    for (path, what) in [
        (&[3][..], "file row count"),
        (&[4, 3][..], "row group row count"),
        (&[4, 2][..], "row group byte size"),
        (&[4, 1, 3, 5][..], "column value count"),
        (&[4, 1, 3, 6][..], "column uncompressed size"),
        (&[4, 1, 3, 7][..], "column compressed size"),
    ] {
        let field = fields.iter().find(|f| f.path == path).expect("field");
        for value in [-1i64, 0, 1 << 40, i64::MAX] {
            let mut lying = footer[..field.bytes.start].to_vec();
            lying.extend(thrift::encode_zigzag(value));
            lying.extend(&footer[field.bytes.end..]);
            let mut b = good[..n - 8 - meta_len].to_vec();
            b.extend(&lying);
            b.extend((lying.len() as u32).to_le_bytes());
            b.extend(b"PAR1");
            out.push(case(
                "declared sizes",
                format!("{what} {} declared as {value}", field.value),
                b,
            ));
        }
    }

    // Bytes of the footer (thrift metadata: schema, row counts, offsets, sizes) changed.
    let meta = n - 8 - meta_len..n - 8;
    for (i, at) in spread(meta, 40).into_iter().enumerate() {
        let how = (i % 3) as u8;
        out.push(case(
            "footer bytes",
            format!(
                "footer byte {at} {}",
                ["flipped", "zeroed", "set to 0x7f"][how as usize]
            ),
            flipped(good, at, how),
        ));
    }

    // Page headers and page data of the first column chunks.
    let metadata = ParquetMetaDataReader::new()
        .parse_and_finish(&Bytes::copy_from_slice(good))
        .expect("the good file parses");
    let chunks: Vec<(usize, usize)> = metadata
        .row_groups()
        .iter()
        .flat_map(|rg| rg.columns())
        .map(|c| {
            let start = c.dictionary_page_offset().unwrap_or(c.data_page_offset()) as usize;
            (start, c.compressed_size() as usize)
        })
        .take(12)
        .collect();
    for (k, &(start, size)) in chunks.iter().enumerate() {
        for (j, off) in [0usize, 1, 2, 3, 5, 8].into_iter().enumerate() {
            if off < size {
                let how = ((k + j) % 3) as u8;
                out.push(case(
                    "page header",
                    format!("column chunk at {start}: header byte +{off} changed ({how})"),
                    flipped(good, start + off, how),
                ));
            }
        }
        for at in [start + size / 2, start + size - 1] {
            if at > start + 16 {
                out.push(case(
                    "page data",
                    format!("column chunk at {start}: data byte {at} flipped"),
                    flipped(good, at, 0),
                ));
            }
        }
    }

    // Whole regions overwritten: zeros, and deterministic noise.
    let mid = n / 2;
    let width = (n / 8).min(4096);
    let mut zeros = good.to_vec();
    zeros[mid..mid + width].fill(0);
    out.push(case(
        "region",
        format!("{width} bytes zeroed at {mid}"),
        zeros,
    ));
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for at in [n / 4, n / 2, 3 * n / 4] {
        let mut noisy = good.to_vec();
        for byte in &mut noisy[at..(at + width).min(n - 8)] {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            *byte = state as u8;
        }
        out.push(case(
            "region",
            format!("{width} bytes of noise at {at}"),
            noisy,
        ));
    }
    out
}

/// The base files the fault tests break: the real 5,000-row sample, a generated yellow month in
/// the 2012 layout with three row groups (dictionary pages, more column chunks), and a generated
/// month of each other dataset (green in the 2019 layout with its `null`-typed ehail_fee, FHV in
/// the 2020 layout with double location IDs, high-volume FHV), three row groups each.
pub fn base_files(fixtures: &str) -> Vec<(String, Vec<u8>)> {
    use taxi_core::dataset::{FHV, FHVHV, GREEN, YELLOW};
    let sample = std::fs::read(format!(
        "{fixtures}/yellow_tripdata_2025-02_sample5000.parquet"
    ))
    .expect("the sample fixture");
    let mut out = vec![("sample 2025-02".to_string(), sample)];
    for (name, dataset, rows, year) in [
        ("generated 2012 layout", &YELLOW, 3000, 2012),
        ("generated green, 2019 layout", &GREEN, 1500, 2019),
        ("generated FHV, 2020 layout", &FHV, 1500, 2020),
        ("generated high-volume FHV", &FHVHV, 1500, 2024),
    ] {
        let trips = super::generate(&super::Options {
            dataset,
            rows,
            seed: 11,
            ..super::Options::default()
        });
        let path = std::env::temp_dir().join(format!(
            "taxi_loader_corrupt_base_{}_{}.parquet",
            std::process::id(),
            dataset.name
        ));
        let path = path.to_str().unwrap().to_string();
        super::write_parquet(&path, &trips, &super::Vintage::of_year(year), rows / 3)
            .expect("write");
        out.push((name.to_string(), std::fs::read(&path).expect("read back")));
        let _ = std::fs::remove_file(&path);
    }
    out
}

/// What loading a case gave: "loads" (the same trips as the good file), "loads, values
/// changed" (damage inside a value that still decodes: the same number of rows), or the
/// SQLSTATE of its error.
pub type Outcome = String;

/// The outcome of reading `case` (`got`), given what the good file reads as. Damage that still
/// decodes must not lose or invent rows: that panics.
pub fn outcome(
    case: &Case,
    got: Result<taxi_core::trip::TripBatch, taxi_core::error::LoadError>,
    good: &taxi_core::trip::TripBatch,
) -> Outcome {
    match got {
        Err(e) => e.class().sqlstate().to_string(),
        // Every row of the file is either stored or rejected.
        Ok(trips) if trips.len() + trips.rejected.len() != good.len() => {
            panic!(
                "{}: {} rows and {} rejected instead of {}",
                case.name,
                trips.len(),
                trips.rejected.len(),
                good.len()
            )
        }
        Ok(trips) if !trips.rejected.is_empty() => "loads, rows rejected".to_string(),
        Ok(trips) if &trips == good => "loads".to_string(),
        Ok(_) => "loads, values changed".to_string(),
    }
}

/// The table of docs/reliability.md for (kind, outcome) pairs.
pub fn summary(results: &[(&'static str, Outcome)]) -> String {
    let mut kinds: Vec<&str> = Vec::new();
    for r in results {
        if !kinds.contains(&r.0) {
            kinds.push(r.0);
        }
    }
    let mut out = String::from(
        "| damage | cases | clean ERROR, by SQLSTATE | loads, same trips | loads, a value changed | loads, damaged rows rejected | rows lost or invented | crashes | internal errors (XX000) |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut total = 0;
    for kind in kinds {
        let of_kind: Vec<&Outcome> = results
            .iter()
            .filter(|r| r.0 == kind)
            .map(|r| &r.1)
            .collect();
        let mut states: std::collections::BTreeMap<&str, usize> = Default::default();
        for o in of_kind.iter().filter(|o| !o.starts_with("loads")) {
            *states.entry(o.as_str()).or_default() += 1;
        }
        let loads = of_kind.iter().filter(|o| o.as_str() == "loads").count();
        let changed = of_kind
            .iter()
            .filter(|o| o.as_str() == "loads, values changed")
            .count();
        let rejected = of_kind
            .iter()
            .filter(|o| o.as_str() == "loads, rows rejected")
            .count();
        let errors: Vec<String> = states.iter().map(|(s, n)| format!("{s}: {n}")).collect();
        out.push_str(&format!(
            "| {kind} | {} | {} | {loads} | {changed} | {rejected} | 0 | 0 | {} |\n",
            of_kind.len(),
            if errors.is_empty() {
                "—".to_string()
            } else {
                errors.join(", ")
            },
            states.get("XX000").copied().unwrap_or(0),
        ));
        total += of_kind.len();
    }
    out.push_str(&format!(
        "| **all** | **{total}** | | | | | **0** | **0** | **0** |\n"
    ));
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn enough_distinct_cases() {
        let good = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/yellow_tripdata_2025-02_sample5000.parquet"
        ))
        .unwrap();
        let cases = super::cases(&good);
        assert!(cases.len() >= 200, "{}", cases.len());
        assert!(cases.iter().all(|c| c.bytes != good));
        let kinds: std::collections::BTreeSet<_> = cases.iter().map(|c| c.kind).collect();
        assert_eq!(kinds.len(), 8, "{kinds:?}");
    }
}
