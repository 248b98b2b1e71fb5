//! Unicode NFC and the code-point order used for canonical sorting.
//!
//! Spec: wire.md §5.5. G1 NFC-normalises only two things: capability roles
//! (normalised *and* written normalised) and the sort key of methods (and of
//! SCC members when choosing where a cycle is cut). Every other identifier is
//! written exactly as given, NFD included. "Sorted" always means by Unicode
//! code point; for Rust strings that is the same as `str`'s `Ord` (UTF-8 byte
//! order preserves code-point order), and unlike UTF-16 order it puts
//! U+FF21 before U+1F600.

use std::cmp::Ordering;

use unicode_normalization::UnicodeNormalization;

/// The NFC form of `s`.
pub fn nfc(s: &str) -> String {
    s.nfc().collect()
}

/// Compares the NFC forms of `a` and `b` by code point, without allocating.
pub fn cmp_nfc(a: &str, b: &str) -> Ordering {
    a.nfc().cmp(b.nfc())
}
