//! SQL text of the staging step. pgrx-free: built here, executed by `stage::mod` with bound
//! parameters only.

use crate::trip::{Kind, COLUMNS};

/// The call's staging table: created at the start of a load and dropped at its end (ON COMMIT
/// DROP is only the safety net), so it always belongs to the role that runs the load.
pub const STAGE_TABLE: &str = "pg_temp.taxi_load_stage";

/// Staging holds amounts as whole cents (`bigint`): the merge turns them into numeric(12,2).
fn stage_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Int => "smallint",
        Kind::Timestamp => "timestamp",
        Kind::Float => "double precision",
        Kind::Money => "bigint",
        Kind::Text => "text",
    }
}

pub fn create_stage() -> String {
    let columns: Vec<String> = COLUMNS
        .iter()
        .map(|c| format!("{} {}", c.name, stage_type(c.kind)))
        .collect();
    format!(
        "CREATE TEMP TABLE taxi_load_stage (row_hash bytea, {}) ON COMMIT DROP",
        columns.join(", ")
    )
}

pub fn drop_stage() -> String {
    format!("DROP TABLE {STAGE_TABLE}")
}

pub fn truncate_stage() -> String {
    format!("TRUNCATE {STAGE_TABLE}")
}

/// One INSERT per chunk: parameter 1 is the array of row hashes, parameters 2.. one array per
/// column in [`COLUMNS`] order.
pub fn fill_stage() -> String {
    // ROWS FROM: the multi-array unnest(a, b, …) shorthand cannot be schema-qualified.
    let arrays: Vec<String> = std::iter::once("pg_catalog.unnest($1::bytea[])".to_string())
        .chain(
            COLUMNS
                .iter()
                .enumerate()
                .map(|(i, c)| format!("pg_catalog.unnest(${}::{}[])", i + 2, stage_type(c.kind))),
        )
        .collect();
    format!(
        "INSERT INTO {STAGE_TABLE} SELECT * FROM ROWS FROM ({})",
        arrays.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_binds_one_array_per_column() {
        let sql = fill_stage();
        assert!(
            sql.starts_with(
                "INSERT INTO pg_temp.taxi_load_stage SELECT * FROM ROWS FROM (pg_catalog.unnest($1::bytea[]), pg_catalog.unnest($2::smallint[]), pg_catalog.unnest($3::timestamp[])"
            ),
            "{sql}"
        );
        assert!(sql.ends_with("pg_catalog.unnest($21::bigint[]))"), "{sql}");
        assert!(create_stage().contains("fare_amount bigint"));
    }
}
