//! SQL text for the monthly partitions every partitioned table shares (sql/partitions.sql holds
//! the functions these call). Run as the extension's owner by the extension crate; parents are
//! passed as `$1::regclass` text (a dataset's table, or [`FACTS`]), partitions as oids, months
//! as dates.

/// The fact table, as a `$1::regclass` argument.
pub const FACTS: &str = "taxi.fact_trips";

/// The partitions of $1 named in $2 (tables of schema taxi), attached: name, oid, the planner's estimate of their rows
/// (-1: never analysed), and whether rows may go straight into their heaps (a plain table, no
/// triggers, no row security).
pub const PARTITIONS: &str = "\
SELECT c.relname::pg_catalog.text, c.oid::pg_catalog.int8, c.reltuples::pg_catalog.float8,
       c.relkind = 'r' AND NOT c.relhastriggers AND NOT c.relrowsecurity
FROM pg_catalog.pg_inherits i JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = $1::pg_catalog.regclass
  AND c.relnamespace = 'taxi'::pg_catalog.regnamespace AND c.relname = ANY ($2::pg_catalog.text[])";

/// A standalone table for the partition of month $2 of $1 (not attached): its oid.
pub const CREATE_TABLE: &str = "SELECT taxi.create_partition_table($1::pg_catalog.regclass, \
                                $2::pg_catalog.date)::pg_catalog.oid::pg_catalog.int8";

/// Attaches table $2 as the partition of month $3 of $1.
pub const ATTACH: &str = "SELECT taxi.attach_partition($1::pg_catalog.regclass, \
                          $2::pg_catalog.regclass, $3::pg_catalog.date)";

/// Rebuilds the indexes of partition (or standalone table) $1.
pub const REINDEX: &str = "SELECT taxi.reindex_partition($1::pg_catalog.regclass)";

/// Drops standalone table $1 (a load left it empty).
pub const DROP_TABLE: &str = "SELECT taxi.drop_partition_table($1::pg_catalog.regclass)";

/// Creates the missing partitions of months $2 of $1, empty and attached.
pub const ENSURE: &str =
    "SELECT taxi.ensure_partitions($1::pg_catalog.regclass, $2::pg_catalog.date[])";

/// A month's lock ($1 [`crate::partition::MONTH_LOCK_CLASS`], $2 the month's key), held until
/// the transaction ends: exclusive for loads that may write the month's heap directly or create
/// its partition, shared for those that insert through SQL.
pub const LOCK_MONTH: &str = "SELECT pg_catalog.pg_advisory_xact_lock($1, $2)";
pub const LOCK_MONTH_SHARED: &str = "SELECT pg_catalog.pg_advisory_xact_lock_shared($1, $2)";
