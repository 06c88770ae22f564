//! A client's frame: a JSON object, whatever carried it (a `$default` body, or the `data` of
//! an Action Cable `message` command).

use serde_json::{Map, Number, Value};
use shared::i18n::Alert;

use crate::error::ApiError;

/// The parsed frame; `data` is echoed back in replies.
#[derive(Debug)]
pub struct Frame {
    pub data: Map<String, Value>,
}

/// A field that should hold a whole number holds something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a whole number")]
pub struct NotAWholeNumber;

impl Frame {
    #[allow(
        dead_code,
        reason = "used by the Action Cable adapter, which is on its way"
    )]
    pub fn from_object(data: Map<String, Value>) -> Self {
        Self { data }
    }

    /// Text that is not UTF-8, not JSON, nested beyond serde_json's depth limit, or not an
    /// object is refused.
    pub fn parse(bytes: &[u8]) -> Result<Self, ApiError> {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(data)) => Ok(Self { data }),
            _ => Err(ApiError::Client(Alert::RequestInvalidJson)),
        }
    }

    /// A string field; absent and `null` are `None`, any other type is a client error. So is
    /// a NUL character: PostgreSQL text cannot hold one, and no token, method, channel or
    /// message needs it.
    pub fn string(&self, field: &str) -> Result<Option<&str>, ApiError> {
        match self.data.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(value)) if value.contains('\0') => {
                Err(ApiError::Client(Alert::RequestNulCharacter))
            }
            Some(Value::String(value)) => Ok(Some(value)),
            Some(_) => Err(ApiError::Client(Alert::RequestInvalidField)),
        }
    }

    /// A whole-number field: a JSON number without a fractional part (`7`, `-3`, `7.0`), or
    /// a string of digits with an optional sign (`"7"`, `"-3"`: Rails' `to_i` clients send
    /// both). Beyond the 64-bit range a value counts as the nearest 64-bit one, so every
    /// whole number gets the same answer as its neighbours. Absent, `null` and `""` are
    /// `None`; anything else (`1.5`, `"abc"`, `true`, `[]`) is an error.
    pub fn integer(&self, field: &str) -> Result<Option<i64>, NotAWholeNumber> {
        match self.data.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(number)) => whole_number(number).map(Some).ok_or(NotAWholeNumber),
            Some(Value::String(text)) if text.trim().is_empty() => Ok(None),
            Some(Value::String(text)) => digits(text.trim()).map(Some).ok_or(NotAWholeNumber),
            Some(_) => Err(NotAWholeNumber),
        }
    }
}

fn whole_number(number: &Number) -> Option<i64> {
    if let Some(value) = number.as_i64() {
        return Some(value);
    }
    if number.as_u64().is_some() {
        return Some(i64::MAX);
    }
    let value = number.as_f64()?;
    // `as` saturates at the ends of the range.
    (value.is_finite() && value.fract() == 0.0).then_some(value as i64)
}

fn digits(text: &str) -> Option<i64> {
    let negative = text.starts_with('-');
    let unsigned = text.strip_prefix(['+', '-']).unwrap_or(text);
    if unsigned.is_empty() || !unsigned.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some(
        text.parse()
            .unwrap_or(if negative { i64::MIN } else { i64::MAX }),
    )
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn frame(value: Value) -> Frame {
        Frame::parse(value.to_string().as_bytes()).unwrap()
    }

    #[test]
    fn whole_numbers_in_any_spelling_are_integers() {
        for (value, expected) in [
            (json!(7), Some(7)),
            (json!(-3), Some(-3)),
            (json!(7.0), Some(7)),
            (json!(1e3), Some(1000)),
            (json!(u64::MAX), Some(i64::MAX)),
            (json!(1e30), Some(i64::MAX)),
            (json!(-1e30), Some(i64::MIN)),
            (json!("7"), Some(7)),
            (json!(" +7 "), Some(7)),
            (json!("-3"), Some(-3)),
            (json!("99999999999999999999999"), Some(i64::MAX)),
            (json!("-99999999999999999999999"), Some(i64::MIN)),
            (json!(""), None),
            (json!(null), None),
        ] {
            let got = frame(json!({ "n": value })).integer("n");
            assert_eq!(got, Ok(expected), "{value}");
        }
        assert_eq!(frame(json!({})).integer("n"), Ok(None));
    }

    #[test]
    fn anything_else_is_not_an_integer() {
        for value in [
            json!(1.5),
            json!(-0.5),
            json!("1.5"),
            json!("1e3"),
            json!("abc"),
            json!("-"),
            json!("7 8"),
            json!(true),
            json!([]),
            json!({}),
        ] {
            assert_eq!(
                frame(json!({ "n": value })).integer("n"),
                Err(NotAWholeNumber),
                "{value}"
            );
        }
    }

    #[test]
    fn strings_with_nul_are_refused() {
        let parsed = frame(json!({"token": "ab\u{0}c", "method": "x"}));
        assert!(matches!(
            parsed.string("token"),
            Err(ApiError::Client(Alert::RequestNulCharacter))
        ));
        assert_eq!(parsed.string("method").unwrap(), Some("x"));
        assert!(matches!(
            frame(json!({"token": 1})).string("token"),
            Err(ApiError::Client(Alert::RequestInvalidField))
        ));
    }
}
