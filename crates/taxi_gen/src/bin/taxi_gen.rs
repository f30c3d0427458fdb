//! taxi_gen: writes a realistic synthetic month of a TLC dataset as parquet, or rewrites an
//! existing trip file in another vintage's physical layout.
//!
//!   taxi_gen --out FILE [--dataset yellow|green|fhv|fhvhv] [--rows N] [--year Y] [--month M]
//!            [--vintage Y] [--seed S]
//!            [--duplicates RATE] [--messy RATE] [--nulls RATE] [--row-group N]
//!   taxi_gen --rewrite IN --vintage Y --out FILE
//!   taxi_gen --republish IN --out FILE [--year Y] [--month M] [--seed S]
//!            [--correct RATE] [--withdraw RATE] [--add N]

use std::process::ExitCode;

use taxi_core::read::TripReader;
use taxi_core::trip::TripBatch;
use taxi_gen::{generate, republish, write_parquet, Options, Republish, Vintage};

fn usage() -> ExitCode {
    eprintln!(
        "usage: taxi_gen --out FILE [--dataset yellow|green|fhv|fhvhv] [--rows N] [--year Y]\n\
         \x20               [--month M] [--vintage Y] [--seed S]\n\
         \x20               [--duplicates RATE] [--messy RATE] [--nulls RATE] [--row-group N]\n\
         \x20      taxi_gen --rewrite IN --vintage Y --out FILE\n\
         \x20      taxi_gen --republish IN --out FILE [--year Y] [--month M] [--seed S]\n\
         \x20               [--correct RATE] [--withdraw RATE] [--add N]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.len().is_multiple_of(2) {
        return usage();
    }
    let mut opts = Options::default();
    let mut again = Republish::default();
    let (mut out, mut rewrite, mut vintage, mut row_group) = (None, None, None, 1_000_000usize);
    let mut republished = None;
    for pair in args.chunks(2) {
        let (flag, value) = (pair[0].as_str(), pair[1].as_str());
        let ok = match flag {
            "--out" => {
                out = Some(value.to_string());
                true
            }
            "--rewrite" => {
                rewrite = Some(value.to_string());
                true
            }
            "--republish" => {
                republished = Some(value.to_string());
                true
            }
            "--correct" => value.parse().map(|v| again.correct = v).is_ok(),
            "--withdraw" => value.parse().map(|v| again.withdraw = v).is_ok(),
            "--add" => value.parse().map(|v| again.add = v).is_ok(),
            "--dataset" => taxi_core::dataset::Dataset::named(value)
                .map(|d| opts.dataset = d)
                .is_some(),
            "--rows" => value.parse().map(|v| opts.rows = v).is_ok(),
            "--year" => value.parse().map(|v| opts.year = v).is_ok(),
            "--month" => value.parse().map(|v| opts.month = v).is_ok(),
            "--seed" => value.parse().map(|v| opts.seed = v).is_ok(),
            "--duplicates" => value.parse().map(|v| opts.duplicate_rate = v).is_ok(),
            "--messy" => value.parse().map(|v| opts.messy_rate = v).is_ok(),
            "--nulls" => value.parse().map(|v| opts.null_rate = v).is_ok(),
            "--vintage" => value.parse().map(|v: i32| vintage = Some(v)).is_ok(),
            "--row-group" => value.parse().map(|v| row_group = v).is_ok(),
            _ => false,
        };
        if !ok {
            eprintln!("taxi_gen: bad argument {flag} {value}");
            return usage();
        }
    }
    let Some(out) = out else { return usage() };
    if !(1..=12).contains(&opts.month) {
        eprintln!("taxi_gen: --month must be 1..12");
        return ExitCode::from(2);
    }
    let input = rewrite.as_ref().or(republished.as_ref());
    let mut trips = match input {
        None => generate(&opts),
        Some(input) => match read_all(input) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("taxi_gen: {e}");
                return ExitCode::FAILURE;
            }
        },
    };
    if republished.is_some() {
        again.year = opts.year;
        again.month = opts.month;
        again.seed = opts.seed;
        let (next, corrected, withdrawn) = republish(&trips, &again);
        println!(
            "taxi_gen: {corrected} rows corrected, {withdrawn} withdrawn, {} added",
            again.add
        );
        trips = next;
    }
    let vintage = Vintage::of_year(vintage.unwrap_or(opts.year));
    if let Err(e) = write_parquet(&out, &trips, &vintage, row_group) {
        eprintln!("taxi_gen: cannot write {out}: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "taxi_gen: wrote {} {} rows to {out} ({} layout)",
        trips.len(),
        trips.dataset.name,
        vintage.year
    );
    ExitCode::SUCCESS
}

fn read_all(path: &str) -> Result<TripBatch, taxi_core::error::LoadError> {
    let reader = TripReader::open(path, 65_536)?;
    let mut all = TripBatch::empty(reader.dataset(), 0);
    for batch in reader {
        let batch = batch?;
        all.extend_rows(&batch, 0..batch.len());
    }
    Ok(all)
}
