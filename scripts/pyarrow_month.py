#!/usr/bin/env python3
"""A yellow month written by pyarrow's own parquet writer, not by taxi_gen: what a user's other
tools produce. scripts/bench --pyarrow loads it against COPY of the same rows.

    scripts/pyarrow_month.py --rows 3600000 --year 2024 --month 1 --seed 7 --out FILE

Its properties are those of issue 25's file: row groups of 1M rows, zstd, money as float64
(with binary noise: 12.35 stored as 12.350000000000001 and the like), counts as int64, 1% messy
rows (negative fares, zero distance, a dropoff before its pickup, zero passengers, unknown zones,
amounts that do not add up), and 0.25% of the pickups in one far-off month (December 2002, as in
the TLC's own files). Values come from numpy's generator, seeded: the same arguments write the
same rows. The dataset's 2024 columns and types, as the TLC publishes them.
"""
import argparse
import calendar
import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def month_us(year, month):
    start = dt.datetime(year, month, 1)
    days = calendar.monthrange(year, month)[1]
    epoch = dt.datetime(1970, 1, 1)
    return int((start - epoch).total_seconds()) * 1_000_000, days * 86_400 * 1_000_000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, required=True)
    ap.add_argument("--year", type=int, default=2024)
    ap.add_argument("--month", type=int, default=1)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    n = a.rows
    rng = np.random.default_rng(a.seed)

    start, span = month_us(a.year, a.month)
    # Whole seconds, as the TLC's timestamps are.
    pickup = start + rng.integers(0, span // 1_000_000, n) * 1_000_000
    far_start, far_span = month_us(2002, 12)
    far = rng.random(n) < 0.0025
    pickup[far] = far_start + rng.integers(0, far_span // 1_000_000, far.sum()) * 1_000_000
    minutes = np.clip(rng.lognormal(2.5, 0.7, n), 1, 240)
    dropoff = pickup + (minutes * 60).astype(np.int64) * 1_000_000
    distance = np.round(np.clip(minutes * rng.uniform(0.12, 0.35, n), 0.01, 150), 2)
    fare = np.round(3.0 + 2.5 * distance + 0.7 * minutes, 2)
    extra = rng.choice([0.0, 1.0, 2.5, 3.5], n)
    tip = np.round(np.where(rng.random(n) < 0.7, fare * rng.uniform(0.1, 0.3, n), 0.0), 2)
    tolls = np.where(rng.random(n) < 0.06, 6.94, 0.0)
    airport = np.where(rng.random(n) < 0.08, 1.75, 0.0)
    congestion = np.where(rng.random(n) < 0.9, 2.5, 0.0)
    mta = np.full(n, 0.5)
    improvement = np.full(n, 1.0)
    # Summed in float64, as a pandas pipeline computes it: binary noise in the cents.
    total = fare + extra + mta + tip + tolls + improvement + congestion + airport
    passengers = rng.choice([1, 1, 1, 1, 2, 2, 3, 4, 5, 6], n).astype(np.int64)
    ratecode = rng.choice([1] * 30 + [2, 3, 4, 5, 99], n).astype(np.int64)
    payment = rng.choice([1, 1, 1, 2, 2, 3, 4], n).astype(np.int64)
    vendor = rng.choice([1, 2, 2, 6], n).astype(np.int32)
    pu = rng.integers(1, 264, n).astype(np.int32)
    do = rng.integers(1, 264, n).astype(np.int32)
    flag = np.where(rng.random(n) < 0.005, "Y", "N")

    # 1% messy rows, each with one of six faults.
    messy = np.flatnonzero(rng.random(n) < 0.01)
    kind = rng.integers(0, 6, messy.size)
    for k in range(6):
        rows = messy[kind == k]
        if k == 0:
            fare[rows] = -fare[rows]
            total[rows] = -total[rows]
        elif k == 1:
            distance[rows] = 0.0
        elif k == 2:
            dropoff[rows] = pickup[rows] - 60_000_000
        elif k == 3:
            passengers[rows] = 0
        elif k == 4:
            pu[rows] = 264
            do[rows] = 265
        else:
            total[rows] = total[rows] + 100.0
    # Nulls where the TLC has them: passenger count, rate code, flag and fees of ~4% of trips.
    missing = rng.random(n) < 0.04

    def nullable(values, typ):
        return pa.array(values, type=typ, mask=missing)

    table = pa.table({
        "VendorID": pa.array(vendor, pa.int32()),
        "tpep_pickup_datetime": pa.array(pickup, pa.timestamp("us")),
        "tpep_dropoff_datetime": pa.array(dropoff, pa.timestamp("us")),
        "passenger_count": nullable(passengers, pa.int64()),
        "trip_distance": pa.array(distance, pa.float64()),
        "RatecodeID": nullable(ratecode, pa.int64()),
        "store_and_fwd_flag": pa.array(flag, pa.string(), mask=missing),
        "PULocationID": pa.array(pu, pa.int32()),
        "DOLocationID": pa.array(do, pa.int32()),
        "payment_type": pa.array(payment, pa.int64()),
        "fare_amount": pa.array(fare, pa.float64()),
        "extra": pa.array(extra, pa.float64()),
        "mta_tax": pa.array(mta, pa.float64()),
        "tip_amount": pa.array(tip, pa.float64()),
        "tolls_amount": pa.array(tolls, pa.float64()),
        "improvement_surcharge": pa.array(improvement, pa.float64()),
        "total_amount": pa.array(total, pa.float64()),
        "congestion_surcharge": nullable(congestion, pa.float64()),
        "Airport_fee": nullable(airport, pa.float64()),
    })
    pq.write_table(table, a.out, row_group_size=1_000_000, compression="zstd")


if __name__ == "__main__":
    main()
