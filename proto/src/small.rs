//! Collections that keep their first few entries inline.
//!
//! Every call builds a handful of short-lived tables: the meta-string table
//! of each payload it encodes or decodes, the event queue of its stream. They
//! almost always hold one to four entries, and a heap allocation for each
//! would be a large share of a call's cost. These keep `N` entries in place
//! and spill to the heap only past that, so the common case allocates
//! nothing and the rare large one still works.

use std::collections::VecDeque;
use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest string a [`SmallString`] keeps in place.
const INLINE_STR: usize = 30;

/// A string kept in place up to 30 bytes, on the heap beyond.
///
/// Service and method names travel in every stream header. Held as
/// `String`, each call would allocate them twice: once to build the header
/// on the client, once to decode it on the server. Names are short, so this
/// type makes both free; it reads like a `&str` (it derefs to one).
#[derive(Clone)]
pub struct SmallString(Repr);

#[derive(Clone)]
enum Repr {
    /// `bytes[..len]` is valid UTF-8: it was copied from a `str`.
    Inline {
        len: u8,
        bytes: [u8; INLINE_STR],
    },
    Heap(Box<str>),
}

impl SmallString {
    pub fn new(s: &str) -> SmallString {
        match u8::try_from(s.len()) {
            Ok(len) if s.len() <= INLINE_STR => {
                let mut bytes = [0; INLINE_STR];
                bytes[..s.len()].copy_from_slice(s.as_bytes());
                SmallString(Repr::Inline { len, bytes })
            }
            _ => SmallString(Repr::Heap(s.into())),
        }
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            // Always valid (see `Repr::Inline`); checking costs a few
            // nanoseconds and keeps the crate free of `unsafe`.
            Repr::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Repr::Heap(s) => s,
        }
    }
}

impl Default for SmallString {
    fn default() -> Self {
        SmallString::new("")
    }
}

impl Deref for SmallString {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SmallString {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for SmallString {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for SmallString {
    fn from(s: &str) -> Self {
        SmallString::new(s)
    }
}

impl From<&String> for SmallString {
    fn from(s: &String) -> Self {
        SmallString::new(s)
    }
}

impl From<String> for SmallString {
    /// A long string moves to the heap form without a copy.
    fn from(s: String) -> Self {
        if s.len() <= INLINE_STR {
            SmallString::new(&s)
        } else {
            SmallString(Repr::Heap(s.into_boxed_str()))
        }
    }
}

impl From<SmallString> for String {
    fn from(s: SmallString) -> Self {
        match s.0 {
            Repr::Heap(b) => b.into_string(),
            Repr::Inline { .. } => s.as_str().to_owned(),
        }
    }
}

impl PartialEq for SmallString {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SmallString {}

impl PartialEq<str> for SmallString {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SmallString {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SmallString {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl std::hash::Hash for SmallString {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl fmt::Debug for SmallString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SmallString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for SmallString {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SmallString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(SmallString::from)
    }
}

/// An append-only list of `Copy` entries: `N` inline, the rest on the heap.
#[derive(Debug, Clone)]
pub(crate) struct InlineVec<T: Copy, const N: usize> {
    inline: [Option<T>; N],
    spill: Vec<T>,
    len: usize,
}

impl<T: Copy, const N: usize> InlineVec<T, N> {
    pub fn new() -> Self {
        InlineVec {
            inline: [None; N],
            spill: Vec::new(),
            len: 0,
        }
    }

    pub fn push(&mut self, value: T) {
        match self.inline.get_mut(self.len) {
            Some(slot) => *slot = Some(value),
            None => self.spill.push(value),
        }
        self.len += 1;
    }

    pub fn get(&self, index: usize) -> Option<T> {
        match self.inline.get(index) {
            Some(slot) => *slot,
            None => self.spill.get(index - N).copied(),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.inline
            .iter()
            .map_while(|slot| *slot)
            .chain(self.spill.iter().copied())
    }
}

impl<T: Copy, const N: usize> Default for InlineVec<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

/// A FIFO queue: up to `N` entries in a ring in place, more in a heap queue
/// behind them (every ring entry is older than every spilled one).
#[derive(Debug)]
pub(crate) struct InlineQueue<T, const N: usize> {
    ring: [Option<T>; N],
    head: usize,
    len: usize,
    spill: VecDeque<T>,
}

impl<T, const N: usize> InlineQueue<T, N> {
    pub fn new() -> Self {
        InlineQueue {
            ring: std::array::from_fn(|_| None),
            head: 0,
            len: 0,
            spill: VecDeque::new(),
        }
    }

