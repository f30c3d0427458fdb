//! The TLC's trip datasets, one description each: the one place that knows a dataset's columns
//! (with their types and which are required), its table and the pickup column that partitions
//! it, its file names, its row-hash encoding byte and its projection into the star schema.
//! Reading, hashing, quality flags, facts and every SQL statement take a [`Dataset`]; adding a
//! fifth is one more file here, its table in the SQL, and its tests (CONTRIBUTING.md).

mod fhv;
mod fhvhv;
mod green;
pub mod yellow;

use arrow::datatypes::Schema;

pub use fhv::FHV;
pub use fhvhv::FHVHV;
pub use green::GREEN;
pub use yellow::YELLOW;

/// Every dataset, in the order the TLC started publishing them.
pub static ALL: [&Dataset; 4] = [&YELLOW, &GREEN, &FHV, &FHVHV];

/// How a logical column's values are represented once read, whatever the file's physical type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole number, stored as `smallint` (codes, ids, counts).
    Int,
    /// A whole number too large for smallint, stored as `bigint` (durations in seconds).
    BigInt,
    /// Wall-clock microseconds since 1970-01-01 00:00:00, stored as `timestamp`.
    Timestamp,
    /// A double, stored as `double precision` as the file has it.
    Float,
    /// An amount in whole cents, stored as `numeric(12,2)`.
    Money,
    /// UTF-8 text, stored as `text`.
    Text,
}

/// One column of the logical schema.
#[derive(Debug)]
pub struct Column {
    /// The name as the TLC data dictionary spells it; files are matched case-insensitively.
    pub source: &'static str,
    /// The column name in the dataset's table: the TLC name in lower case.
    pub name: &'static str,
    pub kind: Kind,
    /// A file without this column is not a file of the dataset.
    pub required: bool,
    /// NULL cannot be stored (the table column is NOT NULL).
    pub not_null: bool,
    /// Its names in older layouts (yellow 2009's `Fare_Amt`), matched the same way.
    pub aliases: &'static [&'static str],
    /// How an older layout's values of another type stand for this column's (vendor names,
    /// payment strings, numeric flags).
    pub codes: Codes,
}

/// How a column reads values of a type its kind does not take (older layouts only).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codes {
    /// Only what its kind takes.
    None,
    /// Whole numbers written as text (`rate_code` of 2010: "1").
    Digits,
    /// Vendor names (`CMT`, `VTS`, `DDS`) → `yellow::VENDOR_NAMES`; another name is NULL.
    VendorNames,
    /// Payment strings (`CASH`, `Cre`, `No Charge`, …) → `yellow::PAYMENT_NAMES`; another
    /// string is 5, Unknown.
    PaymentNames,
    /// A store-and-forward flag written as a number: 1 → `Y`, 0 → `N`.
    FlagNumbers,
}

/// Coordinates, in the layouts that have them (yellow 2009–2010), and the zones computed from
/// them where the file has none.
#[derive(Debug)]
pub struct Located {
    /// The encoding byte of a row that has a coordinate: its hash covers its columns with the
    /// coordinates and without the zones (derived, or at least derivable: a better zone map
    /// must not make a stored trip new).
    pub encoding: u8,
    /// Positions of the pickup longitude and latitude, and the dropoff's. They follow every
    /// column the dataset's own encoding covers, which stops before the first of them.
    pub pickup: [usize; 2],
    pub dropoff: [usize; 2],
    /// Positions of the pickup and dropoff zone columns.
    pub zones: [usize; 2],
}

/// One TLC trip dataset.
#[derive(Debug)]
pub struct Dataset {
    /// What users pass (`dataset => 'green'`) and `taxi.load_runs.dataset` holds.
    pub name: &'static str,
    /// For messages: "a … trip file".
    pub title: &'static str,
    /// Its table in schema taxi, partitioned by month of pickup, and the same schema-qualified.
    pub table: &'static str,
    pub relation: &'static str,
    /// The TLC's file names: `{file_prefix}YYYY-MM.parquet`.
    pub file_prefix: &'static str,
    /// The first byte of every row's canonical encoding (docs/row-hash.md). Never reused.
    pub encoding: u8,
    /// The logical columns, in the TLC's order, which is table order and hash order.
    pub columns: &'static [Column],
    /// Positions in `columns` of the pickup (the partition key, never NULL) and the dropoff.
    pub pickup: usize,
    pub dropoff: usize,
    /// Its member(s) of `taxi.dim_service`.
    pub service: Service,
    /// Fact columns filled from a trip column of another name: (fact column, trip column). The
    /// others are filled from the trip column of the same name, or NULL when there is none.
    pub fact_sources: &'static [(&'static str, &'static str)],
    /// The column holding the trip's duration in seconds, checked against its timestamps.
    pub trip_seconds: Option<usize>,
    /// Its coordinate columns and what is computed from them (yellow only).
    pub located: Option<&'static Located>,
}

impl PartialEq for Dataset {
    fn eq(&self, other: &Dataset) -> bool {
        self.name == other.name
    }
}

impl Eq for Dataset {}

