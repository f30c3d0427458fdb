-- Settings and progress NOTICEs from psql. (The rate in each NOTICE's DETAIL varies; the test
-- runner replaces it with "(rate)".) Progress seen from a second session is checked by
-- scripts/sqltest itself, with a generated 1M-row file.
CREATE EXTENSION taxi_loader;
\set sample5000 :fixtures '/yellow_tripdata_2025-02_sample5000.parquet'
SELECT name, setting, min_val, max_val, short_desc FROM pg_settings WHERE name LIKE 'taxi.%' ORDER BY name;
-- Every chunk, with taxi.chunk_size taking the place of the argument.
SET taxi.progress_every = 1;
SET taxi.chunk_size = 1000;
SELECT rows_inserted FROM taxi_load(:'sample5000');
-- The default: about every 10% of the file, never after every chunk.
SET taxi.progress_every = 0;
SELECT rows_duplicate FROM taxi_load(:'sample5000', chunk_size => 250);
SELECT rows_duplicate FROM taxi_load(:'sample5000');
-- One chunk: no NOTICE; -1: none ever.
RESET taxi.chunk_size;
SELECT rows_duplicate FROM taxi_load(:'sample5000');
SET taxi.progress_every = -1;
SELECT rows_duplicate FROM taxi_load(:'sample5000', 100);
-- Nothing is running.
SELECT count(*) FROM taxi.load_progress;
SET taxi.chunk_size = 0;
SELECT * FROM taxi_load(NULL);
-- The consistency check reports like a load (its blocks are 65,536 rows: here only its summary).
-- A changed fact sends its month to the row comparison, which names it; the other months are
-- equal by their digests.
SET taxi.progress_every = 1;
SELECT * FROM taxi_check_consistency();
UPDATE taxi.fact_trips SET is_cash = NOT is_cash
WHERE row_hash = (SELECT row_hash FROM taxi.fact_trips WHERE pickup_datetime >= '2025-02-01' ORDER BY row_hash LIMIT 1);
SELECT dataset, month, item, normalized, star FROM taxi_check_consistency();
SELECT dataset, month, item, normalized, star FROM taxi_check_consistency('2025-02-28', 'yellow');
SELECT count(*) FROM taxi_check_consistency('2025-01-01');
SELECT * FROM taxi_check_consistency('infinity');
SELECT * FROM taxi_check_consistency(dataset => 'purple');
