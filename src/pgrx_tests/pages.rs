//! Tables written as whole pages (`taxi_core::page`, `postgres::heap`): read back through
//! PostgreSQL's own page inspection, they equal what `table_multi_insert` writes.

#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use taxi_core::tuple::{Cell, Tuples};

    use crate::pgrx_tests::fixtures::count;
    use crate::postgres::heap::HeapWriter;

    fn oid(table: &str) -> pg_sys::Oid {
        Spi::get_one::<pg_sys::Oid>(&format!("SELECT '{table}'::regclass::oid"))
            .unwrap()
            .unwrap()
    }

    /// Rows `from..to` of the test tables: an id, a short text, a NULL every seventh row.
    fn rows(writer: &HeapWriter, from: i64, to: i64, long: bool) -> Tuples {
        let layout = writer.layout();
        let mut tuples = Tuples::default();
        for i in from..to {
            let note = if long {
                "y".repeat(3000)
            } else {
                format!("trip {i}")
            };
            let cells = [
                Cell::int(i),
                if i % 7 == 0 {
                    Cell::Null
                } else {
                    Cell::Bytes(note.as_bytes())
                },
                Cell::float(Some(i as f64 / 4.0)),
            ];
            tuples.push(&layout, &cells);
        }
        tuples
    }

    /// Writes `tuples` with `writer`, group by group, as the loader does.
    unsafe fn write(writer: &mut HeapWriter, tuples: &Tuples) {
        for tuple in tuples.iter() {
            unsafe { writer.push(tuple) };
        }
        writer.flush();
    }

    /// Every item of the first `blocks` pages, as pageinspect reads it (not the LSN or checksum,
    /// which differ).
    fn pages(table: &str, blocks: i64) -> String {
        Spi::get_one::<String>(&format!(
            "SELECT string_agg(concat_ws(' ', b, h.flags, h.lower, h.upper, h.special,
                 h.pagesize, h.version, h.prune_xid, i.lp, i.lp_off, i.lp_flags, i.lp_len,
                 i.t_xmin, i.t_xmax, i.t_field3, i.t_ctid, i.t_infomask2, i.t_infomask, i.t_hoff,
                 i.t_bits, i.t_oid, encode(i.t_data, 'hex')), E'\\n' ORDER BY b, i.lp)
             FROM generate_series(0, {blocks} - 1) b,
                  page_header(get_raw_page('{table}', b::int)) h,
                  heap_page_items(get_raw_page('{table}', b::int)) i"
        ))
        .unwrap()
        .unwrap_or_default()
    }

    /// A table this transaction created is written as pages: byte for byte (but LSN and
    /// checksum) the pages `table_multi_insert` writes with COPY FREEZE's options, the same
    /// visibility map (all-visible and all-frozen), the rows counted by the statistics; and a
    /// tuple too long for a page (PostgreSQL toasts it) hands the rest of the table to
    /// `table_multi_insert` without losing or repeating a row.
    #[pg_test]
    fn pages_written_directly_equal_postgres_own() {
        Spi::run(
            "CREATE EXTENSION IF NOT EXISTS pageinspect;
             CREATE EXTENSION IF NOT EXISTS pg_visibility;
             CREATE TABLE public.paged (id bigint, note text, x double precision);
             CREATE TABLE public.buffered (id bigint, note text, x double precision)
                 WITH (fillfactor = 100);
             CREATE TABLE public.mixed (id bigint, note text, x double precision)",
        )
        .unwrap();
        let n = 5000;
        let (paged_oid, buffered_oid) = (oid("public.paged"), oid("public.buffered"));
        unsafe {
            // Opened with no statement between: the same command id stamps both.
            let mut paged = HeapWriter::open(paged_oid, true);
            // Storage options: not eligible, written through table_multi_insert.
            let mut buffered = HeapWriter::open(buffered_oid, true);
            for g in 0..n / 1000 {
                let tuples = rows(&paged, g * 1000, g * 1000 + 1000, false);
                write(&mut paged, &tuples);
                write(&mut buffered, &tuples);
            }
            paged.finish();
            buffered.finish();
        }
        let blocks = count("SELECT pg_relation_size('public.paged') / 8192");
        assert!(blocks > 10, "{blocks} blocks");
        // PostgreSQL 16 and later extend a table by several blocks at a time: past the pages
        // holding rows, `buffered` may have empty ones.
        assert!(count("SELECT pg_relation_size('public.buffered') / 8192") >= blocks);
        assert_eq!(
            count(&format!(
                "SELECT count(*) FROM public.buffered WHERE (ctid::text::point)[0] >= {blocks}"
            )),
            0
        );
        let (ours, theirs) = (
            pages("public.paged", blocks),
            pages("public.buffered", blocks),
        );
        assert_eq!(ours.lines().count(), n as usize);
        if let Some((a, b)) = ours.lines().zip(theirs.lines()).find(|(a, b)| a != b) {
            panic!("pages differ: ours [{a}], table_multi_insert's [{b}]");
        }
        // Flags 4 (PD_ALL_VISIBLE) on every page; infomask 0x0B00 or'd with the tuple's own.
        assert_eq!(
            count(
                "SELECT count(*) FROM generate_series(0, pg_relation_size('public.paged') / 8192 - 1) b,
                     page_header(get_raw_page('public.paged', b::int)) h WHERE h.flags = 4"
            ),
            blocks
        );
        let map = |t: &str| {
            Spi::get_one::<String>(&format!(
                "SELECT string_agg(concat_ws(' ', blkno, all_visible, all_frozen), ',' ORDER BY blkno)
                 FROM pg_visibility_map('{t}') WHERE blkno < {blocks}"
            ))
            .unwrap()
            .unwrap()
        };
        assert_eq!(map("public.paged"), map("public.buffered"));
        assert_eq!(
            count("SELECT count(*) FROM pg_visibility_map('public.paged') WHERE all_visible AND all_frozen"),
            blocks
        );
        assert_eq!(
            count("SELECT count(*) FROM pg_check_frozen('public.paged')"),
            0
        );
        assert_eq!(
            count("SELECT pg_stat_get_xact_tuples_inserted('public.paged'::regclass)"),
            n
        );
        assert_eq!(
            count(
                "SELECT sum(id)::bigint FROM public.paged WHERE note = 'trip ' || id OR id % 7 = 0"
            ),
            n * (n - 1) / 2
        );

        // Pages, then a tuple PostgreSQL must toast, then more rows.
        unsafe {
            let mut mixed = HeapWriter::open(oid("public.mixed"), true);
            let first = rows(&mixed, 0, 2000, false);
            let long = rows(&mixed, 2000, 2001, true);
            let rest = rows(&mixed, 2001, 3000, false);
            write(&mut mixed, &first);
            write(&mut mixed, &long);
            write(&mut mixed, &rest);
            mixed.finish();
        }
        assert_eq!(count("SELECT count(DISTINCT ctid) FROM public.mixed"), 3000);
        assert_eq!(
            count("SELECT sum(id)::bigint FROM public.mixed"),
            3000 * 2999 / 2
        );
        assert_eq!(
            count("SELECT length(note) FROM public.mixed WHERE id = 2000"),
            3000
        );
        assert_eq!(
            count("SELECT count(*) FROM public.mixed WHERE id <> 2000 AND id % 7 <> 0 AND note = 'trip ' || id"),
            // Not the long one, not the 429 NULLs (ids divisible by 7).
            3000 - 1 - 429
        );
        assert_eq!(
            count("SELECT count(*) FROM pg_check_visible('public.mixed')"),
            0
        );
        assert_eq!(
            count("SELECT pg_stat_get_xact_tuples_inserted('public.mixed'::regclass)"),
            3000
        );
    }
}
