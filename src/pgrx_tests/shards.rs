//! The worker side of the shard-local write path on a node without Citus: what it answers and
//! refuses without shards of its own. The path itself runs in `scripts/disttest` (a Citus cluster).
#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

    use crate::pgrx_tests::fixtures::*;

    const WRITE: &str = "SELECT taxi.shard_write(NULL, $1, 'yellow', 1, 1000, true, $2,
        ARRAY['taxi.no_such_shard_102008'], ARRAY['taxi.no_such_fact_102040'],
        ARRAY[-2147483648], ARRAY[2147483647])";

    #[pg_test]
    fn a_node_reads_the_file_only_at_the_coordinators_size() {
        let path = fixture(SAMPLE5000);
        let size = std::fs::metadata(&path).unwrap().len() as i64;
        let ask = |p: &str, s: i64| {
            Spi::get_one_with_args::<bool>(
                "SELECT taxi.shard_can_read(NULL, $1, $2)",
                &[p.into(), s.into()],
            )
            .unwrap()
        };
        assert_eq!(ask(&path, size), Some(true));
        assert_eq!(ask(&path, size + 1), Some(false));
        assert_eq!(ask("/nonexistent/yellow.parquet", size), Some(false));
    }

    #[pg_test]
    fn a_node_without_the_shards_writes_nothing() {
        let path = fixture(SAMPLE5000);
        let before = fingerprint();
        let written = Spi::get_one_with_args::<Vec<i64>>(
            WRITE,
            &[path.as_str().into(), vec![2025 * 12 + 1].into()],
        )
        .unwrap();
        assert_eq!(written, Some(vec![0, 0]));
        assert_eq!(fingerprint(), before);
    }

    #[pg_test(error = "taxi_loader: internal error while writing a worker's shards")]
    fn shard_arrays_of_different_lengths_are_refused() {
        Spi::run_with_args(
            WRITE,
            &[fixture(SAMPLE5000).as_str().into(), vec![1, 2].into()],
        )
        .unwrap();
    }
}
