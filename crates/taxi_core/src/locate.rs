//! Zones computed from coordinates (yellow 2009–2010), on the loader's pool: a row whose zone
//! is NULL and whose point is known gets the TLC zone holding it (`taxi_zones`), 264 when none
//! does. A row without a point keeps a NULL zone; a zone the file has is kept.

use rayon::prelude::*;

use crate::trip::{TripBatch, Values};

/// Fills the zones of `batch` from its coordinates. Call it inside the loader's pool.
pub fn fill_zones(batch: &mut TripBatch) {
    let Some(l) = batch.dataset.located else {
        return;
    };
    for (zone, [lon, lat]) in [(l.zones[0], l.pickup), (l.zones[1], l.dropoff)] {
        let (Values::Float(x), Values::Float(y)) = (&batch.columns[lon], &batch.columns[lat])
        else {
            continue;
        };
        // Files of 2011 on have no coordinates: nothing to do.
        if x.iter().all(Option::is_none) {
            continue;
        }
        let grid = taxi_zones::shipped();
        let Values::Int(known) = &batch.columns[zone] else {
            continue;
        };
        let filled: Vec<Option<i16>> = (0..known.len())
            .into_par_iter()
            .with_min_len(4096)
            .map(|i| match (known[i], x[i], y[i]) {
                (Some(z), _, _) => Some(z),
                (None, Some(a), Some(b)) => Some(grid.zone(a, b)),
                _ => None,
            })
            .collect();
        batch.columns[zone] = Values::Int(filled);
    }
}
