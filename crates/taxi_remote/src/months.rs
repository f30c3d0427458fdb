//! The months of a `taxi_load_months` range and the URL of each, from a template such as
//! `https://host/trip-data/yellow_tripdata_{yyyy}-{mm}.parquet`.

/// `{yyyy}` → the year, `{mm}` → the month with two digits, `{m}` → without. None if the
/// template names neither a year nor a month (every month would be the same URL).
pub fn expand(template: &str, year: i32, month: u32) -> Option<String> {
    if !template.contains("{yyyy}") || !(template.contains("{mm}") || template.contains("{m}")) {
        return None;
    }
    Some(
        template
            .replace("{yyyy}", &format!("{year:04}"))
            .replace("{mm}", &format!("{month:02}"))
            .replace("{m}", &month.to_string()),
    )
}

/// Every month from `(y1, m1)` to `(y2, m2)`, both included, oldest first; empty if the range
/// runs backwards.
pub fn range(from: (i32, u32), to: (i32, u32)) -> Vec<(i32, u32)> {
    let mut out = Vec::new();
    let (mut y, mut m) = from;
    while (y, m) <= to {
        out.push((y, m));
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_and_ranges() {
        let t = "https://h/trip-data/yellow_tripdata_{yyyy}-{mm}.parquet";
        assert_eq!(
            expand(t, 2024, 3).unwrap(),
            "https://h/trip-data/yellow_tripdata_2024-03.parquet"
        );
        assert_eq!(
            expand("s3://b/{yyyy}/{m}.parquet", 2009, 1).unwrap(),
            "s3://b/2009/1.parquet"
        );
        assert_eq!(expand("https://h/x.parquet", 2024, 1), None);
        assert_eq!(expand("https://h/{yyyy}.parquet", 2024, 1), None);
        assert_eq!(
            range((2023, 11), (2024, 2)),
            vec![(2023, 11), (2023, 12), (2024, 1), (2024, 2)]
        );
        assert_eq!(range((2024, 2), (2024, 2)), vec![(2024, 2)]);
        assert!(range((2024, 3), (2024, 2)).is_empty());
    }
}
