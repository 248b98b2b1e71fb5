//! Reading a manifest: 0.1.2's `ContractManifest.from_json`, bounded and
//! tolerant as the [module doc](super#reading) describes.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::call::Pattern;

use super::{
    CANONICAL_ENCODING, DefaultKind, FIELD_SCHEMA_VERSION, MAX_MANIFEST_FIELDS_PER_METHOD,
    MAX_MANIFEST_METHODS, MAX_MANIFEST_TYPE_HASHES, Manifest, ManifestField, ManifestMethod,
    ModeToken, ValueKind,
};

/// A manifest that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Not JSON, or a known key holds a value of the wrong shape (the
    /// message names it, with line and column).
    #[error("invalid contract manifest: {0}")]
    Json(#[from] serde_json::Error),
}

impl Manifest {
    /// Reads one manifest object.
    pub fn from_json(text: &str) -> Result<Manifest, ManifestError> {
        Ok(serde_json::from_str(text)?)
    }

    /// Reads a manifest file as the reference's startup check does: one
    /// manifest object, or a JSON array of them (`contract gen` with several
    /// services). The array is capped at [`MAX_MANIFEST_METHODS`] entries.
    pub fn from_json_many(text: &str) -> Result<Vec<Manifest>, ManifestError> {
        // Decide on the first token: an untagged enum would buffer the whole
        // document before the caps apply.
        if text.trim_start().starts_with('[') {
            let mut de = serde_json::Deserializer::from_str(text);
            let list = cap_methods(&mut de)?;
            de.end()?;
            Ok(list)
        } else {
            Ok(vec![Manifest::from_json(text)?])
        }
    }
}

// ---------------------------------------------------------------------------
// Raw shapes (every key optional, unknown keys ignored)
// ---------------------------------------------------------------------------

// `expecting`: errors say "expected a ContractManifest object".
#[derive(Deserialize)]
#[serde(expecting = "a ContractManifest object")]
pub(super) struct RawManifest {
    #[serde(default, deserialize_with = "py_int_opt")]
    v: Option<i64>,
    #[serde(default, deserialize_with = "or_default")]
    service: String,
    #[serde(default, deserialize_with = "py_int_opt")]
    version: Option<i64>,
    #[serde(default, deserialize_with = "or_default")]
    contract_id: String,
    #[serde(default, deserialize_with = "or_default")]
    canonical_encoding: Option<String>,
    #[serde(default, deserialize_with = "py_int_opt")]
    type_count: Option<i64>,
    #[serde(default, deserialize_with = "cap_hashes")]
    type_hashes: Vec<String>,
    #[serde(default, deserialize_with = "py_int_opt")]
    method_count: Option<i64>,
    #[serde(default, deserialize_with = "cap_methods")]
    methods: Vec<ManifestMethod>,
    #[serde(default, deserialize_with = "or_default")]
    serialization_modes: Vec<ModeToken>,
    #[serde(default, deserialize_with = "or_default")]
    scoped: Option<String>,
    #[serde(default, deserialize_with = "or_default")]
    deprecated: bool,
    #[serde(default)]
    semver: Option<String>,
    #[serde(default)]
    vcs_revision: Option<String>,
    #[serde(default)]
    vcs_tag: Option<String>,
    #[serde(default)]
    vcs_url: Option<String>,
    #[serde(default)]
    changelog: Option<String>,
    #[serde(default, deserialize_with = "or_default")]
    published_by: String,
    #[serde(default, deserialize_with = "py_int_opt")]
    published_at_epoch_ms: Option<i64>,
}

impl From<RawManifest> for Manifest {
    /// Missing keys take the dataclass defaults; a missing `v` is the
    /// legacy schema, upgraded to [`FIELD_SCHEMA_VERSION`].
    fn from(r: RawManifest) -> Manifest {
        Manifest {
            v: r.v.unwrap_or(FIELD_SCHEMA_VERSION),
            service: r.service,
            version: r.version.unwrap_or(1),
            contract_id: r.contract_id,
            canonical_encoding: r
                .canonical_encoding
                .unwrap_or_else(|| CANONICAL_ENCODING.to_owned()),
            type_count: r.type_count.unwrap_or(0),
            type_hashes: r.type_hashes,
            method_count: r.method_count.unwrap_or(0),
            methods: r.methods,
            serialization_modes: r.serialization_modes,
            scoped: r.scoped.unwrap_or_else(|| "shared".to_owned()),
            deprecated: r.deprecated,
            semver: r.semver,
            vcs_revision: r.vcs_revision,
            vcs_tag: r.vcs_tag,
            vcs_url: r.vcs_url,
            changelog: r.changelog,
            published_by: r.published_by,
            published_at_epoch_ms: r.published_at_epoch_ms.unwrap_or(0),
        }
    }
}

