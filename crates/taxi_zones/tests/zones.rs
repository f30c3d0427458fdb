//! The shipped zones against `geo`'s own point-in-polygon, on the TLC's polygons.

use geo::{BoundingRect, Contains, InteriorPoint, Point};
use taxi_zones::file::{decode, multipolygon};
use taxi_zones::{shipped, SHIPPED, UNKNOWN_ZONE};

fn zones() -> Vec<(i16, geo::MultiPolygon<f64>, geo::Rect<f64>)> {
    decode(SHIPPED)
        .unwrap()
        .iter()
        .map(|r| {
            let mp = multipolygon(r);
            let rect = mp.bounding_rect().unwrap();
            (r.location_id, mp, rect)
        })
        .collect()
}

/// The zone `geo` says holds the point (the lowest id where polygons overlap), or 264.
fn oracle(zones: &[(i16, geo::MultiPolygon<f64>, geo::Rect<f64>)], p: Point<f64>) -> i16 {
    zones
        .iter()
        .filter(|(_, _, r)| r.contains(&p))
        .filter(|(_, mp, _)| mp.contains(&p))
        .map(|(id, _, _)| *id)
        .min()
        .unwrap_or(UNKNOWN_ZONE)
}

#[test]
fn the_shipped_file_holds_every_record_of_the_shapefile() {
    let records = decode(SHIPPED).unwrap();
    assert_eq!(records.len(), 263);
    let mut ids: Vec<i16> = records.iter().map(|r| r.location_id).collect();
    ids.sort_unstable();
    ids.dedup();
    // 263 records, 260 zones: the shapefile gives records 57, 104 and 105 the LocationIDs 56 and
    // 103 (the same names in the TLC's lookup table).
    assert_eq!(ids.len(), 260);
    assert_eq!((ids[0], ids[ids.len() - 1]), (1, 263));
    for missing in [57, 104, 105] {
        assert!(!ids.contains(&missing));
    }
    let points: usize = records
        .iter()
        .flat_map(|r| &r.rings)
        .map(|r| r.points.len())
        .sum();
    assert_eq!(points, 98_192);
}

/// For every polygon of every zone, a point inside it (computed from the polygon itself) gets
/// that zone.
#[test]
fn a_point_inside_each_polygon_gets_its_zone() {
    let zones = zones();
    let grid = shipped();
    let mut checked = 0;
    for (id, mp, _) in &zones {
        for polygon in &mp.0 {
            let p = polygon.interior_point().unwrap();
            assert!(polygon.contains(&p));
            assert_eq!(
                grid.zone(p.x(), p.y()),
                oracle(&zones, p),
                "zone {id} at {p:?}"
            );
            if oracle(&zones, p) == *id {
                checked += 1;
            }
        }
    }
    // Every polygon but those another zone's overlaps at that point.
    assert!(checked >= 340, "{checked}");
}

/// 0,0, the rivers, New Jersey and far away get 264; so does a point that is not a number.
#[test]
fn points_in_no_zone_get_264() {
    let zones = zones();
    let grid = shipped();
    for (lon, lat) in [
        (0.0, 0.0),
        (-74.0415, 40.7400), // Hoboken, New Jersey
        (-74.0800, 40.7200), // Jersey City
        (-74.0130, 40.7600), // the Hudson
        (-73.5, 40.5),       // the Atlantic
        (-118.24, 34.05),    // Los Angeles
        (f64::NAN, 40.75),
    ] {
        assert_eq!(grid.zone(lon, lat), UNKNOWN_ZONE, "{lon},{lat}");
        if !lon.is_nan() {
            assert_eq!(oracle(&zones, Point::new(lon, lat)), UNKNOWN_ZONE);
        }
    }
    // A few known places.
    assert_eq!(grid.zone(-73.9857, 40.7484), 164); // the Empire State Building: Midtown South
    assert_eq!(grid.zone(-73.7781, 40.6413), 132); // JFK Airport
}

/// 300,000 points spread over the city (and around it), each compared with `geo`.
#[test]
fn random_points_agree_with_geo() {
    let zones = zones();
    let grid = shipped();
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut inside = 0;
    for _ in 0..300_000 {
        let p = Point::new(-74.28 + 0.60 * next(), 40.48 + 0.45 * next());
        let want = oracle(&zones, p);
        assert_eq!(grid.zone(p.x(), p.y()), want, "{p:?}");
        inside += usize::from(want != UNKNOWN_ZONE);
    }
    assert!(inside > 80_000, "{inside}");
}
