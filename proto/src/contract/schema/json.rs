//! JSON ⇄ [`Value`] along a [`DynType`], spelled exactly as JSON mode spells
//! the same Rust type (spec §4.5, [`crate::codec::json`]): bytes as standard
//! base64, enums as their spelling (the variant name), map keys as strings,
//! non-finite floats as `null`; strict on input (unknown keys refused with
//! the reference's contract-violation message, values of the wrong kind or
//! range refused), missing fields filled with defaults (rule 7).

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Number, Value as Json};

use crate::codec::json::{python_repr, unexpected_fields};
use crate::status::Status;
use crate::xlang::MAX_DEPTH;
use crate::xlang::dynamic::{DynField, DynType, Registry, TypeDef as DynTypeDef, Value};

use super::{EnumSchema, MessageError, StructSchema, UNKNOWN_ENUM_VARIANTS};

/// JSON that does not fit its type. The messages are JSON mode's (§4.5.2),
/// so a dynamic client reports what a JSON-mode server would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonValueError {
    #[error("contract violation at {path}: expected {expected}, got {got}")]
    Mismatch {
        path: String,
        expected: String,
        got: &'static str,
    },
    #[error("{}", unexpected_text(.path, .unexpected, .expected))]
    UnexpectedFields {
        path: String,
        unexpected: Vec<String>,
        expected: Vec<String>,
    },
    #[error("contract violation at {path}: nesting deeper than {limit} levels")]
    TooDeep { path: String, limit: u32 },
}

fn unexpected_text(path: &str, unexpected: &[String], expected: &[String]) -> String {
    let unexpected: Vec<&str> = unexpected.iter().map(String::as_str).collect();
    let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
    unexpected_fields(path, &unexpected, &expected).message
}

impl JsonValueError {
    /// Where in the message the problem is (`Query.items[2].name`).
    pub fn path(&self) -> &str {
        match self {
            JsonValueError::Mismatch { path, .. }
            | JsonValueError::UnexpectedFields { path, .. }
            | JsonValueError::TooDeep { path, .. } => path,
        }
    }

    /// CONTRACT_VIOLATION (101), as JSON mode answers (§4.6).
    pub fn to_status(&self) -> Status {
        Status::contract_violation(self.to_string())
    }
}

fn kind_of(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn mismatch(path: &str, expected: impl Into<String>, got: &Json) -> JsonValueError {
    JsonValueError::Mismatch {
        path: path.to_owned(),
        expected: expected.into(),
        got: kind_of(got),
    }
}

/// Converts with one registry's types; `defaults` (the schema's structs)
/// supplies rule 7's manifest defaults when encoding.
pub(super) struct JsonCodec<'a> {
    pub registry: &'a Registry,
    pub enums: &'a BTreeMap<String, EnumSchema>,
    pub defaults: Option<&'a BTreeMap<String, StructSchema>>,
}

