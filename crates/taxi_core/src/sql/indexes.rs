//! SQL text of the bulk-load helpers. pgrx-free. The DROP and CREATE statements are written by
//! PostgreSQL itself (`pg_get_indexdef`, `pg_get_constraintdef`, `format('%I')`, `regclass`).

/// The indexes of $1 (unique ones only if $2), with the statements that drop and rebuild each.
pub const LIST_INDEXES: &str = "\
SELECT i.indexrelid::pg_catalog.regclass::pg_catalog.text AS index_name,
       c.conname::pg_catalog.text AS constraint_name,
       CASE WHEN c.oid IS NULL
            THEN pg_catalog.format('DROP INDEX %s', i.indexrelid::pg_catalog.regclass)
            ELSE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', i.indrelid::pg_catalog.regclass, c.conname)
       END AS drop_sql,
       CASE WHEN c.oid IS NULL
            THEN pg_catalog.pg_get_indexdef(i.indexrelid)
            ELSE pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s', i.indrelid::pg_catalog.regclass,
                                   c.conname, pg_catalog.pg_get_constraintdef(c.oid))
       END AS create_sql
FROM pg_catalog.pg_index i
LEFT JOIN pg_catalog.pg_constraint c ON c.conindid = i.indexrelid AND c.conrelid = i.indrelid
WHERE i.indrelid = $1 AND ($2 OR NOT i.indisunique)
ORDER BY i.indexrelid";

pub const SAVE: &str = "INSERT INTO taxi.bulk_saved_index (target, index_name, constraint_name, definition) VALUES ($1, $2, $3, $4)";

/// Constraints (the primary key) first: they are what other writers' conflict checks rely on.
pub const SAVED: &str = "SELECT index_name, definition FROM taxi.bulk_saved_index WHERE target = $1 ORDER BY constraint_name IS NULL, index_name";

pub const FORGET: &str = "DELETE FROM taxi.bulk_saved_index WHERE target = $1";

pub const CURRENT_MAINTENANCE_WORK_MEM_KB: &str =
    "SELECT setting::pg_catalog.int8 FROM pg_catalog.pg_settings WHERE name = 'maintenance_work_mem'";

pub const SET_MAINTENANCE_WORK_MEM: &str =
    "SELECT pg_catalog.set_config('maintenance_work_mem', $1, true)";
