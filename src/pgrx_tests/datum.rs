#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;

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
            let datum = crate::postgres::datum::varlena(&payload);
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
