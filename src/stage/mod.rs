//! Stage: a chunk of hashed trips goes into the session's staging table in one SPI execution,
//! every column bound as an array parameter.

pub mod sql;

use pgrx::datum::{DatumWithOid, Timestamp};
use pgrx::spi::SpiClient;

use crate::hash::RowHash;
use crate::trip::{TripBatch, Values};

/// Microseconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const UNIX_TO_PG_EPOCH_US: i64 = 946_684_800_000_000;

/// Creates the staging table. A failed earlier load in the same transaction cannot have left one:
/// its error rolled back the (sub)transaction that created it.
pub fn create(client: &mut SpiClient<'_>) {
    client
        .update(sql::create_stage().as_str(), None, &[])
        .expect("create staging table");
}

pub fn drop(client: &mut SpiClient<'_>) {
    client
        .update(sql::drop_stage().as_str(), None, &[])
        .expect("drop staging table");
}

/// Writes `batch` with its `hashes` into the staging table.
pub fn fill(client: &mut SpiClient<'_>, batch: &TripBatch, hashes: &[RowHash]) {
    let mut args: Vec<DatumWithOid> = Vec::with_capacity(batch.columns.len() + 1);
    args.push(hashes.iter().map(|h| &h[..]).collect::<Vec<&[u8]>>().into());
    for values in &batch.columns {
        args.push(match values {
            Values::Int(v) => v.as_slice().into(),
            Values::Timestamp(v) => v
                .iter()
                .map(|t| t.map(pg_timestamp))
                .collect::<Vec<Option<Timestamp>>>()
                .into(),
            Values::Float(v) => v.as_slice().into(),
            Values::Money(v) => v.as_slice().into(),
            Values::Text(v) => v
                .iter()
                .map(|s| s.as_deref())
                .collect::<Vec<Option<&str>>>()
                .into(),
        });
    }
    client
        .update(sql::fill_stage().as_str(), None, &args)
        .expect("staging insert");
}

pub fn clear(client: &mut SpiClient<'_>) {
    client
        .update(sql::truncate_stage().as_str(), None, &[])
        .expect("staging truncate");
}

fn pg_timestamp(unix_us: i64) -> Timestamp {
    // The converter has already refused values outside PostgreSQL's range.
    Timestamp::try_from(unix_us - UNIX_TO_PG_EPOCH_US).expect("timestamp in range")
}
