-- The star schema: dimensions and a fact table partitioned by month of pickup.
--
-- taxi_load writes the fact row of every trip it inserts into taxi.yellow_taxi_trips, in the
-- same transaction and from the same rows, so both tables always hold the same trips.
-- taxi_check_consistency() compares them; taxi_rebuild_star(month) recomputes facts from the
-- normalized table. How a trip becomes a fact row is defined once for SQL
-- (crates/taxi_core/src/sql/star.rs) and once for the direct write path
-- (crates/taxi_core/src/facts.rs); a test compares the two on every load path.
--
-- Every dimension has an explicit unknown member (key -1, date_key 0): a code not in a lookup,
-- or NULL, still maps.

-- Calendar days 2000-01-01 .. 2099-12-31 (the range that gets monthly partitions), key yyyymmdd.
-- Pickups outside it map to date_key 0.
CREATE TABLE taxi.dim_date (
    date_key     integer  PRIMARY KEY,
    date         date     UNIQUE,
    year         smallint,
    quarter      smallint,
    month        smallint,
    month_name   text     NOT NULL,
    day          smallint,
    day_of_week  smallint,  -- ISO: 1 = Monday .. 7 = Sunday
    day_name     text     NOT NULL,
    day_of_year  smallint,
    iso_week     smallint,
    is_weekend   boolean
);
INSERT INTO taxi.dim_date
SELECT to_char(d, 'YYYYMMDD')::integer, d,
       extract(year FROM d), extract(quarter FROM d), extract(month FROM d),
       trim(to_char(d, 'Month')), extract(day FROM d), extract(isodow FROM d),
       trim(to_char(d, 'Day')), extract(doy FROM d), extract(week FROM d),
       extract(isodow FROM d) >= 6
FROM generate_series(date '2000-01-01', date '2099-12-31', interval '1 day') AS g(d);
INSERT INTO taxi.dim_date (date_key, month_name, day_name) VALUES (0, 'Unknown', 'Unknown');
COMMENT ON TABLE taxi.dim_date IS 'Calendar days 2000-2099 (key yyyymmdd); 0 = unknown (pickup outside 2000-2099)';

-- Hours of the day.
CREATE TABLE taxi.dim_time (
    time_key          smallint PRIMARY KEY,
    hour              smallint,
    label             text     NOT NULL,
    day_part          text     NOT NULL,
    is_rush_hour      boolean,  -- 07:00-10:00 and 16:00-20:00
    is_business_hours boolean   -- 09:00-17:00
);
INSERT INTO taxi.dim_time
SELECT h, h, format('%s:00-%s:00', lpad(h::text, 2, '0'), lpad((h + 1)::text, 2, '0')),
       CASE WHEN h < 6 THEN 'night' WHEN h < 12 THEN 'morning'
            WHEN h < 18 THEN 'afternoon' ELSE 'evening' END,
       h BETWEEN 7 AND 9 OR h BETWEEN 16 AND 19,
       h BETWEEN 9 AND 16
FROM generate_series(0, 23) AS g(h);
INSERT INTO taxi.dim_time (time_key, label, day_part) VALUES (-1, 'Unknown', 'Unknown');
COMMENT ON TABLE taxi.dim_time IS 'Hours of the day (key 0-23, the pickup hour); -1 = unknown';

-- Taxi zones. borough_known: the zone lies in a named borough (not the Unknown / N/A zones
-- 264 and 265), which is what "cross-borough" needs on both ends.
CREATE TABLE taxi.dim_location (
    location_key  smallint PRIMARY KEY,
    borough       text     NOT NULL,
    zone          text     NOT NULL,
    service_zone  text     NOT NULL,
    is_airport    boolean  NOT NULL,
    is_manhattan  boolean  NOT NULL,
    borough_known boolean  NOT NULL
);
INSERT INTO taxi.dim_location
SELECT locationid, coalesce(borough, 'Unknown'), coalesce(zone, 'Unknown'),
       coalesce(service_zone, 'Unknown'),
       coalesce(service_zone IN ('Airports', 'EWR'), false),
       coalesce(borough = 'Manhattan', false),
       coalesce(borough NOT IN ('Unknown', 'N/A'), false)
FROM taxi.taxi_zone;
INSERT INTO taxi.dim_location VALUES (-1, 'Unknown', 'Unknown', 'Unknown', false, false, false);
COMMENT ON TABLE taxi.dim_location IS 'TLC taxi zones (key = LocationID); -1 = unknown';

CREATE TABLE taxi.dim_vendor (
    vendor_key smallint PRIMARY KEY,
    name       text     NOT NULL
);
INSERT INTO taxi.dim_vendor SELECT vendorid, name FROM taxi.vendor;
INSERT INTO taxi.dim_vendor VALUES (-1, 'Unknown');
COMMENT ON TABLE taxi.dim_vendor IS 'Technology providers (key = VendorID); -1 = unknown';

