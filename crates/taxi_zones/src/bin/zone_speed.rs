//! How fast the shipped zone grid answers, on one thread: `zone_speed [POINTS]` (default 20M).
//! Points as 2009–2010 trips have them: 70% in Manhattan's box (small zones, many edges), 20%
//! over the city, 5% at 0,0 and 5% in New Jersey. Prints one JSON line for scripts/bench.

use std::hint::black_box;
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20_000_000);
    let started = Instant::now();
    let grid = taxi_zones::shipped();
    let build_s = started.elapsed().as_secs_f64();
    let mut s = 0x2545_F491_4F6C_DD1Du64;
    let mut unit = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let points: Vec<(f64, f64)> = (0..n)
        .map(|_| match (unit() * 100.0) as u32 {
            0..=69 => (-74.02 + 0.09 * unit(), 40.70 + 0.12 * unit()),
            70..=89 => (-74.05 + 0.35 * unit(), 40.57 + 0.30 * unit()),
            90..=94 => (0.0, 0.0),
            _ => (-74.20 + 0.10 * unit(), 40.60 + 0.20 * unit()),
        })
        .collect();
    let started = Instant::now();
    let mut unknown = 0usize;
    for &(x, y) in &points {
        unknown += usize::from(black_box(grid.zone(x, y)) == taxi_zones::UNKNOWN_ZONE);
    }
    let lookup_s = started.elapsed().as_secs_f64();
    let (cells, edges, bytes) = grid.size();
    println!(
        "{{\"points\": {n}, \"seconds\": {lookup_s:.3}, \"points_per_second\": {:.0}, \"unknown\": {unknown}, \"build_seconds\": {build_s:.3}, \"cells\": {cells}, \"edges\": {edges}, \"grid_bytes\": {bytes}}}",
        n as f64 / lookup_s
    );
}
