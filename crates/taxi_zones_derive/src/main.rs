//! `taxi_zones_derive <taxi_zones.zip> <out.bin>`: see the library.

use taxi_zones::file::encode;
use taxi_zones_derive::derive;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: taxi_zones_derive <taxi_zones.zip> <out.bin>");
        std::process::exit(2);
    }
    let records = derive(&args[1]).unwrap_or_else(|e| {
        eprintln!("taxi_zones_derive: {e}");
        std::process::exit(1);
    });
    let points: usize = records
        .iter()
        .flat_map(|r| &r.rings)
        .map(|r| r.points.len())
        .sum();
    std::fs::write(&args[2], encode(&records)).unwrap_or_else(|e| {
        eprintln!("taxi_zones_derive: {}: {e}", args[2]);
        std::process::exit(1);
    });
    eprintln!(
        "taxi_zones_derive: {} records, {} points -> {}",
        records.len(),
        points,
        args[2]
    );
}
