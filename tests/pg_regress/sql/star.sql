-- The star schema from psql: dimensions, partitions created by loads, the consistency check,
-- tampering and repair, and the README's analytic queries on the real samples.
\set test_db regress_star
\i include/begin.psql
-- Progress NOTICEs carry a rate that varies; tests/sql/progress.sql is where they are tested.
SET taxi.progress_every = -1;
CREATE EXTENSION taxi_loader;
\set sample5 :fixtures '/yellow_tripdata_2025-01_sample5.parquet'
\set sample5000 :fixtures '/yellow_tripdata_2025-02_sample5000.parquet'
SELECT 'dim_date' AS dimension, count(*) AS members, min(date_key) FILTER (WHERE date_key > 0), max(date_key) FROM taxi.dim_date
UNION ALL SELECT 'dim_time', count(*), min(time_key) FILTER (WHERE time_key >= 0), max(time_key) FROM taxi.dim_time
UNION ALL SELECT 'dim_location', count(*), min(location_key) FILTER (WHERE location_key > 0), max(location_key) FROM taxi.dim_location
UNION ALL SELECT 'dim_vendor', count(*), min(vendor_key) FILTER (WHERE vendor_key > 0), max(vendor_key) FROM taxi.dim_vendor
UNION ALL SELECT 'dim_payment_type', count(*), min(payment_type_key) FILTER (WHERE payment_type_key >= 0), max(payment_type_key) FROM taxi.dim_payment_type
UNION ALL SELECT 'dim_rate_code', count(*), min(rate_code_key) FILTER (WHERE rate_code_key > 0), max(rate_code_key) FROM taxi.dim_rate_code;
SELECT * FROM taxi.dim_location WHERE location_key IN (-1, 1, 132, 138, 161, 264, 265) ORDER BY location_key;
SELECT * FROM taxi.dim_date WHERE date_key IN (0, 20250201, 20250301) ORDER BY date_key;
SELECT * FROM taxi.dim_time WHERE time_key IN (-1, 0, 8, 17) ORDER BY time_key;
-- Before any load: no partitions (loads create them).
SELECT c.oid::regclass AS partition, pg_get_expr(c.relpartbound, c.oid) AS bounds
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'taxi.fact_trips'::regclass ORDER BY c.relname;
SELECT rows_inserted FROM taxi_load(:'sample5000', chunk_size => 1000);
SELECT rows_inserted FROM taxi_load(:'sample5');
SELECT rows_inserted FROM taxi_load(:'sample5000');
-- Partitions for the months seen.
SELECT f.tableoid::regclass AS partition, count(*) FROM taxi.fact_trips f GROUP BY 1 ORDER BY min(f.pickup_datetime);
SELECT (SELECT count(*) FROM taxi.yellow_taxi_trips) AS trips, (SELECT count(*) FROM taxi.fact_trips) AS facts,
       (SELECT sum(total_amount) FROM taxi.yellow_taxi_trips) AS trips_total,
       (SELECT sum(total_amount) FROM taxi.fact_trips) AS facts_total;
-- Consistent: no rows.
SELECT * FROM taxi_check_consistency();
-- Tampering shows up, per month, and a rebuild of that month repairs it.
DELETE FROM taxi.fact_trips WHERE row_hash = (SELECT row_hash FROM taxi.fact_trips ORDER BY row_hash LIMIT 1);
UPDATE taxi.fact_trips SET tip_amount = tip_amount + 100
WHERE row_hash = (SELECT row_hash FROM taxi.fact_trips ORDER BY row_hash DESC LIMIT 1);
SELECT month, item, normalized, star, left(detail, 30) AS detail FROM taxi_check_consistency();
SELECT * FROM taxi_rebuild_star('2025-02-14');
SELECT count(*) AS discrepancies FROM taxi_check_consistency();
SELECT * FROM taxi_rebuild_star('infinity');
-- README: revenue by pickup borough and hour (top 8).
SELECT l.borough, t.label AS pickup_hour, count(*) AS trips, sum(f.total_amount) AS revenue
FROM taxi.fact_trips f
JOIN taxi.dim_location l ON l.location_key = f.pickup_location_key
JOIN taxi.dim_time t ON t.time_key = f.time_key
GROUP BY l.borough, t.label ORDER BY revenue DESC LIMIT 8;
-- README: tip % by payment type.
SELECT p.name AS payment_type, count(*) AS trips, round(avg(f.tip_pct), 2) AS avg_tip_pct,
       round(100 * sum(f.tip_amount) / nullif(sum(f.fare_amount), 0), 2) AS tips_pct_of_fares
FROM taxi.fact_trips f
JOIN taxi.dim_payment_type p ON p.payment_type_key = f.payment_type_key
GROUP BY p.name ORDER BY trips DESC;
-- README: airport trips by month.
SELECT d.year, d.month_name, count(*) FILTER (WHERE f.is_airport_trip) AS airport_trips,
       count(*) AS trips,
       round(100.0 * count(*) FILTER (WHERE f.is_airport_trip) / count(*), 1) AS airport_pct,
       sum(f.airport_fee) AS airport_fees
FROM taxi.fact_trips f
JOIN taxi.dim_date d ON d.date_key = f.date_key
GROUP BY d.year, d.month, d.month_name ORDER BY d.year, d.month;
\i include/end.psql
