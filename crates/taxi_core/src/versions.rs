//! Versions of a file. The TLC re-publishes a month under the same name with corrected content;
//! a load with `replace` makes the table hold exactly the new version. What it must remove, and
//! which history rows the new run supersedes, follows from the earlier successful runs of that
//! name, decided here.
//!
//! A trip belongs to the run that first inserted it (its `load_id`), and a run to a file name.
//! The trips of a name are those of all its runs: a trip of the first version that the second
//! kept still carries the first run's load_id. So a replacement may remove the trips of every
//! earlier run of the name, superseded or not, and removes exactly those its file lacks.

use std::collections::BTreeSet;

use crate::partition::Partition;

/// The name that identifies a file's versions: the last component of its path (or URL), so a
/// month re-published into another folder is still the same month.
pub fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// An earlier successful run of a file name, as `taxi.load_runs` records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EarlierRun {
    pub load_id: i64,
    /// The content's SHA-256 (hex); None if it was never computed.
    pub sha256: Option<String>,
    /// Not superseded: its file is (one of) the name's current version(s).
    pub current: bool,
    /// The partitions it inserted trips into.
    pub months: Vec<Partition>,
}

/// What replacing the earlier versions of a name takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    /// The runs whose trips the new version removes where its file lacks them.
    pub owners: Vec<i64>,
    /// The current runs the new one supersedes.
    pub supersedes: Vec<i64>,
    /// Where those trips are: every partition any of `owners` inserted into.
    pub months: BTreeSet<Partition>,
}

/// What a load of a file with content `sha256` and `replace` does, given the earlier successful
/// runs of its name. None: a plain load (the first version, or the current version's content
/// again: a reload).
pub fn replacement(earlier: &[EarlierRun], sha256: &str) -> Option<Replacement> {
    let current: Vec<&EarlierRun> = earlier.iter().filter(|r| r.current).collect();
    let same = |r: &&EarlierRun| r.sha256.as_deref() == Some(sha256);
    if earlier.is_empty() || (!current.is_empty() && current.iter().all(same)) {
        return None;
    }
    Some(Replacement {
        owners: earlier.iter().map(|r| r.load_id).collect(),
        supersedes: current.iter().map(|r| r.load_id).collect(),
        months: earlier
            .iter()
            .flat_map(|r| r.months.iter().copied())
            .collect(),
    })
}

/// Without `replace`: the current runs of the name with other content, beside whose trips this
/// load adds its own (the NOTICE that names `replace => true`).
pub fn other_versions(earlier: &[EarlierRun], sha256: &str) -> Vec<i64> {
    earlier
        .iter()
        .filter(|r| r.current && r.sha256.as_deref() != Some(sha256))
        .map(|r| r.load_id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(load_id: i64, sha: &str, current: bool, months: &[(i32, u32)]) -> EarlierRun {
        EarlierRun {
            load_id,
            sha256: Some(sha.into()),
            current,
            months: months
                .iter()
                .map(|&(y, m)| Partition::of_month(y, m))
                .collect(),
        }
    }

    #[test]
    fn the_file_name_is_the_last_component() {
        assert_eq!(
            file_name("/data/2024/yellow_tripdata_2024-01.parquet"),
            "yellow_tripdata_2024-01.parquet"
        );
        assert_eq!(
            file_name("https://example.org/trip-data/yellow_tripdata_2024-01.parquet"),
            "yellow_tripdata_2024-01.parquet"
        );
        assert_eq!(file_name("plain.parquet"), "plain.parquet");
    }

    #[test]
    fn a_first_version_or_the_same_content_is_a_plain_load() {
        assert_eq!(replacement(&[], "aa"), None);
        assert_eq!(replacement(&[run(1, "aa", true, &[(2024, 1)])], "aa"), None);
        // Loaded twice, both current, same content.
        let twice = [run(1, "aa", true, &[(2024, 1)]), run(2, "aa", true, &[])];
        assert_eq!(replacement(&twice, "aa"), None);
    }

    #[test]
    fn new_content_replaces_every_earlier_run_of_the_name() {
        let earlier = [
            run(1, "aa", false, &[(2024, 1), (2023, 12)]),
            run(4, "bb", true, &[(2024, 1), (2024, 2)]),
        ];
        let r = replacement(&earlier, "cc").unwrap();
        assert_eq!(r.owners, vec![1, 4]);
        assert_eq!(r.supersedes, vec![4]);
        let months: Vec<_> = r.months.into_iter().collect();
        assert_eq!(
            months,
            vec![
                Partition::of_month(2023, 12),
                Partition::of_month(2024, 1),
                Partition::of_month(2024, 2)
            ]
        );
        // Back to the first version's content: still a replacement of the current one.
        let back = replacement(&earlier, "aa").unwrap();
        assert_eq!(back.supersedes, vec![4]);
        assert_eq!(back.owners, vec![1, 4]);
    }

    #[test]
    fn two_current_versions_are_both_superseded() {
        // Loaded without replace, twice with different content: both stay current.
        let earlier = [
            run(1, "aa", true, &[(2024, 1)]),
            run(2, "bb", true, &[(2024, 1)]),
        ];
        assert_eq!(replacement(&earlier, "bb").unwrap().supersedes, vec![1, 2]);
        assert_eq!(other_versions(&earlier, "bb"), vec![1]);
        assert_eq!(other_versions(&earlier, "cc"), vec![1, 2]);
    }

    #[test]
    fn an_unknown_checksum_is_other_content() {
        let mut r = run(1, "aa", true, &[(2024, 1)]);
        r.sha256 = None;
        assert!(replacement(std::slice::from_ref(&r), "aa").is_some());
        assert_eq!(other_versions(&[r], "aa"), vec![1]);
    }
}
