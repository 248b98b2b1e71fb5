//! Header metadata limits (spec §3.8).

use crate::limits::{
    MAX_METADATA_ENTRIES, MAX_METADATA_KEY_LEN, MAX_METADATA_TOTAL_BYTES, MAX_METADATA_VALUE_LEN,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("metadata entries exceeds limit of {MAX_METADATA_ENTRIES} (got {0})")]
    TooManyEntries(usize),
    #[error("metadata key length exceeds limit of {MAX_METADATA_KEY_LEN} (got {0})")]
    KeyTooLong(usize),
    #[error("metadata value length exceeds limit of {MAX_METADATA_VALUE_LEN} (got {0})")]
    ValueTooLong(usize),
    #[error("metadata total bytes exceeds limit of {MAX_METADATA_TOTAL_BYTES} (got {0})")]
    TooLarge(usize),
}

/// Checks parallel key/value lists against the limits, in the reference's
/// order (count, keys, values, total). Lengths are in characters, the total
/// in UTF-8 bytes.
pub fn check_metadata(keys: &[String], values: &[String]) -> Result<(), MetadataError> {
    if keys.len() > MAX_METADATA_ENTRIES {
        return Err(MetadataError::TooManyEntries(keys.len()));
    }
    let mut total = 0;
    for k in keys {
        let n = k.chars().count();
        if n > MAX_METADATA_KEY_LEN {
            return Err(MetadataError::KeyTooLong(n));
        }
        total += k.len();
    }
    for v in values {
        let n = v.chars().count();
        if n > MAX_METADATA_VALUE_LEN {
            return Err(MetadataError::ValueTooLong(n));
        }
        total += v.len();
    }
    if total > MAX_METADATA_TOTAL_BYTES {
        return Err(MetadataError::TooLarge(total));
    }
    Ok(())
}

/// Zips keys and values into pairs (extras dropped, later duplicates win when
/// the pairs are collected into a map).
pub(crate) fn pairs(keys: &[String], values: &[String]) -> Vec<(String, String)> {
    keys.iter().cloned().zip(values.iter().cloned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(n: usize, len: usize) -> Vec<String> {
        (0..n).map(|_| "k".repeat(len)).collect()
    }

    #[test]
    fn limits() {
        assert!(check_metadata(&strings(64, 1), &strings(64, 1)).is_ok());
        assert_eq!(
            check_metadata(&strings(65, 1), &strings(65, 1)),
            Err(MetadataError::TooManyEntries(65))
        );
        assert_eq!(
            check_metadata(&strings(1, 257), &strings(1, 1)),
            Err(MetadataError::KeyTooLong(257))
        );
        assert_eq!(
            check_metadata(&strings(1, 1), &strings(1, 4097)),
            Err(MetadataError::ValueTooLong(4097))
        );
        assert_eq!(
            check_metadata(&strings(3, 1), &strings(3, 4000)),
            Err(MetadataError::TooLarge(12003))
        );
    }
}
