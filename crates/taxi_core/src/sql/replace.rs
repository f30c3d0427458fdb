//! SQL text of replacing a file's earlier versions (`taxi_load(…, replace => true)`,
//! `crate::versions`). Executed by the extension's `load::replace` with bound parameters; the
//! history statements run as the history tables' owner, the trip statements as the loading role.

/// The advisory-lock class of file-name locks: "taxn" in ASCII, beside the month locks' "taxi".
pub const NAME_LOCK_CLASS: i32 = 0x7461_786E;

/// Replacements of one file name ($1) take turns, until their transactions end. Try first: a
/// load that had to wait is told so (under REPEATABLE READ it could not see what the other
/// committed).
pub const TRY_LOCK_NAME: &str =
    "SELECT pg_catalog.pg_try_advisory_xact_lock($1, pg_catalog.hashtext($2))";
pub const LOCK_NAME: &str = "SELECT pg_catalog.pg_advisory_xact_lock($1, pg_catalog.hashtext($2))";

use crate::dataset::Dataset;

/// Whether the current role may remove trips and their facts (finding the facts reads them).
pub fn may_delete(d: &Dataset) -> String {
    format!(
        "SELECT pg_catalog.has_table_privilege('{}', 'DELETE')
   AND pg_catalog.has_table_privilege('taxi.fact_trips', 'DELETE')
   AND pg_catalog.has_table_privilege('taxi.fact_trips', 'SELECT')",
        d.qualified()
    )
}

/// The earlier successful runs of file name $1, other than run $2: load_id, checksum (hex),
/// whether still current, the months they inserted trips into.
pub const EARLIER_RUNS: &str = "\
SELECT load_id, pg_catalog.encode(file_sha256, 'hex'), superseded_by IS NULL,
       coalesce(trip_months, '{}')
  FROM taxi.load_runs
 WHERE file_name OPERATOR(pg_catalog.=) $1 AND status OPERATOR(pg_catalog.=) 'succeeded'
   AND load_id OPERATOR(pg_catalog.<>) $2::pg_catalog.int8
 ORDER BY load_id";

/// Removes the trips of row hashes $1 inserted by runs $2 with a pickup in [$3, $4) (NULL:
/// unbounded; one partition's bounds, so only that partition is read), and their facts. The
/// hashes are the runs' trips found in that partition, so the facts go by the same list: matched
/// against a constant array, which PostgreSQL hashes, where a join with the deleted rows was
/// planned as a nested loop over the fact partition. The number of trips and of facts removed.
/// Row hashes differ between datasets (their encodings begin with the dataset's byte), so the
/// list finds only this dataset's facts in the month's fact partition, which all datasets share.
pub fn remove(d: &Dataset) -> String {
    format!(
        "\
WITH gone AS (
  DELETE FROM {table}
   WHERE {pickup} >= COALESCE($3::pg_catalog.timestamp, '-infinity')
     AND {pickup} < COALESCE($4::pg_catalog.timestamp, 'infinity')
     AND row_hash = ANY ($1::pg_catalog.bytea[]) AND load_id = ANY ($2::pg_catalog.int8[])
  RETURNING 1),
facts AS (
  DELETE FROM taxi.fact_trips
   WHERE pickup_datetime >= COALESCE($3::pg_catalog.timestamp, '-infinity')
     AND pickup_datetime < COALESCE($4::pg_catalog.timestamp, 'infinity')
     AND row_hash = ANY ($1::pg_catalog.bytea[])
  RETURNING 1)
SELECT (SELECT pg_catalog.count(*) FROM gone), (SELECT pg_catalog.count(*) FROM facts)",
        table = d.qualified(),
        pickup = d.pickup_column()
    )
}

/// The row hashes of runs $1's trips with a pickup in [$2, $3) (NULL: unbounded; one
/// partition's bounds): what a replacement reads of a distributed table, whose partitions' heaps
/// on the coordinator are empty (the heap is read directly otherwise).
pub fn hashes_of_loads(d: &Dataset) -> String {
    format!(
        "{}\n  AND load_id = ANY ($1::pg_catalog.int8[])",
        super::hashes_in_month(d, 2)
    )
}

/// Run $1 supersedes runs $2, which were current; their rejected rows leave the quarantine
/// with them (the new run recorded its own file's). The number of rejected rows removed.
pub const SUPERSEDE: &str = "\
WITH s AS (
  UPDATE taxi.load_runs SET superseded_by = $1::pg_catalog.int8
   WHERE load_id OPERATOR(pg_catalog.=) ANY ($2::pg_catalog.int8[]) AND superseded_by IS NULL
  RETURNING load_id),
r AS (
  DELETE FROM taxi.rejected_rows
   WHERE load_id OPERATOR(pg_catalog.=) ANY (SELECT load_id FROM s)
  RETURNING 1)
SELECT pg_catalog.count(*) FROM r";
