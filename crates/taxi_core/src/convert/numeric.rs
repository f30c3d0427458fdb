//! Cents → the bytes of PostgreSQL's `numeric` in its short on-disk format (numeric.c,
//! `NumericShort`), so the direct write path can build numeric(12,2) Datums without a call into
//! numeric.c per value. The format has been the same since PostgreSQL 9.1; a pg_test
//! compares every shape of value with what PostgreSQL itself computes.

const NUMERIC_SHORT: u16 = 0x8000;
const NUMERIC_SHORT_SIGN_MASK: u16 = 0x2000;
const NUMERIC_SHORT_DSCALE_SHIFT: u16 = 7;
const NUMERIC_SHORT_WEIGHT_SIGN_MASK: u16 = 0x0040;
const NUMERIC_SHORT_WEIGHT_MASK: u16 = 0x003F;
const NBASE: u64 = 10_000;

/// Appends the numeric payload (everything after the varlena length word) of `cents / 100`
/// with display scale 2: a native-endian `n_header`, then base-10000 digits as native-endian
/// i16, leading and trailing zero digits stripped as `make_result` does.
pub fn numeric_from_cents(cents: i64, out: &mut Vec<u8>) {
    let negative = cents < 0;
    let magnitude = cents.unsigned_abs();
    let (mut whole, fraction) = (magnitude / 100, magnitude % 100);

    // Base-10000 digits, least significant first: the fraction's digit, then the whole part's.
    let mut digits = [0u16; 8];
    let mut n = 0;
    digits[n] = (fraction * 100) as u16;
    n += 1;
    while whole > 0 {
        digits[n] = (whole % NBASE) as u16;
        whole /= NBASE;
        n += 1;
    }
    // The most significant digit sits at weight (n - 2): the fraction digit has weight -1.
    let mut weight = n as i32 - 2;
    let mut lo = 0; // trailing zeros are the low digits
    while lo < n && digits[lo] == 0 {
        lo += 1;
    }
    let mut hi = n; // leading zeros are the high digits
    while hi > lo && digits[hi - 1] == 0 {
        hi -= 1;
        weight -= 1;
    }
    let (negative, weight) = if lo == hi {
        (false, 0)
    } else {
        (negative, weight)
    };

    let mut header = NUMERIC_SHORT | (2 << NUMERIC_SHORT_DSCALE_SHIFT);
    if negative {
        header |= NUMERIC_SHORT_SIGN_MASK;
    }
    if weight < 0 {
        header |= NUMERIC_SHORT_WEIGHT_SIGN_MASK;
    }
    header |= (weight as u16) & NUMERIC_SHORT_WEIGHT_MASK;
    out.extend_from_slice(&header.to_ne_bytes());
    for d in digits[lo..hi].iter().rev() {
        out.extend_from_slice(&(*d as i16).to_ne_bytes());
    }
}

