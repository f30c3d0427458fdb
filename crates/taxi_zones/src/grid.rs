//! The zone grid (see the crate's documentation for why a grid).

use robust::{orient2d, Coord};

use crate::file::Record;
use crate::UNKNOWN_ZONE;

/// Cell height in degrees of latitude (about 89 m); a cell is as wide in metres at New York's
/// latitude. Measured: smaller cells build slower and hold more memory for no faster lookups,
/// larger ones put more edges in each cell.
pub const CELL_DEGREES: f64 = 0.0008;
/// cos(40.7°): degrees of longitude per degree of latitude for the same distance.
const LON_STRETCH: f64 = 1.0 / 0.758;

#[derive(Debug, Clone, Copy)]
struct Edge {
    a: Coord<f64>,
    b: Coord<f64>,
    zone: i16,
}

/// The zones over a uniform grid: for each cell the edges touching it and the zones holding its
/// centre.
pub struct ZoneGrid {
    x0: f64,
    y0: f64,
    w: f64,
    h: f64,
    nx: usize,
    ny: usize,
    edges: Vec<Edge>,
    /// Cell `c`'s edges are `cell_edges[starts[c]..starts[c + 1]]`, in edge order.
    starts: Vec<u32>,
    cell_edges: Vec<u32>,
    /// The zones holding each cell's centre, as an index into `sets` (sorted, mostly 0 or 1).
    centres: Vec<u16>,
    sets: Vec<Vec<i16>>,
}

impl ZoneGrid {
    /// The grid of `records` with cells `cell` degrees of latitude high.
    pub fn new(records: &[Record], cell: f64) -> ZoneGrid {
        let mut edges = Vec::new();
        for r in records {
            for ring in &r.rings {
                let p = &ring.points;
                for k in 0..p.len() {
                    let (a, b) = (p[k], p[(k + 1) % p.len()]);
                    if a != b {
                        edges.push(Edge {
                            a: Coord { x: a.0, y: a.1 },
                            b: Coord { x: b.0, y: b.1 },
                            zone: r.location_id,
                        });
                    }
                }
            }
        }
        let (w, h) = (cell * LON_STRETCH, cell);
        let min = |f: fn(&Edge) -> f64| edges.iter().map(f).fold(f64::INFINITY, f64::min);
        let max = |f: fn(&Edge) -> f64| edges.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
        let (lo_x, hi_x) = (min(|e| e.a.x.min(e.b.x)), max(|e| e.a.x.max(e.b.x)));
        let (lo_y, hi_y) = (min(|e| e.a.y.min(e.b.y)), max(|e| e.a.y.max(e.b.y)));
        // A margin of two cells, so that column 0's centres lie outside every zone; the origin
        // is shifted by an odd fraction of a cell so that no centre falls on a round coordinate
        // (and so on a vertex) by accident.
        let x0 = lo_x - 2.0 * w - std::f64::consts::FRAC_1_PI * w;
        let y0 = lo_y - 2.0 * h - 0.271_828 * h;
        let nx = ((hi_x - x0) / w) as usize + 3;
        let ny = ((hi_y - y0) / h) as usize + 3;
        let mut grid = ZoneGrid {
            x0,
            y0,
            w,
            h,
            nx,
            ny,
            edges,
            starts: Vec::new(),
            cell_edges: Vec::new(),
            centres: vec![0; nx * ny],
            sets: vec![Vec::new()],
        };
        grid.index_edges();
        grid.classify_centres();
        grid
    }

    fn cell_range(&self, lo: f64, hi: f64, origin: f64, size: f64, n: usize) -> (usize, usize) {
        let first = (((lo - origin) / size).floor().max(0.0) as usize).min(n - 1);
        let last = (((hi - origin) / size).floor().max(0.0) as usize).min(n - 1);
        (first, last)
    }

