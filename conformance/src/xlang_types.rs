//! `xlang-types.json` (our schema): user types declared in the file, values
//! in a JSON form, and the XLANG bytes pyfory produced for them. Each value
//! is encoded through the dynamic XLANG codec and compared with the bytes, and
//! the bytes are decoded and compared with the value.

use aster_proto::xlang::dynamic::{DynField, DynType, Registry, TypeDef, Value as XValue};
use bytes::BytesMut;
use serde_json::Value;

use crate::{Report, hex_field, name_of, same_bytes};

pub fn check(file: &str, doc: &Value, report: &mut Report) {
    let registry = match build_registry(doc) {
        Ok(r) => r,
        Err(e) => {
            report.record(file, "types", "schema", Err(e));
            return;
        }
    };
    for v in doc
        .get("vectors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        report.record(file, "xlang", &name_of(v), check_vector(&registry, v));
    }
}

fn build_registry(doc: &Value) -> Result<Registry, String> {
    let mut defs = vec![];
    for t in doc
        .get("types")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let tag = t
            .get("tag")
            .and_then(Value::as_str)
            .ok_or("type without tag")?
            .to_string();
        match t.get("kind").and_then(Value::as_str) {
            Some("struct") => {
                let mut fields = vec![];
                for f in t
                    .get("fields")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let name = f
                        .get("name")
                        .and_then(Value::as_str)
                        .ok_or("field without name")?;
                    let ty = parse_type(f.get("type").ok_or("field without type")?)?;
                    fields.push(DynField {
                        name: name.to_string(),
                        ty,
                    });
                }
                defs.push(TypeDef::Struct { tag, fields });
            }
            Some("enum") => {
                let variants = t
                    .get("variants")
                    .and_then(Value::as_array)
                    .ok_or("enum without variants")?
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .ok_or("variant is not a string")
                    })
                    .collect::<Result<_, _>>()?;
                defs.push(TypeDef::Enum { tag, variants });
            }
            other => return Err(format!("type `{tag}` has unknown kind {other:?}")),
        }
    }
    Registry::new(defs).map_err(|e| e.to_string())
}

fn parse_type(v: &Value) -> Result<DynType, String> {
    if let Some(s) = v.as_str() {
        return Ok(match s {
            "bool" => DynType::Bool,
            "int8" => DynType::Int8,
            "int16" => DynType::Int16,
            "int32" => DynType::Int32,
            "int64" => DynType::Int64,
            "float32" => DynType::Float32,
            "float64" => DynType::Float64,
            "string" => DynType::String,
            "bytes" => DynType::Bytes,
            other => return Err(format!("unknown type `{other}`")),
        });
    }
    if let Some(inner) = v.get("list") {
        return Ok(DynType::List(Box::new(parse_type(inner)?)));
    }
    if let Some(inner) = v.get("optional") {
        return Ok(DynType::Optional(Box::new(parse_type(inner)?)));
    }
    if let Some(m) = v.get("map") {
        let k = parse_type(m.get("key").ok_or("map without key")?)?;
        let val = parse_type(m.get("value").ok_or("map without value")?)?;
        return Ok(DynType::Map(Box::new(k), Box::new(val)));
    }
    if let Some(tag) = v.get("ref").and_then(Value::as_str) {
        return Ok(DynType::Named(tag.to_string()));
    }
    Err(format!("unknown type expression {v}"))
}

