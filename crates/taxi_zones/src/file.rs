//! The compact zone file: every record of the TLC's shapefile, its rings in longitude/latitude.
//!
//! Little-endian: the magic `TLCZONES`, a u32 format version (1), a u32 record count; per record
//! the zone's `LocationID` (u16) and its ring count (u32); per ring 1 for an outer ring or 0 for
//! a hole (u8), the point count (u32), then each point as longitude and latitude in units of
//! 1e-7 degree (i32 each: about 1 cm, far below a GPS fix's error). Some zones are several
//! records (islands).

const MAGIC: &[u8; 8] = b"TLCZONES";
const VERSION: u32 = 1;
/// Degrees per stored unit.
pub const UNIT: f64 = 1e-7;

#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub location_id: i16,
    pub rings: Vec<Ring>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ring {
    /// An outer ring (false: a hole of the outer ring before it).
    pub outer: bool,
    /// (longitude, latitude) in degrees, as stored (multiples of [`UNIT`]); closed or not.
    pub points: Vec<(f64, f64)>,
}

/// Rounds a coordinate to what the file stores.
pub fn to_unit(degrees: f64) -> i32 {
    (degrees / UNIT).round() as i32
}

pub fn encode(records: &[Record]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&(records.len() as u32).to_le_bytes());
    for r in records {
        out.extend_from_slice(&(r.location_id as u16).to_le_bytes());
        out.extend_from_slice(&(r.rings.len() as u32).to_le_bytes());
        for ring in &r.rings {
            out.push(u8::from(ring.outer));
            out.extend_from_slice(&(ring.points.len() as u32).to_le_bytes());
            for &(x, y) in &ring.points {
                out.extend_from_slice(&to_unit(x).to_le_bytes());
                out.extend_from_slice(&to_unit(y).to_le_bytes());
            }
        }
    }
    out
}

/// Why a zone file cannot be read.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed(pub &'static str);

pub fn decode(bytes: &[u8]) -> Result<Vec<Record>, Malformed> {
    let mut r = Cursor { bytes, at: 0 };
    if r.take(8)? != MAGIC {
        return Err(Malformed("not a zone file"));
    }
    if r.u32()? != VERSION {
        return Err(Malformed("unknown zone file version"));
    }
    let n = r.u32()? as usize;
    let mut records = Vec::with_capacity(n.min(10_000));
    for _ in 0..n {
        let location_id = i16::try_from(r.u16()?).map_err(|_| Malformed("zone id"))?;
        let rings = r.u32()? as usize;
        let mut out = Vec::with_capacity(rings.min(10_000));
        for _ in 0..rings {
            let outer = r.take(1)?[0] == 1;
            let points = r.u32()? as usize;
            let raw = r.take(points.checked_mul(8).ok_or(Malformed("ring size"))?)?;
            let points = raw
                .chunks_exact(8)
                .map(|p| {
                    let x = i32::from_le_bytes(p[..4].try_into().unwrap());
                    let y = i32::from_le_bytes(p[4..].try_into().unwrap());
                    (x as f64 * UNIT, y as f64 * UNIT)
                })
                .collect();
            out.push(Ring { outer, points });
        }
        records.push(Record {
            location_id,
            rings: out,
        });
    }
    if r.at != bytes.len() {
        return Err(Malformed("trailing bytes"));
    }
    Ok(records)
}

struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Malformed> {
        let end = self.at.checked_add(n).ok_or(Malformed("truncated"))?;
        let s = self.bytes.get(self.at..end).ok_or(Malformed("truncated"))?;
        self.at = end;
        Ok(s)
    }
    fn u16(&mut self) -> Result<u16, Malformed> {
        Ok(u16::from_le_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn u32(&mut self) -> Result<u32, Malformed> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
}

/// The records as `geo` multipolygons, one per record: each hole goes with the outer ring
/// before it, as shapefiles order them.
pub fn multipolygon(record: &Record) -> geo_types::MultiPolygon<f64> {
    let mut polygons: Vec<(geo_types::LineString<f64>, Vec<geo_types::LineString<f64>>)> =
        Vec::new();
    for ring in &record.rings {
        let line: geo_types::LineString<f64> = ring.points.clone().into();
        match (ring.outer, polygons.last_mut()) {
            (false, Some((_, holes))) => holes.push(line),
            _ => polygons.push((line, Vec::new())),
        }
    }
    geo_types::MultiPolygon(
        polygons
            .into_iter()
            .map(|(outer, holes)| geo_types::Polygon::new(outer, holes))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let records = vec![Record {
            location_id: 12,
            rings: vec![
                Ring {
                    outer: true,
                    points: vec![(-74.0, 40.7), (-73.9, 40.7), (-73.9, 40.8), (-74.0, 40.7)],
                },
                Ring {
                    outer: false,
                    points: vec![(-73.95, 40.72), (-73.94, 40.72), (-73.94, 40.73)],
                },
            ],
        }];
        let bytes = encode(&records);
        let back = decode(&bytes).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].location_id, 12);
        assert!(!back[0].rings[1].outer);
        assert!((back[0].rings[0].points[1].0 - -73.9).abs() < 1e-9);
        assert_eq!(encode(&back), bytes);
        assert_eq!(
            decode(&bytes[..bytes.len() - 1]),
            Err(Malformed("truncated"))
        );
        assert_eq!(
            decode(b"NOTZONES\x01\0\0\0\0\0\0\0"),
            Err(Malformed("not a zone file"))
        );
        let mp = multipolygon(&back[0]);
        assert_eq!((mp.0.len(), mp.0[0].interiors().len()), (1, 1));
    }
}
