//! The shipped zone file is what the shapefile gives: derived again here and compared byte for
//! byte, so the two cannot drift apart.

#[test]
fn the_shipped_zone_file_is_derived_from_the_shapefile() {
    let zip = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../taxi_zones/data/taxi_zones.zip"
    );
    let records = taxi_zones_derive::derive(zip).unwrap();
    assert_eq!(records.len(), 263);
    assert!(
        taxi_zones::file::encode(&records) == taxi_zones::SHIPPED,
        "crates/taxi_zones/data/taxi_zones.bin is stale: run scripts/derive-zones"
    );
    // A vertex of Newark Airport (zone 1), projected: within New Jersey's longitudes.
    let ewr = records.iter().find(|r| r.location_id == 1).unwrap();
    let (lon, lat) = ewr.rings[0].points[0];
    assert!(
        (-74.25..-74.10).contains(&lon) && (40.64..40.72).contains(&lat),
        "{lon},{lat}"
    );
}
