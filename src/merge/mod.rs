//! Merge: staged rows into `taxi.yellow_taxi_trips`, `ON CONFLICT (row_hash) DO NOTHING`.

pub mod sql;

use pgrx::spi::SpiClient;

/// Inserts the staged chunk under `load_id`; returns how many rows were new.
pub fn run(client: &mut SpiClient<'_>, load_id: i64) -> u64 {
    let merged = client
        .update(sql::merge().as_str(), None, &[load_id.into()])
        .expect("merge");
    merged.len() as u64
}

/// Makes sure DROP EXTENSION cannot silently take loaded trips with it (see sql/schema.sql).
pub fn ensure_drop_guard(client: &mut SpiClient<'_>) {
    client
        .update(sql::ENSURE_DROP_GUARD, None, &[])
        .expect("drop guard");
}

pub fn next_load_id(client: &mut SpiClient<'_>) -> i64 {
    client
        .update(sql::NEXT_LOAD_ID, Some(1), &[])
        .and_then(|t| t.first().get_one::<i64>())
        .expect("nextval")
        .expect("nextval is never NULL")
}