/// How a dataset's trips map to `taxi.dim_service`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    /// Every trip is this member.
    Fixed(i16),
    /// The member is the company of the license in this text column (`hvfhs_license_num`);
    /// an unknown license maps to [`UNKNOWN_COMPANY`].
    ByLicense(usize),
}

/// `taxi.dim_service`'s members for the high-volume licenses (sql/star.sql holds the table).
pub const LICENSES: [(&str, i16); 4] = [("HV0002", 5), ("HV0003", 6), ("HV0004", 7), ("HV0005", 8)];
/// A high-volume trip whose license is none of [`LICENSES`].
pub const UNKNOWN_COMPANY: i16 = 4;

/// The service key of a high-volume license.
pub fn license_service(license: Option<&str>) -> i16 {
    license
        .and_then(|l| LICENSES.iter().find(|(name, _)| *name == l))
        .map_or(UNKNOWN_COMPANY, |(_, key)| *key)
}

/// The fields every description shares unless it says otherwise.
const COLUMN_DEFAULTS: Dataset = Dataset {
    name: "",
    title: "",
    table: "",
    relation: "",
    file_prefix: "",
    encoding: 0,
    columns: &[],
    pickup: 0,
    dropoff: 0,
    service: Service::Fixed(-1),
    fact_sources: &[],
    trip_seconds: None,
    located: None,
};

const fn col(source: &'static str, name: &'static str, kind: Kind, required: bool) -> Column {
    Column {
        source,
        name,
        kind,
        required,
        not_null: false,
        aliases: &[],
        codes: Codes::None,
    }
}

/// A required timestamp that cannot be NULL (a pickup; yellow's and green's dropoffs).
const fn req(source: &'static str, name: &'static str) -> Column {
    Column {
        not_null: true,
        ..col(source, name, Kind::Timestamp, true)
    }
}

impl Dataset {
    /// The dataset called `name` (as users pass it, case-insensitively).
    pub fn named(name: &str) -> Option<&'static Dataset> {
        ALL.iter()
            .copied()
            .find(|d| d.name.eq_ignore_ascii_case(name.trim()))
    }

    /// `taxi.<table>`, as SQL text (the names are plain lower-case identifiers).
    pub fn qualified(&self) -> &'static str {
        self.relation
    }

    /// How many leading columns the dataset's own encoding covers: all but the coordinates.
    pub fn hashed_columns(&self) -> usize {
        self.located
            .map_or(self.columns.len(), |l| l.pickup[0].min(l.dropoff[0]))
    }

    /// The position of the column called `name` in the table.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }

    pub fn pickup_column(&self) -> &'static str {
        self.columns[self.pickup].name
    }

    pub fn dropoff_column(&self) -> &'static str {
        self.columns[self.dropoff].name
    }

    /// The trip column a fact column of that name copies, if the dataset has one.
    pub fn fact_source(&self, fact_column: &str) -> Option<usize> {
        let name = self
            .fact_sources
            .iter()
            .find(|(fact, _)| *fact == fact_column)
            .map_or(fact_column, |(_, trip)| trip);
        self.column(name)
    }

    /// The file's top-level column of each of this dataset's columns (by name, ignoring case),
    /// and the required ones it lacks.
    pub fn find_columns(&self, schema: &Schema) -> Result<Found, Unrecognized> {
        let mut matched = Vec::with_capacity(self.columns.len());
        let mut missing = Vec::new();
        for column in self.columns {
            let mut hits = schema.fields().iter().enumerate().filter(|(_, f)| {
                std::iter::once(&column.source)
                    .chain(column.aliases)
                    .any(|n| f.name().eq_ignore_ascii_case(n))
            });
            let hit = hits.next();
            if hits.next().is_some() {
                return Err(Unrecognized::DuplicateColumn {
                    column: column.source,
                });
            }
            if hit.is_none() && column.required {
                missing.push(column.source);
            }
            matched.push(hit.map(|(i, _)| i));
        }
        // Zones are computed where the file has the coordinates instead.
        if let Some(l) = self.located {
            let coordinates = l.pickup.iter().chain(&l.dropoff);
            if coordinates.into_iter().all(|&c| matched[c].is_some()) {
                let zones: Vec<&str> = l.zones.iter().map(|&z| self.columns[z].source).collect();
                missing.retain(|m| !zones.contains(m));
            }
        }
        Ok(Found { matched, missing })
    }
}

pub struct Found {
    /// For each column of the dataset, the file's column (None: absent).
    pub matched: Vec<Option<usize>>,
    /// The required columns the file lacks.
    pub missing: Vec<&'static str>,
}

