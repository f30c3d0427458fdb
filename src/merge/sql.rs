//! SQL text of the merge step. pgrx-free.

use crate::stage::sql::STAGE_TABLE;
use crate::trip::{Kind, COLUMNS};

pub const TARGET_TABLE: &str = "taxi.yellow_taxi_trips";

/// Moves the staged chunk into the trips table; a trip already there (same row_hash) is skipped.
/// Parameter 1 is the load_id. Cents become numeric(12,2) here, exactly (× 0.01).
pub fn merge() -> String {
    let names: Vec<&str> = COLUMNS.iter().map(|c| c.name).collect();
    let values: Vec<String> = COLUMNS
        .iter()
        .map(|c| match c.kind {
            Kind::Money => format!("{} * 0.01", c.name),
            _ => c.name.to_string(),
        })
        .collect();
    format!(
        "INSERT INTO {TARGET_TABLE} (row_hash, load_id, {}) SELECT row_hash, $1, {} FROM {STAGE_TABLE} ON CONFLICT (row_hash) DO NOTHING",
        names.join(", "),
        values.join(", ")
    )
}

pub const NEXT_LOAD_ID: &str = "SELECT pg_catalog.nextval('taxi.load_id_seq')";

pub const ENSURE_DROP_GUARD: &str = "SELECT taxi.ensure_drop_guard()";

#[cfg(test)]
mod tests {
    #[test]
    fn merge_converts_cents_and_skips_conflicts() {
        let sql = super::merge();
        assert!(sql.contains("fare_amount * 0.01"));
        assert!(sql.contains(", vendorid, tpep_pickup_datetime,"));
        assert!(sql.ends_with("FROM pg_temp.taxi_load_stage ON CONFLICT (row_hash) DO NOTHING"));
    }
}
