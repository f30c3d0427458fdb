-- taxi_loader 0.7.0 -> 0.8.0: yellow trips of 2009 and 2010. Their files have coordinates
-- instead of zones: taxi.yellow_taxi_trips keeps them in four new nullable columns (no rewrite:
-- stored rows read NULL), and the load computes the zones from them. DDS, a vendor of those
-- years, gets code 3. Stored rows and their hashes are untouched. scripts/sqltest checks that an
-- updated installation has exactly the objects of a fresh one and every row it had.
\echo Use "ALTER EXTENSION taxi_loader UPDATE TO '0.8.0'" to load this file. \quit

ALTER TABLE taxi.yellow_taxi_trips
    ADD COLUMN pickup_longitude  double precision,
    ADD COLUMN pickup_latitude   double precision,
    ADD COLUMN dropoff_longitude double precision,
    ADD COLUMN dropoff_latitude  double precision;
COMMENT ON COLUMN taxi.yellow_taxi_trips.pickup_longitude IS
    'Where the trip started, as the 2009-2010 files have it (Start_Lon/pickup_longitude, WGS84 degrees; 0 when unknown); NULL in later files. pulocationid is the zone computed from it';
COMMENT ON COLUMN taxi.yellow_taxi_trips.pickup_latitude IS
    'Where the trip started (Start_Lat/pickup_latitude), as pickup_longitude';
COMMENT ON COLUMN taxi.yellow_taxi_trips.dropoff_longitude IS
    'Where the trip ended (End_Lon/dropoff_longitude), as pickup_longitude; dolocationid is the zone computed from it';
COMMENT ON COLUMN taxi.yellow_taxi_trips.dropoff_latitude IS
    'Where the trip ended (End_Lat/dropoff_latitude), as pickup_longitude';

-- The vendor names of 2009-2010: CMT is 1 and VTS 2 as in the data dictionary; DDS has no code
-- there and gets 3, which the dictionary does not use.
INSERT INTO taxi.vendor VALUES (3, 'Digital Dispatch Systems (2009-2010 files: DDS)');
INSERT INTO taxi.dim_vendor VALUES (3, 'Digital Dispatch Systems (2009-2010 files: DDS)');