/// Why a file is no dataset's (the reader turns it into its error).
#[derive(Debug, PartialEq, Eq)]
pub enum Unrecognized {
    /// It lacks columns of every dataset; these are those of the closest.
    Closest {
        dataset: &'static Dataset,
        missing: Vec<&'static str>,
    },
    /// It has the columns of several datasets, none including the others'.
    Ambiguous { candidates: Vec<&'static str> },
    /// Two of its columns have a dataset column's name, ignoring case.
    DuplicateColumn { column: &'static str },
}

/// Which dataset a file is, from its columns (the name is no evidence: users rename files).
/// A file is a dataset's when it has every column that dataset requires; when it has those of
/// several, the one whose columns include all the others' wins (a high-volume FHV file also has
/// every column an FHV file requires). Otherwise it is refused: with the closest dataset's missing
/// columns, or as ambiguous.
pub fn recognize(schema: &Schema) -> Result<&'static Dataset, Unrecognized> {
    let mut complete: Vec<(&'static Dataset, Vec<usize>)> = Vec::new();
    let mut closest: Option<(&'static Dataset, Vec<&'static str>, usize)> = None;
    for &d in &ALL {
        let found = d.find_columns(schema)?;
        let hits: Vec<usize> = found.matched.iter().flatten().copied().collect();
        if found.missing.is_empty() {
            complete.push((d, hits));
        } else {
            let required = d.columns.iter().filter(|c| c.required).count();
            let share = (required - found.missing.len()) * 1000 / required;
            if closest.as_ref().is_none_or(|(_, _, s)| share > *s) {
                closest = Some((d, found.missing, share));
            }
        }
    }
    let widest = complete.iter().find(|(_, mine)| {
        complete
            .iter()
            .all(|(_, other)| other.iter().all(|c| mine.contains(c)))
    });
    match (widest, complete.len()) {
        (Some((d, _)), _) => Ok(d),
        (None, 0) => {
            let (dataset, missing, _) = closest.expect("four datasets");
            Err(Unrecognized::Closest { dataset, missing })
        }
        (None, _) => Err(Unrecognized::Ambiguous {
            candidates: complete.iter().map(|(d, _)| d.name).collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::datatypes::{DataType, Field};

    fn schema(names: &[&str]) -> Schema {
        Schema::new(
            names
                .iter()
                .map(|n| Field::new(*n, DataType::Float64, true))
                .collect::<Vec<_>>(),
        )
    }

    fn required(d: &Dataset) -> Vec<&'static str> {
        d.columns
            .iter()
            .filter(|c| c.required)
            .map(|c| c.source)
            .collect()
    }

    #[test]
    fn names_tables_and_encodings_are_unique() {
        for (i, a) in ALL.iter().enumerate() {
            for b in &ALL[i + 1..] {
                assert_ne!(a.name, b.name);
                assert_ne!(a.table, b.table);
                assert_eq!(a.relation, format!("taxi.{}", a.table));
                assert_ne!(a.encoding, b.encoding);
            }
            assert_eq!(Dataset::named(&a.name.to_uppercase()).unwrap().name, a.name);
            assert_eq!(a.columns[a.pickup].kind, Kind::Timestamp);
            assert!(a.columns[a.pickup].not_null, "{} pickup", a.name);
            assert_eq!(a.columns[a.dropoff].kind, Kind::Timestamp);
        }
        assert!(Dataset::named("blue").is_none());
    }

    #[test]
    fn table_columns_follow_the_tlc_names() {
        for d in ALL {
            let mut names: Vec<&str> = d.columns.iter().map(|c| c.name).collect();
            for c in d.columns {
                assert_eq!(c.name, c.source.to_lowercase(), "{}", d.name);
            }
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), d.columns.len(), "{}", d.name);
            for (fact, trip) in d.fact_sources {
                assert!(d.column(trip).is_some(), "{}: {fact} from {trip}", d.name);
            }
        }
    }

    #[test]
    fn each_dataset_is_recognized_by_its_own_columns() {
        for d in ALL {
            let names: Vec<&str> = d.columns.iter().map(|c| c.source).collect();
            assert_eq!(recognize(&schema(&names)).unwrap().name, d.name);
            // Only the required ones, in upper case: still recognized.
            let upper: Vec<String> = required(d).iter().map(|n| n.to_uppercase()).collect();
            let upper: Vec<&str> = upper.iter().map(String::as_str).collect();
            assert_eq!(recognize(&schema(&upper)).unwrap().name, d.name);
        }
    }

    #[test]
    fn unknown_and_ambiguous_files_are_refused() {
        // Most of a green file: the closest is green, and its missing columns are named.
        let mut names = required(&GREEN);
        names.retain(|n| *n != "lpep_dropoff_datetime");
        match recognize(&schema(&names)).unwrap_err() {
            Unrecognized::Closest { dataset, missing } => {
                assert_eq!(dataset.name, "green");
                assert_eq!(missing, ["lpep_dropoff_datetime"]);
            }
            other => panic!("{other:?}"),
        }
        // Yellow's and green's columns at once: neither includes the other.
        let mut both = required(&YELLOW);
        both.extend(["lpep_pickup_datetime", "lpep_dropoff_datetime"]);
        match recognize(&schema(&both)).unwrap_err() {
            Unrecognized::Ambiguous { candidates } => {
                assert_eq!(candidates, ["yellow", "green"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn licenses_map_to_companies() {
        assert_eq!(license_service(Some("HV0003")), 6);
        assert_eq!(license_service(Some("HV0009")), UNKNOWN_COMPANY);
        assert_eq!(license_service(None), UNKNOWN_COMPANY);
    }
}