    /// Ring slot `i` places after the head (`i < N`), without a division.
    fn slot(&self, i: usize) -> usize {
        let at = self.head + i;
        if at >= N { at - N } else { at }
    }

    pub fn push_back(&mut self, value: T) {
        if self.len < N && self.spill.is_empty() {
            let at = self.slot(self.len);
            self.ring[at] = Some(value);
            self.len += 1;
        } else {
            self.spill.push_back(value);
        }
    }

    pub fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let value = self.ring[self.head].take();
        self.head = self.slot(1);
        self.len -= 1;
        // Keep the ring holding the oldest entries.
        if let Some(next) = self.spill.pop_front() {
            let at = self.slot(self.len);
            self.ring[at] = Some(next);
            self.len += 1;
        }
        value
    }

    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl<T, const N: usize> Default for InlineQueue<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Both sides of the inline limit, by byte length.
    #[test]
    fn small_string_at_every_length() {
        for n in 0..=2 * INLINE_STR {
            let s = "x".repeat(n);
            let small = SmallString::new(&s);
            assert_eq!(small.as_str(), s);
            assert_eq!(matches!(small.0, Repr::Inline { .. }), n <= INLINE_STR);
            assert_eq!(SmallString::from(s.clone()), small);
        }
        // A multi-byte char straddling the limit still round-trips.
        let s = format!("{}é", "x".repeat(INLINE_STR - 1));
        assert_eq!(SmallString::new(&s).as_str(), s);
    }

    proptest! {
        /// Any string survives, whichever form holds it, and compares,
        /// hashes and converts like the `String` it came from.
        #[test]
        fn small_string_is_a_string(s in ".{0,40}") {
            let small = SmallString::new(&s);
            prop_assert_eq!(small.as_str(), s.as_str());
            prop_assert_eq!(&SmallString::from(s.clone()), &small);
            prop_assert_eq!(String::from(small.clone()), s.clone());
            prop_assert_eq!(format!("{small}"), s.clone());
            prop_assert_eq!(format!("{small:?}"), format!("{s:?}"));
            let json = serde_json::to_string(&small).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&json, &serde_json::to_string(&s).map_err(|e| TestCaseError::fail(e.to_string()))?);
            let back: SmallString = serde_json::from_str(&json).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(back, small);
        }

        /// Pushes and gets agree with a `Vec` whatever the length.
        #[test]
        fn inline_vec_is_a_vec(values in proptest::collection::vec(any::<u16>(), 0..20)) {
            let mut v = InlineVec::<u16, 4>::new();
            for &x in &values {
                v.push(x);
            }
            prop_assert_eq!(v.iter().collect::<Vec<_>>(), values.clone());
            for (i, &x) in values.iter().enumerate() {
                prop_assert_eq!(v.get(i), Some(x));
            }
            prop_assert_eq!(v.get(values.len()), None);
        }

        /// Any interleaving of pushes and pops matches a `VecDeque`.
        #[test]
        fn inline_queue_is_a_queue(ops in proptest::collection::vec(any::<Option<u16>>(), 0..64)) {
            let mut q = InlineQueue::<u16, 2>::new();
            let mut model = VecDeque::new();
            for op in ops {
                match op {
                    Some(x) => {
                        q.push_back(x);
                        model.push_back(x);
                    }
                    None => prop_assert_eq!(q.pop_front(), model.pop_front()),
                }
                prop_assert_eq!(q.is_empty(), model.is_empty());
            }
            while let Some(x) = model.pop_front() {
                prop_assert_eq!(q.pop_front(), Some(x));
            }
            prop_assert_eq!(q.pop_front(), None);
        }
    }
}
