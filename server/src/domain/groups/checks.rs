//! Limits on what users write into a group (V2TIM's): profile field lengths, custom fields,
//! attributes.

use std::collections::BTreeMap;

use oxim_proto::code;
use oxim_proto::group::limits;

use crate::domain::refusal::Refusal;

fn invalid(desc: String) -> Refusal {
    Refusal::new(code::SVR_GROUP_INVALID_PARAMETERS, desc)
}

/// `value` (a field called `what`) is at most `max` bytes.
pub fn check_len(what: &str, value: &str, max: usize) -> Result<(), Refusal> {
    if value.len() > max {
        return Err(invalid(format!("{what} is {} bytes; at most {max}", value.len())));
    }
    Ok(())
}

/// Custom fields: keys 1–16 bytes, values at most 512.
pub fn check_custom(info: &BTreeMap<String, String>) -> Result<(), Refusal> {
    for (k, v) in info {
        if k.is_empty() || k.len() > limits::CUSTOM_KEY || v.len() > limits::CUSTOM_VALUE {
            return Err(invalid(format!("custom field {k:?} exceeds 16/512 bytes")));
        }
    }
    Ok(())
}

/// Attributes: at most 16 keys, none empty, 4 KB each (key + value), 16 KB in all.
pub fn check_attrs(attrs: &BTreeMap<String, (String, u64)>) -> Result<(), Refusal> {
    if attrs.len() > limits::ATTR_KEYS {
        return Err(invalid(format!("at most {} attributes", limits::ATTR_KEYS)));
    }
    let mut total = 0;
    for (k, (v, _)) in attrs {
        if k.is_empty() {
            return Err(invalid("an attribute key is empty".into()));
        }
        let size = k.len() + v.len();
        if size > limits::ATTR_BYTES {
            return Err(invalid(format!("attribute {k:?} is {size} bytes; at most {}", limits::ATTR_BYTES)));
        }
        total += size;
    }
    if total > limits::ATTR_TOTAL_BYTES {
        return Err(invalid(format!("attributes are {total} bytes; at most {}", limits::ATTR_TOTAL_BYTES)));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_refuse_with_10004() {
        assert!(check_len("name", "abc", 3).is_ok());
        assert_eq!(check_len("name", "abcd", 3).unwrap_err().code, 10004);
        let custom = |k: &str, v: usize| BTreeMap::from([(k.to_owned(), "v".repeat(v))]);
        assert!(check_custom(&custom("level", 512)).is_ok());
        assert!(check_custom(&custom("level", 513)).is_err());
        assert!(check_custom(&custom("", 1)).is_err());
        assert!(check_custom(&custom(&"k".repeat(17), 1)).is_err());
        let attrs = |n: usize, size: usize| -> BTreeMap<String, (String, u64)> {
            (0..n).map(|i| (format!("k{i:02}"), ("v".repeat(size), 1))).collect()
        };
        assert!(check_attrs(&attrs(16, 100)).is_ok());
        assert!(check_attrs(&attrs(17, 1)).is_err(), "17 keys");
        assert!(check_attrs(&attrs(1, 4096)).is_err(), "one over 4 KB with its key");
        assert!(check_attrs(&attrs(5, 4000)).is_err(), "20 KB in all");
    }
}
