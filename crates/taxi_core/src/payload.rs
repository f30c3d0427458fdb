//! What the loading backend hands its background worker through shared memory: a statement
//! number and text parameters. A plain length-prefixed encoding. pgrx-free.

use crate::sql::history::Statement;

/// `[statement u8][count u16]` then per parameter `[len i32, -1 = NULL][bytes]`.
pub fn encode(statement: Statement, params: &[Option<String>]) -> Vec<u8> {
    let mut out = vec![statement as u8];
    out.extend_from_slice(&(params.len() as u16).to_le_bytes());
    for p in params {
        match p {
            None => out.extend_from_slice(&(-1i32).to_le_bytes()),
            Some(s) => {
                out.extend_from_slice(&(s.len() as i32).to_le_bytes());
                out.extend_from_slice(s.as_bytes());
            }
        }
    }
    out
}

pub fn decode(bytes: &[u8]) -> Option<(Statement, Vec<Option<String>>)> {
    let statement = Statement::from_number(*bytes.first()?)?;
    let count = u16::from_le_bytes(bytes.get(1..3)?.try_into().ok()?) as usize;
    let mut at = 3;
    let mut params = Vec::with_capacity(count);
    for _ in 0..count {
        let len = i32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?);
        at += 4;
        if len < 0 {
            params.push(None);
            continue;
        }
        let text = bytes.get(at..at + len as usize)?;
        at += len as usize;
        params.push(Some(String::from_utf8(text.to_vec()).ok()?));
    }
    (at == bytes.len()).then_some((statement, params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refuse_garbage() {
        let params = vec![Some("42".to_string()), None, Some("é \0 x".to_string())];
        let bytes = encode(Statement::Fail, &params);
        assert_eq!(decode(&bytes), Some((Statement::Fail, params)));
        assert_eq!(decode(&bytes[..bytes.len() - 1]), None);
        assert_eq!(decode(&[9, 0, 0]), None);
        assert_eq!(decode(&[]), None);
    }
}
