//! Yellow 2009 and 2010: both older layouts load into taxi.yellow_taxi_trips with their
//! coordinates and the zones computed from them; their facts follow. Months of 2009 and 2010,
//! which no other test loads.
#[pgrx::pg_schema]
mod tests {
    use std::sync::Arc;

    use pgrx::prelude::*;

    use crate::pgrx_tests::fixtures::*;
    use taxi_core::dataset::yellow::idx;
    use taxi_core::trip::{TripBatch, Values};
    use taxi_gen::{self as generate, Options, Vintage};

    fn text_of(sql: &str, value: &str) -> String {
        Spi::get_one_with_args::<String>(sql, &[value.into()])
            .unwrap()
            .unwrap()
    }

    fn month(year: i32, month: u32, rows: usize, seed: u64) -> TripBatch {
        generate::generate(&Options {
            rows,
            year,
            month,
            seed,
            duplicate_rate: 0.0,
            messy_rate: 0.0,
            ..Options::default()
        })
    }

    /// What the generator says the zones are (taxi_zones on its coordinates): count of 264 and
    /// the sum of the pickup zones.
    fn zones(trips: &TripBatch) -> (i64, i64) {
        match &trips.columns[idx::PU_LOCATION_ID] {
            Values::Int(z) => (
                z.iter().filter(|z| **z == Some(264)).count() as i64,
                z.iter().flatten().map(|&z| z as i64).sum(),
            ),
            _ => unreachable!(),
        }
    }

