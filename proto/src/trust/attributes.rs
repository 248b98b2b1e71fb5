//! Credential attributes: a string→string map signed into every credential
//! and granted to the peer on admission (trust-registry.md §1.3, §1.8).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Caller roles/capabilities, comma-separated (`ops.status,ops.logs`) (§1.8).
pub const ATTR_ROLE: &str = "aster.role";
/// Handle/label of the peer.
pub const ATTR_NAME: &str = "aster.name";
/// Cloud instance-identity provider (`aws`/`gcp`/`azure`); its presence asks
/// for an IID check, which this port does not implement (§1.7).
pub const ATTR_IID_PROVIDER: &str = "aster.iid_provider";
pub const ATTR_IID_ACCOUNT: &str = "aster.iid_account";
pub const ATTR_IID_REGION: &str = "aster.iid_region";
pub const ATTR_IID_ROLE_ARN: &str = "aster.iid_role_arn";

/// An attribute map that keeps insertion order.
///
/// Order matters only for the JSON forms: the reference writes attributes in
/// the order it read them (a Python `dict`), so keeping it makes our files
/// and `credential_json` byte-identical to the reference's. The signature
/// covers the *sorted* canonical form ([`Attributes::canonical_json`]), and
/// equality ignores order. Inserting an existing key replaces its value in
/// place, as a Python `dict` (and therefore the reference's JSON reader with
/// a duplicated key) does. Lookups are linear: attribute maps hold a handful
/// of entries.
#[derive(Clone, Default, Eq)]
pub struct Attributes {
    entries: Vec<(String, String)>,
}

impl Attributes {
    pub fn new() -> Attributes {
        Attributes::default()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key`, keeping its position if present; returns the old value.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        let key = key.into();
        let value = value.into();
        match self.entries.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => Some(std::mem::replace(v, value)),
            None => {
                self.entries.push((key, value));
                None
            }
        }
    }

    pub fn remove(&mut self, key: &str) -> Option<String> {
        let at = self.entries.iter().position(|(k, _)| k == key)?;
        Some(self.entries.remove(at).1)
    }

    /// Entries in insertion order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> + '_ {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The canonical JSON that the signature covers (trust-registry.md §1.4):
    /// UTF-8, keys sorted, `,`/`:` separators, non-ASCII unescaped; `{}` when
    /// empty.
    pub fn canonical_json(&self) -> String {
        super::pyjson::canonical_attributes(self)
    }

    /// The caller's roles (trust-registry.md §1.8): `aster.role` split on `,`,
    /// each trimmed, empty ones dropped, duplicates kept once, in order.
    /// No `aster.role` means no roles.
    pub fn roles(&self) -> Vec<&str> {
        let mut roles: Vec<&str> = Vec::new();
        for role in self.get(ATTR_ROLE).unwrap_or("").split(',').map(str::trim) {
            if !role.is_empty() && !roles.contains(&role) {
                roles.push(role);
            }
        }
        roles
    }

    /// A sorted copy, for APIs that take a `BTreeMap` (the admission answer).
    pub fn to_btree(&self) -> BTreeMap<String, String> {
        self.entries.iter().cloned().collect()
    }
}

/// Order-insensitive: two maps with the same pairs are the same attributes
/// (they sign to the same bytes).
impl PartialEq for Attributes {
    fn eq(&self, other: &Attributes) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl fmt::Debug for Attributes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Attributes {
        let mut attrs = Attributes::new();
        for (k, v) in iter {
            attrs.insert(k, v);
        }
        attrs
    }
}

impl From<BTreeMap<String, String>> for Attributes {
    fn from(map: BTreeMap<String, String>) -> Attributes {
        Attributes {
            entries: map.into_iter().collect(),
        }
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// Reads a map of strings in document order. A non-string value is an error
/// naming the key: the reference would sign whatever JSON value it found,
/// but its own tools only ever write strings, and our model is string→string.
impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Attributes, D::Error> {
        struct AttrVisitor;
        impl<'de> Visitor<'de> for AttrVisitor {
            type Value = Attributes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of string attributes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Attributes, A::Error> {
                let mut attrs = Attributes::new();
                while let Some(key) = access.next_key::<String>()? {
                    let value = access.next_value::<StringValue>().map_err(|_| {
                        serde::de::Error::custom(format_args!("attribute {key:?} is not a string"))
                    })?;
                    attrs.insert(key, value.0);
                }
                Ok(attrs)
            }
        }
        deserializer.deserialize_map(AttrVisitor)
    }
}

/// A value that must be a string (gives a clear error for anything else).
struct StringValue(String);

impl<'de> Deserialize<'de> for StringValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<StringValue, D::Error> {
        String::deserialize(deserializer).map(StringValue)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_follow_the_reference() {
        let attrs = Attributes::from_iter([(ATTR_ROLE, " ops.status, ops.logs ,,ops.status")]);
        assert_eq!(attrs.roles(), ["ops.status", "ops.logs"]);
        assert!(Attributes::new().roles().is_empty());
        assert!(
            Attributes::from_iter([(ATTR_ROLE, " , ")])
                .roles()
                .is_empty()
        );
    }

    #[test]
    fn order_kept_equality_ignores_it() {
        let mut a = Attributes::from_iter([("z", "1"), ("a", "2")]);
        assert_eq!(a.iter().map(|(k, _)| k).collect::<Vec<_>>(), ["z", "a"]);
        assert_eq!(a.insert("z", "3"), Some("1".into()));
        assert_eq!(a.iter().next(), Some(("z", "3")));
        assert_eq!(a, Attributes::from_iter([("a", "2"), ("z", "3")]));
        assert_ne!(a, Attributes::from_iter([("a", "2")]));
        let parsed: Attributes = serde_json::from_str(r#"{"b":"1","a":"2","b":"3"}"#).unwrap();
        assert_eq!(parsed.iter().collect::<Vec<_>>(), [("b", "3"), ("a", "2")]);
        let err = serde_json::from_str::<Attributes>(r#"{"n":1}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("attribute \"n\" is not a string"), "{err}");
    }
}