    /// Every cell the bounding box of an edge overlaps lists the edge: a superset of the cells
    /// the edge crosses, which is all correctness needs (edges are short, so few extra).
    fn index_edges(&mut self) {
        let mut counts = vec![0u32; self.nx * self.ny + 1];
        let boxes: Vec<(usize, usize, usize, usize)> = self
            .edges
            .iter()
            .map(|e| {
                let (i0, i1) =
                    self.cell_range(e.a.x.min(e.b.x), e.a.x.max(e.b.x), self.x0, self.w, self.nx);
                let (j0, j1) =
                    self.cell_range(e.a.y.min(e.b.y), e.a.y.max(e.b.y), self.y0, self.h, self.ny);
                (i0, i1, j0, j1)
            })
            .collect();
        for &(i0, i1, j0, j1) in &boxes {
            for j in j0..=j1 {
                for i in i0..=i1 {
                    counts[j * self.nx + i + 1] += 1;
                }
            }
        }
        for c in 1..counts.len() {
            counts[c] += counts[c - 1];
        }
        let mut next = counts.clone();
        let mut cell_edges = vec![0u32; counts[counts.len() - 1] as usize];
        for (k, &(i0, i1, j0, j1)) in boxes.iter().enumerate() {
            for j in j0..=j1 {
                for i in i0..=i1 {
                    let c = j * self.nx + i;
                    cell_edges[next[c] as usize] = k as u32;
                    next[c] += 1;
                }
            }
        }
        self.starts = counts;
        self.cell_edges = cell_edges;
    }

    fn edges_of(&self, cell: usize) -> &[u32] {
        &self.cell_edges[self.starts[cell] as usize..self.starts[cell + 1] as usize]
    }

    fn centre(&self, i: usize, j: usize) -> Coord<f64> {
        Coord {
            x: self.x0 + (i as f64 + 0.5) * self.w,
            y: self.y0 + (j as f64 + 0.5) * self.h,
        }
    }

    /// Row by row from the margin, outside every zone: a centre's zones are its left
    /// neighbour's, toggled by each edge the segment between the two centres crosses. Such an
    /// edge touches one of the two cells, so their edge lists (merged, each edge once) hold it.
    fn classify_centres(&mut self) {
        let mut index = std::collections::HashMap::from([(Vec::new(), 0u16)]);
        for j in 0..self.ny {
            let mut inside: Vec<i16> = Vec::new();
            for i in 1..self.nx {
                let (p, q) = (self.centre(i - 1, j), self.centre(i, j));
                let (left, right) = (
                    self.edges_of(j * self.nx + i - 1),
                    self.edges_of(j * self.nx + i),
                );
                let (mut l, mut r) = (0, 0);
                while l < left.len() || r < right.len() {
                    let k = match (left.get(l), right.get(r)) {
                        (Some(&a), Some(&b)) if a == b => {
                            l += 1;
                            r += 1;
                            a
                        }
                        (Some(&a), Some(&b)) if a < b => {
                            l += 1;
                            a
                        }
                        (Some(&a), None) => {
                            l += 1;
                            a
                        }
                        (_, Some(&b)) => {
                            r += 1;
                            b
                        }
                        (None, None) => unreachable!(),
                    };
                    let e = self.edges[k as usize];
                    if crosses(p, q, &e) {
                        toggle(&mut inside, e.zone);
                    }
                }
                let mut set = inside.clone();
                set.sort_unstable();
                let next = index.len() as u16;
                let id = *index.entry(set).or_insert(next);
                self.centres[j * self.nx + i] = id;
            }
        }
        let mut sets = vec![Vec::new(); index.len()];
        for (set, id) in index {
            sets[id as usize] = set;
        }
        self.sets = sets;
    }

    /// The zone holding the point, [`UNKNOWN_ZONE`] when none does (or a coordinate is not a
    /// number). Where zones overlap (slivers of the TLC's polygons), the lowest `LocationID`.
    #[inline]
    pub fn zone(&self, lon: f64, lat: f64) -> i16 {
        let fx = (lon - self.x0) / self.w;
        let fy = (lat - self.y0) / self.h;
        // NaN fails both comparisons.
        if !(fx >= 0.0 && fy >= 0.0 && fx < self.nx as f64 && fy < self.ny as f64) {
            return UNKNOWN_ZONE;
        }
        let (i, j) = (fx as usize, fy as usize);
        let cell = j * self.nx + i;
        let set = &self.sets[self.centres[cell] as usize];
        let edges = self.edges_of(cell);
        if edges.is_empty() {
            return set.first().copied().unwrap_or(UNKNOWN_ZONE);
        }
        let p = Coord { x: lon, y: lat };
        let c = self.centre(i, j);
        // The zones a point can be in: a handful, kept on the stack.
        let mut inside = Small::default();
        for &z in set {
            inside.toggle(z);
        }
        for &k in edges {
            let e = &self.edges[k as usize];
            if crosses(p, c, e) {
                inside.toggle(e.zone);
            }
        }
        inside.lowest().unwrap_or(UNKNOWN_ZONE)
    }