CREATE TABLE taxi.dim_payment_type (
    payment_type_key smallint PRIMARY KEY,
    name             text     NOT NULL,
    is_cash          boolean  NOT NULL
);
INSERT INTO taxi.dim_payment_type SELECT payment_type, name, payment_type = 2 FROM taxi.payment_type;
INSERT INTO taxi.dim_payment_type VALUES (-1, 'Unknown', false);
COMMENT ON TABLE taxi.dim_payment_type IS 'Payment types (key = payment_type); -1 = unknown';

CREATE TABLE taxi.dim_rate_code (
    rate_code_key smallint PRIMARY KEY,
    name          text     NOT NULL
);
INSERT INTO taxi.dim_rate_code SELECT ratecodeid, name FROM taxi.rate_code;
INSERT INTO taxi.dim_rate_code VALUES (-1, 'Unknown');
COMMENT ON TABLE taxi.dim_rate_code IS 'Rate codes (key = RatecodeID); -1 = unknown';

-- One row per trip of taxi.yellow_taxi_trips (same row_hash), partitioned by month of pickup.
-- Its partitions are those of taxi.yellow_taxi_trips (sql/partitions.sql), created by taxi_load
-- when a month first appears. No indexes: queries prune by month; taxi_load writes the heap directly while the
-- fact table has none (it falls back to INSERT when someone adds one).
-- Columns are ordered for a compact tuple: 8-byte values first, then 4, 2 and 1-byte ones, then
-- the variable-length ones, so alignment adds no padding.
CREATE TABLE taxi.fact_trips (
    load_id               bigint           NOT NULL,
    pickup_datetime       timestamp        NOT NULL,
    trip_distance         double precision,
    trip_duration_minutes double precision NOT NULL,
    avg_speed_mph         double precision,
    date_key              integer          NOT NULL,
    time_key              smallint         NOT NULL,
    pickup_location_key   smallint         NOT NULL,
    dropoff_location_key  smallint         NOT NULL,
    vendor_key            smallint         NOT NULL,
    rate_code_key         smallint         NOT NULL,
    payment_type_key      smallint         NOT NULL,
    passenger_count       smallint,
    is_airport_trip       boolean          NOT NULL,
    is_cross_borough      boolean          NOT NULL,
    is_cash               boolean          NOT NULL,
    is_long_distance      boolean          NOT NULL,
    is_short_distance     boolean          NOT NULL,
    row_hash              bytea            NOT NULL,
    fare_amount           numeric(12,2),
    extra                 numeric(12,2),
    mta_tax               numeric(12,2),
    tip_amount            numeric(12,2),
    tolls_amount          numeric(12,2),
    improvement_surcharge numeric(12,2),
    total_amount          numeric(12,2),
    congestion_surcharge  numeric(12,2),
    airport_fee           numeric(12,2),
    cbd_congestion_fee    numeric(12,2),
    tip_pct               numeric
) PARTITION BY RANGE (pickup_datetime);
COMMENT ON TABLE taxi.fact_trips IS 'Star schema fact table: one row per trip of taxi.yellow_taxi_trips (same row_hash), partitioned by month of pickup';
COMMENT ON COLUMN taxi.fact_trips.row_hash IS 'The trip''s row in taxi.yellow_taxi_trips';
COMMENT ON COLUMN taxi.fact_trips.date_key IS 'taxi.dim_date: pickup day (0 outside 2000-2099)';
COMMENT ON COLUMN taxi.fact_trips.time_key IS 'taxi.dim_time: pickup hour';
COMMENT ON COLUMN taxi.fact_trips.trip_duration_minutes IS 'dropoff - pickup in minutes (negative when the dropoff is earlier; the dropoff time itself is in the trip''s row)';
COMMENT ON COLUMN taxi.fact_trips.avg_speed_mph IS 'trip_distance / duration in hours; NULL unless duration > 0 and distance is 0 or between 0.000001 and 1,000,000 miles';
COMMENT ON COLUMN taxi.fact_trips.tip_pct IS 'round(100 * tip_amount / fare_amount, 2); NULL when fare_amount is 0 or either is NULL';
COMMENT ON COLUMN taxi.fact_trips.is_airport_trip IS 'Pickup or dropoff zone is an airport (EWR, JFK, LaGuardia)';
COMMENT ON COLUMN taxi.fact_trips.is_cross_borough IS 'Both zones lie in known boroughs, and they differ';
COMMENT ON COLUMN taxi.fact_trips.is_cash IS 'payment_type = 2 (cash)';
COMMENT ON COLUMN taxi.fact_trips.is_long_distance IS 'trip_distance > 10 miles';
COMMENT ON COLUMN taxi.fact_trips.is_short_distance IS 'trip_distance < 1 mile';

-- Reference data: whoever may use schema taxi may read the dimensions (loads read them).
GRANT SELECT ON taxi.dim_date, taxi.dim_time, taxi.dim_location, taxi.dim_vendor,
                taxi.dim_payment_type, taxi.dim_rate_code TO PUBLIC;
