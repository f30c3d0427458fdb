//! SQL text of the shard-local write path on Citus (`load::shards` runs it on the coordinator,
//! `load::shard_writer` on the workers): the workers read the file themselves and write their own
//! shards of a load's new months straight into the shards' heaps, as a single node writes a new
//! month. Identifiers come from `to_regclass`/`format('%I')` inside PostgreSQL.

/// Whether the shard-local path can run at all: `taxi.shard_keys` is distributed and holds a key
/// in each of its shards (`taxi_distribute` fills it), so a query over it reaches every worker.
pub const KEYS_COVER_SHARDS: &str = "SELECT taxi.distributed('taxi.shard_keys')
   AND (SELECT pg_catalog.count(DISTINCT pg_catalog.get_shard_id_for_distribution_column(
                 'taxi.shard_keys', k.row_hash)) FROM taxi.shard_keys k)
     = (SELECT pg_catalog.count(*) FROM pg_catalog.pg_dist_shard
        WHERE logicalrelid = 'taxi.shard_keys'::pg_catalog.regclass)";

/// Puts this transaction's Citus work on one connection per node: the shards a load creates (DDL
/// on the workers) are then visible to the worker function of the same transaction, and it runs
/// once per node. `set_config(…, true)`: until the transaction ends.
pub const SEQUENTIAL: &str =
    "SELECT pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true)";

/// Whether every worker reads file $1 with the size $2 the coordinator sees, and how many shards
/// answered (one key per shard).
pub const WORKERS_CAN_READ: &str =
    "SELECT pg_catalog.bool_and(taxi.shard_can_read(row_hash, $1, $2)),
       pg_catalog.count(*)
FROM taxi.shard_keys";

/// The shards of trip partition $1 (a name in schema taxi) in hash order, each with the
/// co-located shard of fact partition $2 (NULL: none): the hash range, the shards' qualified
/// table names (a shard table exists only on the node that holds it).
pub const SHARDS_OF_MONTH: &str =
    "SELECT t.shardminvalue::pg_catalog.int4, t.shardmaxvalue::pg_catalog.int4,
       pg_catalog.format('taxi.%I', $1 || '_' || t.shardid),
       pg_catalog.format('taxi.%I', $2 || '_' || f.shardid)
FROM pg_catalog.pg_dist_shard t
LEFT JOIN pg_catalog.pg_dist_shard f
  ON f.logicalrelid = pg_catalog.to_regclass(pg_catalog.format('taxi.%I', $2))
 AND f.shardminvalue = t.shardminvalue
WHERE t.logicalrelid = pg_catalog.to_regclass(pg_catalog.format('taxi.%I', $1))
ORDER BY t.shardminvalue::pg_catalog.int4";

/// The worker function over every shard key: each node writes its shards on the first call it
/// gets for the load, and answers how many trips it wrote (0 on its other calls). $1 path,
/// $2 dataset, $3 load_id, $4 chunk_size, $5 star, $6 months (partition keys), $7 trip shards,
/// $8 fact shards, $9 and $10 the hash ranges: $6..$10 aligned, one element per month and shard.
pub const WRITE: &str = "SELECT taxi.shard_write(row_hash, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
FROM taxi.shard_keys";

/// On a worker: the oid of a shard table if it is on this node.
pub const LOCAL_TABLE: &str = "SELECT pg_catalog.to_regclass($1)::pg_catalog.oid::pg_catalog.int8";

/// On a worker: Citus' own hash of a row hash, to check the one the writer computes.
pub const CITUS_HASH: &str = "SELECT pg_catalog.worker_hash($1::pg_catalog.bytea)";

/// On a worker, around reading the dimensions (reference tables) from inside a shard's task,
/// which Citus refuses by default: their copy on this node is read, which is exact.
pub const ALLOW_NESTED: &str =
    "SELECT pg_catalog.set_config('citus.allow_nested_distributed_execution', $1, true)";

/// Whether rows may go straight into the shards of trips table $1 and (unless NULL) fact table $2:
/// in every table of both trees, no trigger but Citus' own (internal: its truncate trigger), no
/// row security, no foreign key, no column the loader does not fill ($3 the trips', $4 the
/// facts'), and on the facts no constraint but NOT NULL, as on a single node's direct path.
pub const PLAIN: &str = "SELECT pg_catalog.bool_and(
         NOT c.relrowsecurity
         AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger g
                         WHERE g.tgrelid = c.oid AND NOT g.tgisinternal)
         AND NOT EXISTS (SELECT FROM pg_catalog.pg_constraint k
                         WHERE k.conrelid = c.oid
                           AND (k.contype = 'f' OR (t.facts AND k.contype <> 'n')))
         AND NOT EXISTS (SELECT FROM pg_catalog.pg_attribute a
                         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                           AND a.attname <> ALL (CASE WHEN t.facts THEN $4::pg_catalog.text[]
                                                      ELSE $3::pg_catalog.text[] END)))
FROM (SELECT relid, false AS facts FROM pg_catalog.pg_partition_tree($1::pg_catalog.regclass)
      UNION ALL
      SELECT relid, true FROM pg_catalog.pg_partition_tree($2::pg_catalog.regclass)) t
JOIN pg_catalog.pg_class c ON c.oid = t.relid";