impl JsonCodec<'_> {
    /// JSON → value of type `ty`. `path` is the position so far.
    pub fn to_value(
        &self,
        ty: &DynType,
        json: &Json,
        path: &mut String,
        depth: u32,
    ) -> Result<Value, JsonValueError> {
        if depth > MAX_DEPTH {
            return Err(JsonValueError::TooDeep {
                path: path.clone(),
                limit: MAX_DEPTH,
            });
        }
        let int = |min: i64, max: i64, what: &str| {
            json.as_i64()
                .filter(|i| (min..=max).contains(i))
                .map(Value::Int)
                .ok_or_else(|| mismatch(path, format!("an integer fitting {what}"), json))
        };
        Ok(match ty {
            DynType::Optional(inner) => {
                if json.is_null() {
                    Value::Null
                } else {
                    self.to_value(inner, json, path, depth)?
                }
            }
            DynType::Bool => Value::Bool(
                json.as_bool()
                    .ok_or_else(|| mismatch(path, "a boolean", json))?,
            ),
            DynType::Int8 => int(i8::MIN.into(), i8::MAX.into(), "i8")?,
            DynType::Int16 => int(i16::MIN.into(), i16::MAX.into(), "i16")?,
            DynType::Int32 => int(i32::MIN.into(), i32::MAX.into(), "i32")?,
            DynType::Int64 => int(i64::MIN, i64::MAX, "i64")?,
            DynType::Float32 | DynType::Float64 => Value::Float(
                json.as_f64()
                    .ok_or_else(|| mismatch(path, "a number", json))?,
            ),
            DynType::String => Value::String(
                json.as_str()
                    .ok_or_else(|| mismatch(path, "a string", json))?
                    .to_owned(),
            ),
            DynType::Bytes => {
                let text = json
                    .as_str()
                    .ok_or_else(|| mismatch(path, "base64 bytes", json))?;
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(text)
                    .map_err(|_| mismatch(path, "base64 bytes", json))?;
                Value::Bytes(bytes)
            }
            DynType::List(elem) => {
                let items = json
                    .as_array()
                    .ok_or_else(|| mismatch(path, "an array", json))?;
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    out.push(self.to_value(elem, item, path, depth + 1)?);
                    path.truncate(len);
                }
                Value::List(out)
            }
            DynType::Map(kt, vt) => {
                let map = json
                    .as_object()
                    .ok_or_else(|| mismatch(path, "an object", json))?;
                let mut out = Vec::with_capacity(map.len());
                for (k, v) in map {
                    let len = path.len();
                    path.push_str(&format!("[{}]", python_repr(k)));
                    let key = self.key(kt, k, path, depth + 1)?;
                    out.push((key, self.to_value(vt, v, path, depth + 1)?));
                    path.truncate(len);
                }
                Value::Map(out)
            }
            DynType::Named(tag) => match self.registry.get(tag) {
                Some(DynTypeDef::Enum { .. }) => self.enum_value(tag, json, path)?,
                Some(DynTypeDef::Struct { fields, .. }) => {
                    self.struct_value(tag, fields, json, path, depth)?
                }
                None => {
                    return Err(mismatch(
                        path,
                        format!("a value of unknown type `{tag}`"),
                        json,
                    ));
                }
            },
        })
    }

    /// JSON mode's map keys: the text as a string first, then as JSON text.
    fn key(
        &self,
        kt: &DynType,
        key: &str,
        path: &mut String,
        depth: u32,
    ) -> Result<Value, JsonValueError> {
        let as_string = Json::String(key.to_owned());
        if let Ok(v) = self.to_value(kt, &as_string, path, depth) {
            return Ok(v);
        }
        let parsed: Json = serde_json::from_str(key)
            .map_err(|_| mismatch(path, "a key of the declared type", &as_string))?;
        self.to_value(kt, &parsed, path, depth)
    }

    fn enum_value(&self, tag: &str, json: &Json, path: &str) -> Result<Value, JsonValueError> {
        let Some(e) = self.enums.get(tag) else {
            return Err(mismatch(path, format!("a variant of {tag}"), json));
        };
        if e.spellings.is_empty() {
            // Rule 4: the ordinal, for an enum nothing describes.
            return json
                .as_u64()
                .filter(|n| *n < u64::from(UNKNOWN_ENUM_VARIANTS))
                .map(|n| Value::Enum(n as u32))
                .ok_or_else(|| {
                    mismatch(
                        path,
                        format!("an enum ordinal below {UNKNOWN_ENUM_VARIANTS}"),
                        json,
                    )
                });
        }
        e.spellings
            .iter()
            .position(|s| s == json)
            .and_then(|i| u32::try_from(i).ok())
            .map(Value::Enum)
            .ok_or_else(|| mismatch(path, format!("a variant of {}", e.display), json))
    }

    fn struct_value(
        &self,
        tag: &str,
        fields: &[DynField],
        json: &Json,
        path: &mut String,
        depth: u32,
    ) -> Result<Value, JsonValueError> {
        let map = json
            .as_object()
            .ok_or_else(|| mismatch(path, "an object", json))?;
        let unexpected: Vec<String> = map
            .keys()
            .filter(|k| !fields.iter().any(|f| f.name == **k))
            .cloned()
            .collect();
        if !unexpected.is_empty() {
            return Err(JsonValueError::UnexpectedFields {
                path: path.clone(),
                unexpected,
                expected: fields.iter().map(|f| f.name.clone()).collect(),
            });
        }
        let mut values = Vec::with_capacity(fields.len());
        for (i, f) in fields.iter().enumerate() {
            let len = path.len();
            path.push('.');
            path.push_str(&f.name);
            values.push(match map.get(&f.name) {
                Some(v) => self.to_value(&f.ty, v, path, depth + 1)?,
                None => self.field_default(tag, i, &f.ty, path, depth + 1)?,
            });
            path.truncate(len);
        }
        Ok(Value::Struct(values))
    }

    /// Rule 7: the manifest default, else the zero value of the type.
    fn field_default(
        &self,
        tag: &str,
        index: usize,
        ty: &DynType,
        path: &str,
        depth: u32,
    ) -> Result<Value, JsonValueError> {
        let given = self
            .defaults
            .and_then(|d| d.get(tag))
            .and_then(|s| s.fields.get(index))
            .and_then(|f| f.default.as_ref());
        match given {
            Some(v) => Ok(v.clone()),
            None => self.zero(ty, path, depth),
        }
    }

    /// The zero value of §4.5.2; a struct's is its fields' defaults. A
    /// struct that contains itself without Optional has none (no finite
    /// value exists): the depth bound reports it.
    fn zero(&self, ty: &DynType, path: &str, depth: u32) -> Result<Value, JsonValueError> {
        if depth > MAX_DEPTH {
            return Err(JsonValueError::TooDeep {
                path: path.to_owned(),
                limit: MAX_DEPTH,
            });
        }
        Ok(match ty {
            DynType::Optional(_) => Value::Null,
            DynType::Bool => Value::Bool(false),
            DynType::Int8 | DynType::Int16 | DynType::Int32 | DynType::Int64 => Value::Int(0),
            DynType::Float32 | DynType::Float64 => Value::Float(0.0),
            DynType::String => Value::String(String::new()),
            DynType::Bytes => Value::Bytes(Vec::new()),
            DynType::List(_) => Value::List(Vec::new()),
            DynType::Map(..) => Value::Map(Vec::new()),
            DynType::Named(tag) => match self.registry.get(tag) {
                Some(DynTypeDef::Struct { fields, .. }) => {
                    let mut values = Vec::with_capacity(fields.len());
                    for (i, f) in fields.iter().enumerate() {
                        values.push(self.field_default(tag, i, &f.ty, path, depth + 1)?);
                    }
                    Value::Struct(values)
                }
                _ => Value::Enum(0),
            },
        })
    }

    /// Value of type `ty` → JSON, as JSON mode writes it.
    pub fn to_json(
        &self,
        ty: &DynType,
        value: &Value,
        path: &mut String,
    ) -> Result<Json, MessageError> {
        let shape = |path: &str, what: &str| MessageError::ValueShape {
            path: path.to_owned(),
            reason: format!("{what} where {ty:?} was expected"),
        };
        Ok(match (ty, value) {
            (DynType::Optional(_), Value::Null) => Json::Null,
            (DynType::Optional(inner), v) => self.to_json(inner, v, path)?,
            (DynType::Bool, Value::Bool(b)) => Json::Bool(*b),
            (DynType::Int8 | DynType::Int16 | DynType::Int32 | DynType::Int64, Value::Int(i)) => {
                Json::from(*i)
            }
            (DynType::Float32 | DynType::Float64, Value::Float(f)) => {
                Number::from_f64(*f).map_or(Json::Null, Json::Number)
            }
            (DynType::String, Value::String(s)) => Json::String(s.clone()),
            (DynType::Bytes, Value::Bytes(b)) => {
                Json::String(base64::engine::general_purpose::STANDARD.encode(b))
            }
            (DynType::List(elem), Value::List(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    out.push(self.to_json(elem, item, path)?);
                    path.truncate(len);
                }
                Json::Array(out)
            }
            (DynType::Map(kt, vt), Value::Map(entries)) => {
                let mut out = Map::with_capacity(entries.len());
                for (k, v) in entries {
                    let key = match self.to_json(kt, k, path)? {
                        Json::String(s) => s,
                        other => other.to_string(),
                    };
                    let len = path.len();
                    path.push_str(&format!("[{}]", python_repr(&key)));
                    let v = self.to_json(vt, v, path)?;
                    path.truncate(len);
                    out.insert(key, v);
                }
                Json::Object(out)
            }
            (DynType::Named(tag), Value::Enum(ordinal)) => match self.enums.get(tag) {
                Some(e) if e.spellings.is_empty() => Json::from(*ordinal),
                Some(e) => e
                    .spellings
                    .get(*ordinal as usize)
                    .cloned()
                    .ok_or_else(|| shape(path, "an unknown ordinal"))?,
                None => return Err(shape(path, "an enum value")),
            },
            (DynType::Named(tag), Value::Struct(values)) => {
                let Some(DynTypeDef::Struct { fields, .. }) = self.registry.get(tag) else {
                    return Err(shape(path, "a struct value"));
                };
                if fields.len() != values.len() {
                    return Err(shape(path, "a struct with another field count"));
                }
                let mut out = Map::with_capacity(fields.len());
                for (f, v) in fields.iter().zip(values) {
                    let len = path.len();
                    path.push('.');
                    path.push_str(&f.name);
                    out.insert(f.name.clone(), self.to_json(&f.ty, v, path)?);
                    path.truncate(len);
                }
                Json::Object(out)
            }
            (_, v) => return Err(shape(path, &format!("{v:?}"))),
        })
    }
}
