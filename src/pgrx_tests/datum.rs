#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use pgrx::IntoDatum;
    use taxi_core::tuple::{Cell, Tuples};

    use crate::postgres::heap::HeapWriter;

    /// A palloc'd varlena (4-byte header) holding `bytes`, as an input function returns one.
    fn varlena(bytes: &[u8]) -> pg_sys::Datum {
        unsafe {
            let size = pg_sys::VARHDRSZ + bytes.len();
            let ptr = pg_sys::palloc(size) as *mut pg_sys::varlena;
            pgrx::set_varsize_4b(ptr, size as i32);
            std::ptr::copy_nonoverlapping(
                bytes.as_ptr(),
                (ptr as *mut u8).add(pg_sys::VARHDRSZ),
                bytes.len(),
            );
            pg_sys::Datum::from(ptr)
        }
    }

    fn numeric(cents: i64) -> pg_sys::Datum {
        let mut payload = Vec::new();
        taxi_core::convert::numeric::numeric_from_cents(cents, &mut payload);
        varlena(&payload)
    }

    /// The tuples the direct write path builds as bytes (`taxi_core::tuple`) are, byte for byte,
    /// those heap_form_tuple builds from the Datums: every kind of attribute the loader writes,
    /// a dropped column, NULLs, short and long varlenas, and a column stored plain.
    #[pg_test]
    fn hand_built_tuples_equal_heap_form_tuple() {
        Spi::run(
            "CREATE TABLE public.tuple_shapes (a smallint, gone integer, b integer, c bigint,
                 d double precision, e timestamp, f numeric(12,2), g text, h bytea, i boolean,
                 j text);
             ALTER TABLE public.tuple_shapes DROP COLUMN gone;
             ALTER TABLE public.tuple_shapes ALTER COLUMN j SET STORAGE PLAIN",
        )
        .unwrap();
        let oid = Spi::get_one::<pg_sys::Oid>("SELECT 'public.tuple_shapes'::regclass::oid")
            .unwrap()
            .unwrap();
        let hash: Vec<u8> = (0..32).collect();
        let long_text = "x".repeat(300);
        let long_bytes: Vec<u8> = (0..200).map(|i| i as u8).collect();
        let at = 789_000_000_123i64;
        type Row<'a> = Vec<(Cell<'a>, Option<pg_sys::Datum>)>;
        let rows: Vec<Row<'_>> = vec![
            vec![
                (Cell::int(-7), (-7i16).into_datum()),
                (Cell::Null, None),
                (Cell::int(123_456), 123_456i32.into_datum()),
                (Cell::int(-9_000_000_000), (-9_000_000_000i64).into_datum()),
                (Cell::float(Some(2.5)), 2.5f64.into_datum()),
                (Cell::Word(at as u64), Some(pg_sys::Datum::from(at))),
                (Cell::Numeric(-12_345), Some(numeric(-12_345))),
                (Cell::Bytes(b"Y"), "Y".into_datum()),
                (Cell::Bytes(&hash), hash.clone().into_datum()),
                (Cell::bool(true), true.into_datum()),
                (Cell::Bytes(b"plain"), "plain".into_datum()),
            ],
            (0..11).map(|_| (Cell::Null, None)).collect(),
            vec![
                (Cell::int(1), 1i16.into_datum()),
                (Cell::Null, None),
                (Cell::Null, None),
                (Cell::int(5), 5i64.into_datum()),
                (Cell::float(None), None),
                (Cell::Word(0), Some(pg_sys::Datum::from(0i64))),
                (Cell::Numeric(0), Some(numeric(0))),
                (
                    Cell::Bytes(long_text.as_bytes()),
                    long_text.as_str().into_datum(),
                ),
                (Cell::Bytes(&long_bytes), long_bytes.clone().into_datum()),
                (Cell::bool(false), false.into_datum()),
                (Cell::Null, None),
            ],
        ];
        unsafe {
            let writer = HeapWriter::open(oid, false);
            let layout = writer.layout();
            let rel = pg_sys::RelationIdGetRelation(oid);
            for (n, row) in rows.iter().enumerate() {
                let cells: Vec<Cell<'_>> = row.iter().map(|(c, _)| *c).collect();
                let mut ours = Tuples::default();
                ours.push(&layout, &cells);
                let mut values: Vec<pg_sys::Datum> = row
                    .iter()
                    .map(|(_, d)| d.unwrap_or(pg_sys::Datum::from(0)))
                    .collect();
                let mut nulls: Vec<bool> = row.iter().map(|(_, d)| d.is_none()).collect();
                let theirs =
                    pg_sys::heap_form_tuple((*rel).rd_att, values.as_mut_ptr(), nulls.as_mut_ptr());
                let theirs = std::slice::from_raw_parts(
                    (*theirs).t_data as *const u8,
                    (*theirs).t_len as usize,
                );
                let ours = ours.iter().next().unwrap();
                // What the insertion keeps: infomask2 (the attribute count), the infomask's
                // HASNULL, HASVARWIDTH and HASEXTERNAL bits, t_hoff, the bitmap and the data. It
                // overwrites t_choice (xmin, xmax, cid), t_ctid and the transaction bits.
                assert_eq!(ours.len(), theirs.len(), "row {n}: t_len");
                assert_eq!(ours[18..20], theirs[18..20], "row {n}: t_infomask2");
                let infomask = |t: &[u8]| u16::from_ne_bytes([t[20], t[21]]) & 0x000F;
                assert_eq!(infomask(ours), infomask(theirs), "row {n}: t_infomask");
                assert_eq!(ours[22..], theirs[22..], "row {n}: t_hoff, bitmap and data");
            }
            pg_sys::RelationClose(rel);
            writer.finish();
        }
    }

    /// Every shape of numeric(12,2) built by hand equals what PostgreSQL computes.
    #[pg_test]
    fn hand_built_numerics_equal_postgres_numerics() {
        let cents: Vec<i64> = vec![
            0,
            1,
            -1,
            5,
            50,
            -50,
            99,
            100,
            101,
            1000,
            1210,
            10_000,
            99_999,
            100_000,
            1_000_000,
            123_456_789,
            -123_456_789,
            100_000_000,
            999_999_999_999,
            -999_999_999_999,
            10_000_000_000,
            1_234_567_891,
        ];
        for c in cents {
            let mut payload = Vec::new();
            taxi_core::convert::numeric::numeric_from_cents(c, &mut payload);
            let datum = varlena(&payload);
            let (text, binary) = unsafe {
                (
                    pgrx::direct_function_call::<&core::ffi::CStr>(
                        pg_sys::numeric_out,
                        &[Some(datum)],
                    )
                    .map(|c| c.to_str().unwrap().to_owned()),
                    pgrx::direct_function_call::<Vec<u8>>(pg_sys::numeric_send, &[Some(datum)]),
                )
            };
            let (want_text, want_binary) = Spi::get_two_with_args::<String, Vec<u8>>(
                "SELECT v::text, pg_catalog.numeric_send(v)
                 FROM (SELECT ($1 * 0.01)::numeric(12,2) AS v) s",
                &[c.into()],
            )
            .unwrap();
            assert_eq!(text, want_text, "{c} cents");
            assert_eq!(binary, want_binary, "{c} cents");
        }
    }
}
