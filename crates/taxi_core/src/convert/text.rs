//! store_and_fwd_flag → `text`. Files hold string, large_string, string_view or a dictionary of
//! strings (pandas categories); all are cast to plain strings first.

use std::sync::Arc;

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;

use super::Cx;
use crate::error::{Class, ValueError};

pub const EXPECTED: &str = "text";

pub fn accepts(dt: &DataType) -> bool {
    match dt {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, value) => matches!(**value, DataType::Utf8 | DataType::LargeUtf8),
        _ => false,
    }
}

pub(super) fn convert(array: &dyn Array, cx: Cx) -> Result<Vec<Option<Arc<str>>>, ValueError> {
    let owned;
    let strings = if matches!(array.data_type(), DataType::Utf8) {
        array.as_string::<i32>()
    } else {
        owned = cast(array, &DataType::Utf8).map_err(|_| {
            let shown = array.data_type().to_string();
            cx.error(
                0,
                shown,
                "cannot be read as text",
                Class::CharacterNotInRepertoire,
            )
        })?;
        owned.as_string::<i32>()
    };
    // Repeats of the previous value share its allocation.
    let mut last: Option<Arc<str>> = None;
    let mut out = Vec::with_capacity(strings.len());
    for (i, v) in strings.iter().enumerate() {
        let Some(s) = v else {
            out.push(None);
            continue;
        };
        if let Some(prev) = last.as_ref().filter(|p| &***p == s) {
            out.push(Some(prev.clone()));
            continue;
        }
        if s.contains('\0') {
            let shown = s.escape_default();
            return Err(cx.error(
                i,
                shown,
                "text cannot contain NUL",
                Class::CharacterNotInRepertoire,
            ));
        }
        let value: Arc<str> = Arc::from(s);
        last = Some(value.clone());
        out.push(Some(value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{DictionaryArray, LargeStringArray, StringArray};
    use arrow::datatypes::Int32Type;

    const CX: Cx = Cx {
        column: "store_and_fwd_flag",
        first_row: 0,
    };

    #[test]
    fn all_string_layouts_read_alike() {
        let want: Vec<Option<Arc<str>>> = vec![Some("N".into()), None, Some("Y".into())];
        assert_eq!(
            convert(&StringArray::from(vec![Some("N"), None, Some("Y")]), CX).unwrap(),
            want
        );
        let large = LargeStringArray::from(vec![Some("N"), None, Some("Y")]);
        assert_eq!(convert(&large, CX).unwrap(), want);
        let dict: DictionaryArray<Int32Type> =
            vec![Some("N"), None, Some("Y")].into_iter().collect();
        assert_eq!(convert(&dict, CX).unwrap(), want);
    }

    #[test]
    fn nul_bytes_are_refused() {
        let e = convert(&StringArray::from(vec!["a\0b"]), CX).unwrap_err();
        assert_eq!(e.class, Class::CharacterNotInRepertoire);
    }
}
