#!/usr/bin/env python3
"""Writes tests/fixtures/yellow_tripdata_2025-01_quarantine.parquet: the real 5-row sample (its
2025-01 rows, its schema) plus rows that cannot be stored and rows that are suspicious, for the
SQL-level test of the quarantine and the quality flags (tests/pg_regress/sql/runs.sql).
    scripts/make_quarantine_fixture.py"""
import datetime as dt
import pathlib

import pyarrow as pa
import pyarrow.parquet as pq

root = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures"
base = pq.read_table(root / "yellow_tripdata_2025-01_sample5.parquet")
rows = base.to_pylist()


def like(i, **changes):
    r = dict(rows[i])
    r.update(changes)
    return r


t = dt.datetime
extra = [
    like(0, tpep_pickup_datetime=None),                                   # row 6: unstorable
    like(1, fare_amount=12345678901.5),                                   # row 7: unstorable
    like(2, store_and_fwd_flag="N\x00"),                                  # row 8: unstorable
    like(3, fare_amount=-5.1, total_amount=-12.12),                       # row 9: negative amounts
    like(4, tpep_pickup_datetime=t(2024, 12, 31, 23, 50),
         tpep_dropoff_datetime=t(2024, 12, 31, 23, 40)),                  # row 10: reversed, December
    like(0, PULocationID=264, trip_distance=0.0),                         # row 11: zone, zero
    like(1, trip_distance=80.0),                                          # row 12: 80 miles in 8 min
]
table = pa.Table.from_pylist(rows + extra, schema=base.schema)
pq.write_table(table, root / "yellow_tripdata_2025-01_quarantine.parquet")