/// The value of a numeric payload (as [`numeric_from_cents`] writes it, any display scale) in
/// hundredths, if it is a whole number of them that fits an i64: what the consistency check needs
/// to recompute a fact from a stored trip. None for NaN, infinities, the long format (a weight or
/// scale the short one cannot hold, which no loaded amount has) and finer fractions.
pub fn cents_from_numeric(payload: &[u8]) -> Option<i64> {
    let header = u16::from_ne_bytes(payload.get(..2)?.try_into().ok()?);
    if header & 0xC000 != NUMERIC_SHORT {
        return None;
    }
    let negative = header & NUMERIC_SHORT_SIGN_MASK != 0;
    let magnitude = (header & NUMERIC_SHORT_WEIGHT_MASK) as i32;
    let weight = if header & NUMERIC_SHORT_WEIGHT_SIGN_MASK != 0 {
        magnitude - 64
    } else {
        magnitude
    };
    // Digit k (from 0) has weight `weight - k`: worth 10000^(weight - k); in hundredths that is
    // 100 * 10000^(weight - k), a whole number only down to weight -1, whose digit must then be a
    // multiple of 100.
    let mut cents: i128 = 0;
    for (k, pair) in payload[2..].chunks_exact(2).enumerate() {
        let digit = i16::from_ne_bytes([pair[0], pair[1]]) as i128;
        let w = weight - k as i32;
        if w < -1 {
            if digit != 0 {
                return None;
            }
            continue;
        }
        if w == -1 {
            if digit % 100 != 0 {
                return None;
            }
            cents += digit / 100;
            continue;
        }
        cents += digit * 100 * 10_000i128.checked_pow(w as u32)?;
        if cents > i64::MAX as i128 {
            return None;
        }
    }
    i64::try_from(if negative { -cents } else { cents }).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cents_read_back() {
        let mut out = Vec::new();
        for cents in [
            0i64,
            1,
            -1,
            5,
            -5,
            50,
            99,
            100,
            1000,
            1210,
            -1210,
            1_000_000,
            1_234_567_891,
            999_999_999_999,
            -999_999_999_999,
            123_456_789_012_345_678,
        ] {
            out.clear();
            numeric_from_cents(cents, &mut out);
            assert_eq!(cents_from_numeric(&out), Some(cents), "{cents}");
        }
        let with = |header: u16, digits: &[i16]| {
            let mut b = header.to_ne_bytes().to_vec();
            for d in digits {
                b.extend_from_slice(&d.to_ne_bytes());
            }
            b
        };
        // 12 with display scale 0, and 1.5 with scale 1: whole hundredths all the same.
        assert_eq!(cents_from_numeric(&with(0x8000, &[12])), Some(1200));
        assert_eq!(cents_from_numeric(&with(0x8080 | 0x7F, &[5000])), Some(50));
        assert_eq!(cents_from_numeric(&with(0x8080, &[1, 5000])), Some(150));
        // 0.005 (digit 50 at weight -1) and 0.0001 (weight -2): finer than a cent.
        assert_eq!(cents_from_numeric(&with(0x8180 | 0x7F, &[50])), None);
        assert_eq!(cents_from_numeric(&with(0x8200 | 0x7E, &[1])), None);
        // NaN (special, not short) and the long format.
        assert_eq!(cents_from_numeric(&0xC000u16.to_ne_bytes()), None);
        assert_eq!(cents_from_numeric(&[0, 0, 0, 0]), None);
        assert_eq!(cents_from_numeric(&[]), None);
    }

    fn parts(cents: i64) -> (u16, Vec<i16>) {
        let mut out = Vec::new();
        numeric_from_cents(cents, &mut out);
        let header = u16::from_ne_bytes([out[0], out[1]]);
        let digits = out[2..]
            .chunks(2)
            .map(|c| i16::from_ne_bytes([c[0], c[1]]))
            .collect();
        (header, digits)
    }

    #[test]
    fn digits_and_weights() {
        // 12.10: weight 0, digits 12 and 1000, scale 2.
        assert_eq!(parts(1210), (0x8000 | 0x100, vec![12, 1000]));
        // 10.00: the zero fraction digit is stripped.
        assert_eq!(parts(1000), (0x8100, vec![10]));
        // 0.50: weight -1.
        assert_eq!(parts(50), (0x8100 | 0x40 | 0x3F, vec![5000]));
        // -0.05: negative, weight -1, digit 500.
        assert_eq!(parts(-5), (0x8100 | 0x2000 | 0x7F, vec![500]));
        // 12345678.91: weight 1, digits 1234 5678 9100.
        assert_eq!(parts(1_234_567_891), (0x8101, vec![1234, 5678, 9100]));
        // 10000.00: digits 1 (weight 1), the zero group stripped.
        assert_eq!(parts(1_000_000), (0x8101, vec![1]));
        // zero: positive, weight 0, no digits.
        assert_eq!(parts(0), (0x8100, vec![]));
        // the largest numeric(12,2): 9999999999.99
        assert_eq!(parts(999_999_999_999), (0x8102, vec![99, 9999, 9999, 9900]));
    }
}
