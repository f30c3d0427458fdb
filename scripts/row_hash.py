#!/usr/bin/env python3
"""Recompute taxi_loader row hashes outside the database, from the encoding of docs/row-hash.md alone.

    python3 scripts/row_hash.py FILE.parquet [--encoding]

Prints one line per row: the row number (1-based), the hex SHA-256 row hash and, with
--encoding, the hex canonical encoding. Needs pyarrow. Deliberately independent of the Rust code:
the tests compare its output with the hashes taxi_load stores.
"""
import hashlib
import math
import struct
import sys

import pyarrow.parquet as pq

# (TLC name, kind) in encoding order.
COLUMNS = [
    ("VendorID", "int"), ("tpep_pickup_datetime", "ts"), ("tpep_dropoff_datetime", "ts"),
    ("passenger_count", "int"), ("trip_distance", "float"), ("RatecodeID", "int"),
    ("store_and_fwd_flag", "text"), ("PULocationID", "int"), ("DOLocationID", "int"),
    ("payment_type", "int"), ("fare_amount", "money"), ("extra", "money"), ("mta_tax", "money"),
    ("tip_amount", "money"), ("tolls_amount", "money"), ("improvement_surcharge", "money"),
    ("total_amount", "money"), ("congestion_surcharge", "money"), ("Airport_fee", "money"),
    ("cbd_congestion_fee", "money"),
]

def micros(column, i):
    scalar = column[i]
    if not scalar.is_valid:
        return None
    unit = column.type.unit
    raw = scalar.value  # integer in the column's unit
    return {"s": raw * 1_000_000, "ms": raw * 1_000, "us": raw, "ns": raw // 1_000}[unit]


def encode(table, i):
    out = bytearray([1])  # encoding version
    names = {n.lower(): n for n in table.column_names}
    for name, kind in COLUMNS:
        real = names.get(name.lower())
        column = table.column(real).combine_chunks() if real else None
        if column is None or not column[i].is_valid:
            out.append(0)
            continue
        out.append(1)
        if kind == "ts":
            out += struct.pack(">q", micros(column, i))
            continue
        value = column[i].as_py()
        if kind == "int":
            out += struct.pack(">q", int(value))
        elif kind == "float":
            value = float(value)
            if value != value:
                out += bytes.fromhex("7ff8000000000000")
            else:
                out += struct.pack(">d", 0.0 if value == 0 else value)
        elif kind == "money":
            # value * 100 rounded to a whole number, halves away from zero (Python's round()
            # would round halves to even).
            x = float(value) * 100
            cents = int(math.copysign(math.floor(abs(x) + 0.5), x))
            out += struct.pack(">q", cents)
        else:
            data = value.encode("utf-8")
            out += struct.pack(">I", len(data)) + data
    return bytes(out)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    table = pq.read_table(sys.argv[1])
    show = "--encoding" in sys.argv[2:]
    for i in range(table.num_rows):
        enc = encode(table, i)
        line = f"{i + 1} {hashlib.sha256(enc).hexdigest()}"
        print(line + (f" {enc.hex()}" if show else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
