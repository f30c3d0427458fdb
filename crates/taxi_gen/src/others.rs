//! Green, FHV and high-volume FHV trips, made from a generated yellow trip: the same month,
//! times, zones, distance and oddities, in the other dataset's columns, plus what only it has.

use taxi_core::calendar::US_PER_SEC;
use taxi_core::dataset::YELLOW;
use taxi_core::trip::{TripBatch, Values};

use super::{cents, Options, Rng};

/// Bases that dispatch FHV trips; high-volume companies dispatch through their own.
const BASES: [&str; 6] = ["B00013", "B00111", "B01145", "B02510", "B02764", "B03404"];

/// Fills the one-row `out` (of `opts.dataset`) from the one-row yellow trip `yellow`.
pub(crate) fn from_yellow(rng: &mut Rng, opts: &Options, yellow: &TripBatch, out: &mut TripBatch) {
    let d = out.dataset;
    let get = |name: &str| YELLOW.column(name).map(|i| &yellow.columns[i]);
    let ts = |name: &str| match get(name) {
        Some(Values::Timestamp(v)) => v[0],
        _ => None,
    };
    let (pickup, dropoff) = (
        ts("tpep_pickup_datetime").expect("pickup"),
        ts("tpep_dropoff_datetime").expect("dropoff"),
    );
    let int = |name: &str| match get(name) {
        Some(Values::Int(v)) => v[0],
        _ => None,
    };
    let money = |name: &str| match get(name) {
        Some(Values::Money(v)) => v[0],
        _ => None,
    };
    let distance = match get("trip_distance") {
        Some(Values::Float(v)) => v[0],
        _ => None,
    };
    let text = |s: &str| Values::Text(vec![Some(s.into())]);
    let year = opts.year;
    let license = opts.dataset.name == "fhvhv";
    let company = if license {
        let mut companies = vec![("HV0003", 70), ("HV0005", 25)];
        if year <= 2021 {
            companies.push(("HV0004", 2));
        }
        if year <= 2019 {
            companies.push(("HV0002", 3));
        }
        rng.pick(&companies)
    } else {
        ""
    };
    // Lyft reports no on-scene time and leaves its access-a-ride flag blank.
    let lyft = company == "HV0005";
    for (i, column) in d.columns.iter().enumerate() {
        let value = match column.name {
            "lpep_pickup_datetime" | "pickup_datetime" => Values::Timestamp(vec![Some(pickup)]),
            "lpep_dropoff_datetime" | "dropoff_datetime" => Values::Timestamp(vec![Some(dropoff)]),
            "request_datetime" => Values::Timestamp(vec![Some(
                pickup - (60 + rng.below(600) as i64) * US_PER_SEC,
            )]),
            "on_scene_datetime" => Values::Timestamp(vec![
                (!lyft).then(|| pickup - (rng.below(120) as i64) * US_PER_SEC)
            ]),
            "trip_type" => Values::Int(vec![Some(rng.pick(&[(1i16, 97), (2, 3)]))]),
            "ehail_fee" => Values::Money(vec![None]),
            "dispatching_base_num" => text(if license {
                match company {
                    "HV0003" => "B03404",
                    "HV0005" => "B03406",
                    "HV0004" => "B02800",
                    _ => "B02510",
                }
            } else {
                BASES[rng.below(BASES.len() as u64) as usize]
            }),
            "originating_base_num" => Values::Text(vec![(!lyft).then(|| "B03404".into())]),
            "affiliated_base_number" => {
                Values::Text(vec![rng.chance(0.8).then(|| BASES[0].into())])
            }
            "hvfhs_license_num" => text(company),
            "sr_flag" => Values::Int(vec![rng.chance(0.05).then_some(1)]),
            "trip_miles" => Values::Float(vec![distance]),
            "trip_time" => Values::BigInt(vec![Some(
                (dropoff - pickup).div_euclid(US_PER_SEC) + rng.below(3) as i64,
            )]),
            "base_passenger_fare" => {
                Values::Money(vec![money("fare_amount").map(|f| f + cents(2.0))])
            }
            "tolls" => Values::Money(vec![money("tolls_amount")]),
            "tips" => Values::Money(vec![money("tip_amount")]),
            "bcf" => Values::Money(vec![money("fare_amount").map(|f| f / 40)]),
            "sales_tax" => Values::Money(vec![money("fare_amount").map(|f| f * 9 / 100)]),
            "driver_pay" => Values::Money(vec![money("fare_amount").map(|f| f * 7 / 10)]),
            "shared_request_flag" | "shared_match_flag" | "wav_match_flag" => text("N"),
            "wav_request_flag" => text(if rng.chance(0.01) { "Y" } else { "N" }),
            "access_a_ride_flag" => text(if lyft { " " } else { "N" }),
            "pulocationid" | "dolocationid" if d.name == "fhv" => {
                // Many FHV trips leave the zones empty.
                Values::Int(vec![int(column.name).filter(|_| rng.chance(0.8))])
            }
            name => match YELLOW.column(name) {
                Some(y) => yellow.columns[y].clone(),
                None => Values::nulls(column.kind, 1),
            },
        };
        out.columns[i] = value;
    }
    // Early FHV files carry no dropoff.
    if d.name == "fhv" && year <= 2016 {
        out.columns[d.dropoff] = Values::Timestamp(vec![None]);
    }
}