    /// Cells, edges and the bytes the grid holds (for the docs and the benchmark).
    pub fn size(&self) -> (usize, usize, usize) {
        let bytes = self.starts.len() * 4
            + self.cell_edges.len() * 4
            + self.centres.len() * 2
            + self.edges.len() * std::mem::size_of::<Edge>();
        (self.nx * self.ny, self.edges.len(), bytes)
    }
}

/// A set of zones that spills to the heap past 8 (never seen in the TLC's zones).
#[derive(Default)]
struct Small {
    zones: [i16; 8],
    n: usize,
    more: Vec<i16>,
}

impl Small {
    fn toggle(&mut self, zone: i16) {
        if let Some(at) = self.zones[..self.n].iter().position(|&z| z == zone) {
            self.n -= 1;
            self.zones[at] = self.zones[self.n];
        } else if self.n < self.zones.len() && !self.more.contains(&zone) {
            self.zones[self.n] = zone;
            self.n += 1;
        } else {
            toggle(&mut self.more, zone);
        }
    }

    fn lowest(&self) -> Option<i16> {
        self.zones[..self.n].iter().chain(&self.more).copied().min()
    }
}

fn toggle(set: &mut Vec<i16>, zone: i16) {
    match set.iter().position(|&z| z == zone) {
        Some(at) => {
            set.swap_remove(at);
        }
        None => set.push(zone),
    }
}

/// Whether segment p–q crosses edge a–b. Half-open on both lines, so that a vertex on the
/// segment, or an endpoint on the edge's line, is counted for exactly one of the two edges
/// meeting there.
#[inline]
fn crosses(p: Coord<f64>, q: Coord<f64>, e: &Edge) -> bool {
    let above = |c: Coord<f64>| orient2d(p, q, c) > 0.0;
    if above(e.a) == above(e.b) {
        return false;
    }
    let left = |c: Coord<f64>| orient2d(e.a, e.b, c) > 0.0;
    left(p) != left(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::file::Ring;

    fn square(id: i16, x: f64, y: f64, s: f64) -> Record {
        Record {
            location_id: id,
            rings: vec![Ring {
                outer: true,
                points: vec![(x, y), (x + s, y), (x + s, y + s), (x, y + s), (x, y)],
            }],
        }
    }

    #[test]
    fn squares_holes_and_outside() {
        let mut with_hole = square(1, 0.0, 0.0, 0.01);
        with_hole.rings.push(Ring {
            outer: false,
            points: vec![
                (0.004, 0.004),
                (0.006, 0.004),
                (0.006, 0.006),
                (0.004, 0.006),
            ],
        });
        let records = vec![
            with_hole,
            square(2, 0.01, 0.0, 0.01),
            square(3, 0.0045, 0.0045, 0.001),
        ];
        let g = ZoneGrid::new(&records, 0.0008);
        assert_eq!(g.zone(0.001, 0.001), 1);
        assert_eq!(g.zone(0.0099, 0.0099), 1);
        assert_eq!(g.zone(0.0101, 0.0001), 2);
        // In the hole: zone 3 fills part of it, the rest is no zone.
        assert_eq!(g.zone(0.005, 0.005), 3);
        assert_eq!(g.zone(0.0041, 0.0041), UNKNOWN_ZONE);
        assert_eq!(g.zone(0.03, 0.005), UNKNOWN_ZONE);
        assert_eq!(g.zone(-1.0, 0.0), UNKNOWN_ZONE);
        assert_eq!(g.zone(f64::NAN, 0.0), UNKNOWN_ZONE);
        assert_eq!(g.zone(0.005, f64::INFINITY), UNKNOWN_ZONE);
    }

    #[test]
    fn overlapping_zones_give_the_lowest_id() {
        let g = ZoneGrid::new(
            &[square(7, 0.0, 0.0, 0.01), square(5, 0.005, 0.0, 0.01)],
            0.0008,
        );
        assert_eq!(g.zone(0.007, 0.005), 5);
        assert_eq!(g.zone(0.002, 0.005), 7);
        assert_eq!(g.zone(0.012, 0.005), 5);
    }
}