    fn month_summary(from: &str, to: &str) -> String {
        Spi::get_one_with_args::<String>(
            "SELECT concat_ws(' ', count(*), count(*) FILTER (WHERE pulocationid = 264),
                              sum(pulocationid), count(pickup_longitude), sum(fare_amount),
                              count(*) FILTER (WHERE vendorid = 3))
               FROM taxi.yellow_taxi_trips
              WHERE tpep_pickup_datetime >= $1::timestamp AND tpep_pickup_datetime < $2::timestamp",
            &[from.into(), to.into()],
        )
        .unwrap()
        .unwrap()
    }

    fn want(trips: &TripBatch) -> String {
        let (unknown, zone_sum) = zones(trips);
        let fares: i64 = match &trips.columns[idx::FARE_AMOUNT] {
            Values::Money(m) => m.iter().flatten().sum(),
            _ => unreachable!(),
        };
        let dds = match &trips.columns[idx::VENDOR_ID] {
            Values::Int(v) => v.iter().filter(|v| **v == Some(3)).count(),
            _ => unreachable!(),
        };
        format!(
            "{} {unknown} {zone_sum} {} {}.{:02} {dds}",
            trips.len(),
            trips.len(),
            fares / 100,
            fares % 100
        )
    }

    /// Each layout at small size: every trip stored with its coordinates, the zones the
    /// generator computed, vendor names and payment strings as codes; a reload and a pandas
    /// rewrite add nothing; the facts agree.
    #[pg_test]
    fn both_layouts_load_with_their_zones() {
        for (year, m) in [(2009, 5), (2010, 5)] {
            let trips = month(year, m, 3000, year as u64);
            let path = write_trips(&format!("yellow_tripdata_{year}-05.parquet"), &trips, year);
            let row = text_of(
                "SELECT concat_ws(' ', rows_read, rows_inserted, rows_rejected, dataset) FROM taxi_load($1, 700)",
                &path,
            );
            assert_eq!(row, "3000 3000 0 yellow", "{year}");
            let (from, to) = (format!("{year}-05-01"), format!("{year}-06-01"));
            assert_eq!(month_summary(&from, &to), want(&trips), "{year}");
            assert_eq!(load(&path, 1000).inserted, 0);
            // pandas: nanosecond timestamps, double counts, an index column.
            let mut v = Vintage::of_year(year);
            v.pandas_index = true;
            let pandas = scratch(&format!("pandas_{year}.parquet"));
            generate::write_parquet(&pandas, &trips, &v, 1000).unwrap();
            let again = load(&pandas, 1000);
            assert_eq!((again.inserted, again.duplicate), (0, 3000), "{year}");
        }
        assert_eq!(
            count("SELECT count(*) FROM taxi_check_consistency(dataset => 'yellow')"),
            0
        );
        // The facts have the computed zones.
        assert_eq!(
            count(
                "SELECT count(*) FROM taxi.fact_trips f JOIN taxi.yellow_taxi_trips t USING (row_hash)
                 WHERE t.tpep_pickup_datetime >= '2009-05-01' AND t.tpep_pickup_datetime < '2009-06-01'
                   AND f.pickup_location_key = t.pulocationid AND f.dropoff_location_key = t.dolocationid"
            ),
            3000
        );
    }

    /// A 2009 month and a 2024 month in one folder load, each in its layout.
    #[pg_test]
    fn a_2009_and_a_2024_month_in_one_folder() {
        let dir = scratch("legacy_folder");
        std::fs::create_dir_all(&dir).unwrap();
        let old = month(2009, 7, 2000, 97);
        let new = month(2024, 7, 2000, 247);
        write_trips("legacy_folder/yellow_tripdata_2009-07.parquet", &old, 2009);
        write_trips("legacy_folder/yellow_tripdata_2024-07.parquet", &new, 2024);
        let rows = text_of(
            "SELECT string_agg(regexp_replace(file, '^.*/', '') || ' ' || status || ' ' || rows_inserted, ', ' ORDER BY file)
               FROM taxi_load_dir($1)",
            &dir,
        );
        assert_eq!(
            rows,
            "yellow_tripdata_2009-07.parquet succeeded 2000, yellow_tripdata_2024-07.parquet succeeded 2000"
        );
        assert_eq!(month_summary("2009-07-01", "2009-08-01"), want(&old));
        // 2024's trips keep their file's zones and have no coordinates.
        assert_eq!(
            count(
                "SELECT count(pickup_longitude) + count(dropoff_latitude) FROM taxi.yellow_taxi_trips
                 WHERE tpep_pickup_datetime >= '2024-07-01' AND tpep_pickup_datetime < '2024-08-01'"
            ),
            0
        );
        assert_eq!(
            count("SELECT count(*) FROM taxi_check_consistency(dataset => 'yellow')"),
            0
        );
    }

    /// Text timestamps: a malformed one and an impossible one each reject their row, with the
    /// reason and the row as the file has it; the rest of the file loads.
    #[pg_test]
    fn bad_text_timestamps_reject_their_rows() {
        let trips = month(2010, 9, 500, 109);
        let path = write_trips("yellow_tripdata_2010-09.parquet", &trips, 2010);
        let pickups: Vec<Option<String>> = match &trips.columns[idx::PICKUP] {
            Values::Timestamp(v) => v
                .iter()
                .enumerate()
                .map(|(i, us)| match i {
                    10 => Some("2010-09-3 12:00:00".into()),
                    20 => Some("2010-09-31 12:00:00".into()),
                    30 => Some("2010-09-01 25:00:00".into()),
                    _ => us.map(generate::legacy::text_time),
                })
                .collect(),
            _ => unreachable!(),
        };
        let bad = scratch("yellow_tripdata_2010-09_bad.parquet");
        replace_column(
            &path,
            &bad,
            "pickup_datetime",
            Arc::new(arrow::array::StringArray::from(pickups)),
        );
        let row = text_of(
            "SELECT concat_ws(' ', rows_read, rows_inserted, rows_rejected, load_id) FROM taxi_load($1, 200)",
            &bad,
        );
        let parts: Vec<&str> = row.split(' ').collect();
        assert_eq!(&parts[..3], ["500", "497", "3"], "{row}");
        let reasons = Spi::get_one_with_args::<String>(
            "SELECT string_agg(row_number || ': ' || reason || ' / ' || (raw ->> 'pickup_datetime'), E'\\n' ORDER BY row_number)
               FROM taxi.rejected_rows WHERE load_id = $1",
            &[parts[3].parse::<i64>().unwrap().into()],
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            reasons,
            "11: pickup_datetime: is not a timestamp like 2009-01-04 02:52:00 (2010-09-3 12:00:00) / 2010-09-3 12:00:00\n\
             21: pickup_datetime: is not a date (month 1–12, day within the month) (2010-09-31 12:00:00) / 2010-09-31 12:00:00\n\
             31: pickup_datetime: is not a time of day (2010-09-01 25:00:00) / 2010-09-01 25:00:00"
        );
    }
}