#[derive(Deserialize)]
#[serde(expecting = "a manifest method object")]
pub(super) struct RawMethod {
    name: String,
    #[serde(deserialize_with = "pattern")]
    pattern: Pattern,
    #[serde(default, deserialize_with = "or_default")]
    request_type: String,
    #[serde(default, deserialize_with = "or_default")]
    response_type: String,
    #[serde(default, deserialize_with = "or_default")]
    request_wire_tag: String,
    #[serde(default, deserialize_with = "or_default")]
    response_wire_tag: String,
    #[serde(default)]
    timeout: Option<Number>,
    #[serde(default, deserialize_with = "or_default")]
    idempotent: bool,
    #[serde(default, deserialize_with = "cap_fields")]
    fields: Vec<ManifestField>,
    #[serde(default, deserialize_with = "cap_fields")]
    response_fields: Vec<ManifestField>,
}

impl From<RawMethod> for ManifestMethod {
    fn from(r: RawMethod) -> ManifestMethod {
        ManifestMethod {
            name: r.name,
            pattern: r.pattern,
            request_type: r.request_type,
            response_type: r.response_type,
            request_wire_tag: r.request_wire_tag,
            response_wire_tag: r.response_wire_tag,
            timeout: r.timeout,
            idempotent: r.idempotent,
            fields: r.fields,
            response_fields: r.response_fields,
        }
    }
}

/// A field in the v1 schema, or in the legacy one (`type`, `default`,
/// `element_type`, `element_wire_tag`) when `kind` is absent.
#[derive(Deserialize)]
#[serde(expecting = "a manifest field object")]
pub(super) struct RawField {
    #[serde(default, deserialize_with = "or_default")]
    name: String,
    #[serde(default)]
    kind: Option<ValueKind>,
    #[serde(default, deserialize_with = "or_default")]
    nullable: bool,
    #[serde(default, deserialize_with = "or_default")]
    required: bool,
    #[serde(default)]
    default_value: Value,
    #[serde(default)]
    default_kind: Option<DefaultKind>,
    #[serde(default)]
    ref_name: Option<String>,
    #[serde(default)]
    wire_tag: Option<String>,
    #[serde(default)]
    enum_values: Option<Vec<Value>>,
    #[serde(default)]
    item_kind: Option<ValueKind>,
    #[serde(default)]
    item_ref: Option<String>,
    #[serde(default)]
    item_wire_tag: Option<String>,
    #[serde(default)]
    item_nullable: Option<bool>,
    #[serde(default)]
    key_kind: Option<ValueKind>,
    #[serde(default)]
    value_kind: Option<ValueKind>,
    #[serde(default)]
    value_ref: Option<String>,
    #[serde(default)]
    value_nullable: Option<bool>,
    #[serde(default, deserialize_with = "or_default")]
    properties: Map<String, Value>,
    // Legacy keys.
    #[serde(default, rename = "type")]
    legacy_type: Option<Value>,
    #[serde(default, rename = "default")]
    legacy_default: Value,
    #[serde(default, deserialize_with = "or_default")]
    element_type: String,
    #[serde(default, deserialize_with = "or_default")]
    element_wire_tag: String,
}

impl From<RawField> for ManifestField {
    fn from(r: RawField) -> ManifestField {
        match r.kind {
            Some(kind) => ManifestField {
                name: r.name,
                kind,
                nullable: r.nullable,
                required: r.required,
                default_value: r.default_value,
                default_kind: r.default_kind.unwrap_or(DefaultKind::None),
                ref_name: r.ref_name,
                wire_tag: r.wire_tag,
                enum_values: r.enum_values,
                item_kind: r.item_kind,
                item_ref: r.item_ref,
                item_wire_tag: r.item_wire_tag,
                item_nullable: r.item_nullable,
                key_kind: r.key_kind,
                value_kind: r.value_kind,
                value_ref: r.value_ref,
                value_nullable: r.value_nullable,
                properties: r.properties,
            },
            None => upgrade_legacy(r),
        }
    }
}

