//! Derives `crates/taxi_zones/data/taxi_zones.bin` from the TLC's taxi-zone shapefile
//! (`crates/taxi_zones/data/taxi_zones.zip`, a copy of the TLC's `taxi_zones.zip`): reads
//! `taxi_zones.shp`/`.dbf` from the zip, projects every vertex from NAD83 / New York Long Island,
//! US feet (EPSG:2263, the shapefile's `.prj`) to longitude/latitude with `proj4rs`, and keeps the
//! records in the shapefile's order. Deterministic: a test derives it again and compares it with
//! the shipped file. `scripts/derive-zones` runs the binary.

use std::io::{Cursor, Read};

use proj4rs::proj::Proj;
use taxi_zones::file::{Record, Ring};

/// EPSG:2263 as PROJ.4 parameters, as the `.prj` gives them (false easting 984,250 US feet =
/// 300,000 m). NAD83 is taken as WGS84 (`towgs84=0`): they differ by about a metre here, less
/// than a taxi meter's GPS error.
const EPSG_2263: &str = "+proj=lcc +lat_1=41.03333333333333 +lat_2=40.66666666666666 \
    +lat_0=40.16666666666666 +lon_0=-74 +x_0=300000 +y_0=0 +ellps=GRS80 \
    +towgs84=0,0,0,0,0,0,0 +units=us-ft +no_defs";
const WGS84: &str = "+proj=longlat +datum=WGS84 +no_defs";

fn member(zip: &mut zip::ZipArchive<std::fs::File>, suffix: &str) -> Result<Vec<u8>, String> {
    let name = zip
        .file_names()
        .find(|n| n.ends_with(suffix) && !n.contains("__MACOSX"))
        .ok_or(format!("no {suffix} in the zip"))?
        .to_string();
    let mut out = Vec::new();
    zip.by_name(&name)
        .map_err(|e| e.to_string())?
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Every record of the shapefile in the zip at `zip_path`, in longitude/latitude.
pub fn derive(zip_path: &str) -> Result<Vec<Record>, String> {
    let file = std::fs::File::open(zip_path).map_err(|e| format!("{zip_path}: {e}"))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| e.to_string())?;
    let shp = member(&mut zip, "taxi_zones.shp")?;
    let dbf = member(&mut zip, "taxi_zones.dbf")?;
    let shapes = shapefile::ShapeReader::new(Cursor::new(shp)).map_err(|e| e.to_string())?;
    let table = shapefile::dbase::Reader::new(Cursor::new(dbf)).map_err(|e| e.to_string())?;
    let mut reader = shapefile::Reader::new(shapes, table);
    let from = Proj::from_proj_string(EPSG_2263).map_err(|e| e.to_string())?;
    let to = Proj::from_proj_string(WGS84).map_err(|e| e.to_string())?;
    let mut records = Vec::new();
    for item in reader.iter_shapes_and_records_as::<shapefile::Polygon, shapefile::dbase::Record>()
    {
        let (polygon, record) = item.map_err(|e| e.to_string())?;
        let location_id = match record.get("LocationID") {
            Some(shapefile::dbase::FieldValue::Numeric(Some(v))) => *v as i16,
            Some(shapefile::dbase::FieldValue::Integer(v)) => *v as i16,
            other => return Err(format!("a record without a LocationID: {other:?}")),
        };
        let mut rings = Vec::new();
        for ring in polygon.rings() {
            let outer = matches!(ring, shapefile::PolygonRing::Outer(_));
            let mut points = Vec::with_capacity(ring.points().len());
            for p in ring.points() {
                let mut xy = (p.x, p.y, 0.0);
                proj4rs::transform::transform(&from, &to, &mut xy).map_err(|e| e.to_string())?;
                points.push((xy.0.to_degrees(), xy.1.to_degrees()));
            }
            rings.push(Ring { outer, points });
        }
        records.push(Record { location_id, rings });
    }
    Ok(records)
}
