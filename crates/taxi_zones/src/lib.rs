//! The TLC taxi zone of a longitude/latitude, for trips of 2009–2010, whose files have
//! coordinates instead of zone IDs.
//!
//! The zones are the TLC's own polygons (`taxi_zones.zip`), projected once from NAD83 / New York
//! Long Island feet (EPSG:2263) to longitude/latitude by `scripts/derive-zones` and shipped as
//! `data/taxi_zones.bin` ([`file`]). A lookup must cost well under 200 ns (the load's budget
//! is 5 million points per second per core), and a zone's polygon has up to a few thousand
//! vertices, so testing whole polygons (1–3 µs a point) is out. [`ZoneGrid`] is a uniform grid
//! over the city instead: each cell lists the polygon edges that touch it and knows which zones
//! hold its centre; a point's zones are the centre's, toggled by every edge the segment from the
//! point to the centre crosses. A cell no edge touches (most of the city) answers at once. A grid
//! rather than an R-tree: the points are dense and the cells tiny, so the cell is one
//! multiplication away and its edge list a few entries long, where an R-tree would walk a tree
//! and still test whole polygons. Exactness comes from robust orientation predicates (`robust`,
//! the predicates `geo` uses), and the tests compare it with `geo`'s `Contains`.

pub mod file;
mod grid;

pub use file::{Record, Ring};
pub use grid::ZoneGrid;

/// What the TLC's files code an unknown zone as: a point in no zone (0,0, the rivers, New
/// Jersey) and a missing coordinate get it too.
pub const UNKNOWN_ZONE: i16 = 264;

/// The shipped zones, derived from the TLC's shapefile by `scripts/derive-zones`.
pub static SHIPPED: &[u8] = include_bytes!("../data/taxi_zones.bin");

/// The grid of the shipped zones, built on first use (about 50 ms) and kept for the process.
pub fn shipped() -> &'static ZoneGrid {
    static GRID: std::sync::OnceLock<ZoneGrid> = std::sync::OnceLock::new();
    GRID.get_or_init(|| {
        let records = file::decode(SHIPPED).expect("the shipped zone file is valid");
        ZoneGrid::new(&records, grid::CELL_DEGREES)
    })
}