/// The reference's `upgrade_legacy_field`: the Python type string decides
/// the kind; the default and `required` decide `default_kind`.
fn upgrade_legacy(r: RawField) -> ManifestField {
    // `str(old.get("type", "string")).lower()`
    let type_text = match &r.legacy_type {
        None => "string".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) => "None".to_owned(),
        Some(other) => other.to_string(),
    };
    let t = type_text.to_lowercase();
    let mut f = ManifestField {
        name: r.name,
        kind: ValueKind::String,
        nullable: false,
        required: r.required,
        default_value: Value::Null,
        default_kind: DefaultKind::None,
        ref_name: None,
        wire_tag: None,
        enum_values: None,
        item_kind: None,
        item_ref: None,
        item_wire_tag: None,
        item_nullable: None,
        key_kind: None,
        value_kind: None,
        value_ref: None,
        value_nullable: None,
        properties: Map::new(),
    };
    match t.as_str() {
        "str" | "string" => {}
        "int" | "integer" => f.kind = ValueKind::Int,
        "float" | "double" => f.kind = ValueKind::Float,
        "bool" | "boolean" => f.kind = ValueKind::Bool,
        "bytes" => f.kind = ValueKind::Bytes,
        _ if t.starts_with("list") => {
            f.kind = ValueKind::List;
            f.item_nullable = Some(false);
            if r.element_wire_tag.is_empty() && r.element_type.is_empty() {
                f.item_kind = Some(ValueKind::String);
            } else {
                f.item_kind = Some(ValueKind::Ref);
                f.item_ref = Some(r.element_type);
                f.item_wire_tag = Some(r.element_wire_tag);
            }
        }
        _ if t.starts_with("dict") || t.starts_with("map") => {
            f.kind = ValueKind::Map;
            f.key_kind = Some(ValueKind::String);
            f.value_kind = Some(ValueKind::String);
            f.value_nullable = Some(false);
        }
        _ if t.starts_with("optional") => f.nullable = true,
        _ => {
            f.kind = ValueKind::Ref;
            f.ref_name = Some(if r.legacy_type.is_some() {
                type_text
            } else {
                String::new()
            });
            f.wire_tag = Some(r.wire_tag.unwrap_or_default());
        }
    }
    if !r.legacy_default.is_null() {
        f.default_kind = DefaultKind::Value;
        f.default_value = r.legacy_default;
    } else if !f.required {
        f.default_kind = match f.kind {
            ValueKind::List => DefaultKind::EmptyList,
            ValueKind::Map => DefaultKind::EmptyMap,
            _ if f.nullable => DefaultKind::Null,
            _ => DefaultKind::None,
        };
    }
    f
}

// ---------------------------------------------------------------------------
// Value readers
// ---------------------------------------------------------------------------

/// `null` reads as the type's default (the reference keeps `None`, which
/// its own readers then treat as absent).
fn or_default<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

fn pattern<'de, D: Deserializer<'de>>(d: D) -> Result<Pattern, D::Error> {
    let s = String::deserialize(d)?;
    [
        Pattern::Unary,
        Pattern::ServerStream,
        Pattern::ClientStream,
        Pattern::Bidi,
    ]
    .into_iter()
    .find(|p| p.name() == s)
    .ok_or_else(|| {
        de::Error::invalid_value(
            de::Unexpected::Str(&s),
            &"one of \"unary\", \"server_stream\", \"client_stream\", \"bidi_stream\"",
        )
    })
}

/// Python's `int()` of a JSON value: integers, floats truncated toward
/// zero, booleans, decimal strings (surrounding whitespace, a sign and
/// single `_` between digits allowed); `null` is `None`.
fn py_int_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct PyInt;
    impl<'de> Visitor<'de> for PyInt {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer (or a value Python's int() accepts)")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(i64::from(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v).map(Some).map_err(|_| {
                E::invalid_value(de::Unexpected::Unsigned(v), &"an integer below 2^63")
            })
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            let t = v.trunc();
            // [-2^63, 2^63): every f64 in it converts exactly.
            if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&t) {
                Ok(Some(t as i64))
            } else {
                Err(E::invalid_value(
                    de::Unexpected::Float(v),
                    &"a finite number within i64",
                ))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse_python_int(v)
                .map(Some)
                .ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &"a decimal integer"))
        }
    }
    d.deserialize_any(PyInt)
}

fn parse_python_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
    {
        return None;
    }
    let mut n: i64 = 0;
    for c in digits.chars().filter(|&c| c != '_') {
        let d = i64::from(c.to_digit(10)?);
        n = n.checked_mul(10)?;
        n = if neg {
            n.checked_sub(d)?
        } else {
            n.checked_add(d)?
        };
    }
    Some(n)
}

/// A JSON array (or `null`, read as empty) of which only the first `cap`
/// elements are kept; the rest are read and dropped without being stored.
fn capped<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
    cap: usize,
) -> Result<Vec<T>, D::Error> {
    struct Capped<T> {
        cap: usize,
        marker: PhantomData<T>,
    }
    impl<'de, T: Deserialize<'de>> Visitor<'de> for Capped<T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.cap).min(1024));
            while out.len() < self.cap {
                match seq.next_element()? {
                    Some(v) => out.push(v),
                    None => return Ok(out),
                }
            }
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(out)
        }
    }
    d.deserialize_any(Capped {
        cap,
        marker: PhantomData,
    })
}

fn cap_methods<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    capped(d, MAX_MANIFEST_METHODS)
}

fn cap_fields<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ManifestField>, D::Error> {
    capped(d, MAX_MANIFEST_FIELDS_PER_METHOD)
}

fn cap_hashes<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    capped(d, MAX_MANIFEST_TYPE_HASHES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_strings() {
        assert_eq!(parse_python_int(" 42 "), Some(42));
        assert_eq!(parse_python_int("-1_000"), Some(-1000));
        assert_eq!(parse_python_int("+7"), Some(7));
        assert_eq!(parse_python_int("-9223372036854775808"), Some(i64::MIN));
        for bad in [
            "",
            "-",
            "1__0",
            "_1",
            "1_",
            "1.5",
            "0x10",
            "9223372036854775808",
        ] {
            assert_eq!(parse_python_int(bad), None, "{bad:?}");
        }
    }
}