fn to_value(registry: &Registry, ty: &DynType, v: &Value) -> Result<XValue, String> {
    let bad = || format!("{v} is not a {ty:?}");
    Ok(match ty {
        DynType::Optional(inner) => {
            if v.is_null() {
                XValue::Null
            } else {
                to_value(registry, inner, v)?
            }
        }
        DynType::Bool => XValue::Bool(v.as_bool().ok_or_else(bad)?),
        DynType::Int8 | DynType::Int16 | DynType::Int32 | DynType::Int64 => {
            XValue::Int(v.as_i64().ok_or_else(bad)?)
        }
        DynType::Float32 | DynType::Float64 => XValue::Float(match v {
            Value::String(s) if s == "NaN" => f64::NAN,
            Value::String(s) if s == "Infinity" => f64::INFINITY,
            Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
            _ => v.as_f64().ok_or_else(bad)?,
        }),
        DynType::String => XValue::String(v.as_str().ok_or_else(bad)?.to_string()),
        DynType::Bytes => {
            XValue::Bytes(hex::decode(v.as_str().ok_or_else(bad)?).map_err(|e| e.to_string())?)
        }
        DynType::List(elem) => XValue::List(
            v.as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|x| to_value(registry, elem, x))
                .collect::<Result<_, _>>()?,
        ),
        DynType::Map(kt, vt) => XValue::Map(
            v.as_array()
                .ok_or_else(bad)?
                .iter()
                .map(|pair| match pair.as_array().map(Vec::as_slice) {
                    Some([k, x]) => Ok((to_value(registry, kt, k)?, to_value(registry, vt, x)?)),
                    _ => Err(format!("map entry {pair} is not a [key, value] pair")),
                })
                .collect::<Result<_, _>>()?,
        ),
        DynType::Named(tag) => match registry.get(tag) {
            Some(TypeDef::Struct { fields, .. }) => {
                let obj = v.as_object().ok_or_else(bad)?;
                let mut values = Vec::with_capacity(fields.len());
                for f in fields {
                    let fv = obj
                        .get(&f.name)
                        .ok_or_else(|| format!("`{tag}` value lacks field `{}`", f.name))?;
                    values.push(to_value(registry, &f.ty, fv)?);
                }
                XValue::Struct(values)
            }
            Some(TypeDef::Enum { variants, .. }) => {
                let name = v.as_str().ok_or_else(bad)?;
                let ordinal = variants.iter().position(|x| x == name).ok_or_else(bad)?;
                XValue::Enum(ordinal as u32)
            }
            None => return Err(format!("unknown type `{tag}`")),
        },
    })
}

/// Equality with floats compared by value class (NaN equals NaN, -0.0 is not 0.0).
fn same(a: &XValue, b: &XValue) -> bool {
    match (a, b) {
        (XValue::Float(x), XValue::Float(y)) => {
            (x.is_nan() && y.is_nan()) || x.to_bits() == y.to_bits()
        }
        (XValue::List(x), XValue::List(y)) | (XValue::Struct(x), XValue::Struct(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (XValue::Map(x), XValue::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| same(ka, kb) && same(va, vb))
        }
        _ => a == b,
    }
}

/// float32 values travel as 4 bytes: compare after the same rounding.
fn round_f32(registry: &Registry, ty: &DynType, v: XValue) -> XValue {
    match (ty, v) {
        (DynType::Float32, XValue::Float(f)) => XValue::Float(f64::from(f as f32)),
        (DynType::Optional(inner), v) => round_f32(registry, inner, v),
        (DynType::List(elem), XValue::List(items)) => XValue::List(
            items
                .into_iter()
                .map(|x| round_f32(registry, elem, x))
                .collect(),
        ),
        (DynType::Map(kt, vt), XValue::Map(entries)) => XValue::Map(
            entries
                .into_iter()
                .map(|(k, x)| (round_f32(registry, kt, k), round_f32(registry, vt, x)))
                .collect(),
        ),
        (DynType::Named(tag), XValue::Struct(values)) => match registry.get(tag) {
            Some(TypeDef::Struct { fields, .. }) => XValue::Struct(
                fields
                    .iter()
                    .zip(values)
                    .map(|(f, x)| round_f32(registry, &f.ty, x))
                    .collect(),
            ),
            _ => XValue::Struct(values),
        },
        (_, v) => v,
    }
}

fn check_vector(registry: &Registry, v: &Value) -> Result<(), String> {
    let tag = v
        .get("type")
        .and_then(Value::as_str)
        .ok_or("missing `type`")?;
    let ty = DynType::Named(tag.to_string());
    let value = to_value(registry, &ty, v.get("value").ok_or("missing `value`")?)?;
    let value = round_f32(registry, &ty, value);
    let want = hex_field(v, "xlang_hex")?;
    let mut out = BytesMut::new();
    registry
        .encode(tag, &value, &mut out)
        .map_err(|e| e.to_string())?;
    same_bytes("XLANG encoding", &want, &out)?;
    let (got_tag, back) = registry.decode(&want).map_err(|e| format!("decode: {e}"))?;
    if got_tag != tag {
        return Err(format!("decoded tag `{got_tag}`"));
    }
    if !same(&back, &value) {
        return Err(format!("decoded to {back:?}"));
    }
    Ok(())
}
