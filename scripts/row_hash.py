#!/usr/bin/env python3
"""Recompute taxi_loader row hashes outside the database, from the encoding of docs/row-hash.md alone.

    python3 scripts/row_hash.py FILE.parquet [--encoding]

Prints one line per row: the row number (1-based), the hex SHA-256 row hash and, with
--encoding, the hex canonical encoding. Needs pyarrow. Deliberately independent of the Rust code:
the tests compare its output with the hashes taxi_load stores. Yellow files of every layout,
2009 and 2010's included (text timestamps, vendor names, payment strings, coordinates: first
byte 0x05, the zones left out).
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

# The 2009 and 2010 names of yellow's columns, and the coordinates (docs/usage.md).
ALIASES = {
    "VendorID": ["vendor_name", "vendor_id"],
    "tpep_pickup_datetime": ["Trip_Pickup_DateTime", "pickup_datetime"],
    "tpep_dropoff_datetime": ["Trip_Dropoff_DateTime", "dropoff_datetime"],
    "RatecodeID": ["Rate_Code"], "store_and_fwd_flag": ["store_and_forward"],
    "fare_amount": ["Fare_Amt"], "extra": ["surcharge"], "tip_amount": ["Tip_Amt"],
    "tolls_amount": ["Tolls_Amt"], "total_amount": ["Total_Amt"],
    "pickup_longitude": ["Start_Lon"], "pickup_latitude": ["Start_Lat"],
    "dropoff_longitude": ["End_Lon"], "dropoff_latitude": ["End_Lat"],
}
COORDINATES = [("pickup_longitude", "float"), ("pickup_latitude", "float"),
               ("dropoff_longitude", "float"), ("dropoff_latitude", "float")]
VENDORS = {"cmt": 1, "vts": 2, "dds": 3}
PAYMENTS = {"credit": 1, "cre": 1, "crd": 1, "cash": 2, "cas": 2, "csh": 2, "no charge": 3,
            "noc": 3, "no": 3, "dispute": 4, "dis": 4, "unknown": 5, "unk": 5, "na": 5,
            "voided trip": 6, "void": 6}


def text_micros(text):
    """`YYYY-MM-DD HH:MM:SS[.ffffff]` as wall-clock microseconds since 1970."""
    import datetime
    t = datetime.datetime.fromisoformat(text.strip().replace("T", " "))
    return (t - datetime.datetime(1970, 1, 1)) // datetime.timedelta(microseconds=1)


def logical(name, kind, value):
    """A 2009-2010 value of another type, as the column's kind: codes and flags."""
    if isinstance(value, str) and kind == "int":
        v = value.strip()
        if name == "VendorID":
            return VENDORS.get(v.lower(), int(v) if v.isdigit() else None)
        if name == "payment_type":
            return int(v) if v.isdigit() else PAYMENTS.get(v.lower(), 5)
        return int(v) if v else None
    if kind == "text" and isinstance(value, float):
        return {1.0: "Y", 0.0: "N"}[value]
    return value


def micros(column, i):
    scalar = column[i]
    if not scalar.is_valid:
        return None
    unit = column.type.unit
    raw = scalar.value  # integer in the column's unit
    return {"s": raw * 1_000_000, "ms": raw * 1_000, "us": raw, "ns": raw // 1_000}[unit]


def encode(table, i):
    names = {n.lower(): n for n in table.column_names}

    def column_of(name):
        for n in [name] + ALIASES.get(name, []):
            if n.lower() in names:
                return table.column(names[n.lower()]).combine_chunks()
        return None

    coordinates = [column_of(n) for n, _ in COORDINATES]
    located = any(c is not None and c[i].is_valid for c in coordinates)
    # A row with coordinates: first byte 5, the zones left out, the coordinates last.
    columns = ([c for c in COLUMNS if c[0] not in ("PULocationID", "DOLocationID")] + COORDINATES
               if located else COLUMNS)
    out = bytearray([5 if located else 1])
    for name, kind in columns:
        column = column_of(name)
        if column is None or not column[i].is_valid:
            out.append(0)
            continue
        if kind == "ts":
            if str(column.type) in ("string", "large_string"):
                value = text_micros(column[i].as_py())
            else:
                value = micros(column, i)
            out.append(1)
            out += struct.pack(">q", value)
            continue
        value = logical(name, kind, column[i].as_py())
        if value is None:
            out.append(0)
            continue
        out.append(1)
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
