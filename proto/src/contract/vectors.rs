//! Checks for the entries of `conformance/vectors/contract-identity.json`.
//!
//! Schema: conformance/generate/README.md (`golden_vectors[]` as in the
//! reference repository's own file, plus our `type_vectors[]`). Member names
//! are the reference core's serde names; enumerations are integers (the
//! serde names are accepted too); byte members are lowercase hex, `""` for
//! empty. Each check builds the model from JSON, writes it, and compares with
//! the expected bytes (reporting the first differing offset) and BLAKE3. It
//! then decodes the expected bytes with the canonical reader and writes them
//! again, which must reproduce them exactly.

use serde_json::{Map, Value};

use super::hash::{ContractId, TypeHash, parse_hex, to_hex};
use super::kinds::{
    CapabilityKind, ContainerKind, MethodPattern, ScopeKind, TypeDefKind, TypeKind,
};
use super::service::{CapabilityRequirement, MethodDef, ServiceContract};
use super::typedef::{EnumValueDef, FieldDef, TypeDef, UnionVariantDef};

/// Checks one entry of `golden_vectors`: `{name, contract, expected_canonical_hex,
/// expected_canonical_length?, expected_blake3}`.
pub fn check_golden(vector: &Value) -> Result<(), String> {
    let v = object(vector, "vector")?;
    let contract = contract_from_json(field(v, "vector", "contract")?)?;
    let actual = contract.canonical_bytes();
    let expected = expected_bytes(v, &actual)?;
    let id = ContractId::of(&actual).to_hex();
    compare_digest(v, &id)?;
    let decoded = ServiceContract::decode(&expected).map_err(|e| format!("reader: {e}"))?;
    compare_bytes("reader round trip", &expected, &decoded.canonical_bytes())
}

/// Checks one entry of `type_vectors`: `{name, typedef, expected_canonical_hex,
/// expected_blake3}`.
pub fn check_type_vector(vector: &Value) -> Result<(), String> {
    let v = object(vector, "vector")?;
    let td = typedef_from_json(field(v, "vector", "typedef")?)?;
    let actual = td.canonical_bytes();
    let expected = expected_bytes(v, &actual)?;
    compare_digest(v, &TypeHash::of(&actual).to_hex())?;
    let decoded = TypeDef::decode(&expected).map_err(|e| format!("reader: {e}"))?;
    compare_bytes("reader round trip", &expected, &decoded.canonical_bytes())
}

/// Compares `actual` with `expected_canonical_hex` (and the length, when
/// given); returns the expected bytes.
fn expected_bytes(v: &Map<String, Value>, actual: &[u8]) -> Result<Vec<u8>, String> {
    let hex = string(
        field(v, "vector", "expected_canonical_hex")?,
        "expected_canonical_hex",
    )?;
    let expected = parse_hex(hex).ok_or("expected_canonical_hex: not hex")?;
    if let Some(len) = v.get("expected_canonical_length") {
        let len = len
            .as_u64()
            .ok_or("expected_canonical_length: not an unsigned integer")?;
        if len != expected.len() as u64 {
            return Err(format!(
                "expected_canonical_length {len} disagrees with expected_canonical_hex ({} bytes)",
                expected.len()
            ));
        }
    }
    compare_bytes("canonical bytes", &expected, actual)?;
    Ok(expected)
}

fn compare_digest(v: &Map<String, Value>, actual: &str) -> Result<(), String> {
    let want = string(field(v, "vector", "expected_blake3")?, "expected_blake3")?;
    if want.eq_ignore_ascii_case(actual) {
        Ok(())
    } else {
        Err(format!("BLAKE3 differs: expected {want}, got {actual}"))
    }
}

/// `Err` naming the first differing offset and the bytes there.
pub fn compare_bytes(what: &str, expected: &[u8], actual: &[u8]) -> Result<(), String> {
    if expected == actual {
        return Ok(());
    }
    let at = expected
        .iter()
        .zip(actual)
        .position(|(a, b)| a != b)
        .unwrap_or(expected.len().min(actual.len()));
    let show = |b: &[u8]| match b.get(at..) {
        Some(rest) if !rest.is_empty() => to_hex(&rest[..rest.len().min(16)]),
        _ => "<end>".to_owned(),
    };
    Err(format!(
        "{what} differ at offset {at} (expected {} bytes, got {}): expected {}…, got {}…",
        expected.len(),
        actual.len(),
        show(expected),
        show(actual)
    ))
}

/// A ServiceContract from its vector JSON.
pub fn contract_from_json(value: &Value) -> Result<ServiceContract, String> {
    let o = object(value, "contract")?;
    Ok(ServiceContract {
        name: string(field(o, "contract", "name")?, "contract.name")?.to_owned(),
        version: i32_of(field(o, "contract", "version")?, "contract.version")?,
        methods: list(o, "contract", "methods", method_from_json)?,
        serialization_modes: list(o, "contract", "serialization_modes", |v, at| {
            string(v, at).map(str::to_owned)
        })?,
        scoped: match o.get("scoped") {
            None | Some(Value::Null) => ScopeKind::Shared,
            Some(v) => enum_of(
                v,
                "contract.scoped",
                ScopeKind::from_value,
                ScopeKind::parse,
            )?,
        },
        requires: requirement(o.get("requires"), "contract.requires")?,
    })
}

fn method_from_json(value: &Value, at: &str) -> Result<MethodDef, String> {
    let o = object(value, at)?;
    Ok(MethodDef {
        name: string(field(o, at, "name")?, at)?.to_owned(),
        pattern: enum_of(
            field(o, at, "pattern")?,
            at,
            MethodPattern::from_value,
            MethodPattern::from_serde_name,
        )?,
        request_type: hash(field(o, at, "request_type")?, at)?,
        response_type: hash(field(o, at, "response_type")?, at)?,
        idempotent: boolean(field(o, at, "idempotent")?, at)?,
        default_timeout: field(o, at, "default_timeout")?
            .as_f64()
            .ok_or_else(|| format!("{at}.default_timeout: not a number"))?,
        requires: requirement(o.get("requires"), &format!("{at}.requires"))?,
    })
}

fn requirement(value: Option<&Value>, at: &str) -> Result<Option<CapabilityRequirement>, String> {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let o = object(value, at)?;
    Ok(Some(CapabilityRequirement {
        kind: enum_of(
            field(o, at, "kind")?,
            at,
            CapabilityKind::from_value,
            CapabilityKind::from_serde_name,
        )?,
        roles: list(o, at, "roles", |v, at| string(v, at).map(str::to_owned))?,
    }))
}

/// A TypeDef from its vector JSON.
pub fn typedef_from_json(value: &Value) -> Result<TypeDef, String> {
    let at = "typedef";
    let o = object(value, at)?;
    Ok(TypeDef {
        kind: enum_of(
            field(o, at, "kind")?,
            at,
            TypeDefKind::from_value,
            TypeDefKind::from_serde_name,
        )?,
        package: string(field(o, at, "package")?, at)?.to_owned(),
        name: string(field(o, at, "name")?, at)?.to_owned(),
        fields: list(o, at, "fields", field_from_json)?,
        enum_values: list(o, at, "enum_values", |v, at| {
            let o = object(v, at)?;
            Ok(EnumValueDef {
                name: string(field(o, at, "name")?, at)?.to_owned(),
                value: i32_of(field(o, at, "value")?, at)?,
            })
        })?,
        union_variants: list(o, at, "union_variants", |v, at| {
            let o = object(v, at)?;
            Ok(UnionVariantDef {
                name: string(field(o, at, "name")?, at)?.to_owned(),
                id: i32_of(field(o, at, "id")?, at)?,
                type_ref: hash_slot(field(o, at, "type_ref")?, at)?,
            })
        })?,
    })
}

fn field_from_json(value: &Value, at: &str) -> Result<FieldDef, String> {
    let o = object(value, at)?;
    let text = |name: &str| -> Result<String, String> {
        string(field(o, at, name)?, at).map(str::to_owned)
    };
    let kind = |name: &str| {
        enum_of(
            field(o, at, name)?,
            at,
            TypeKind::from_value,
            TypeKind::from_serde_name,
        )
    };
    Ok(FieldDef {
        id: i32_of(field(o, at, "id")?, at)?,
        name: text("name")?,
        type_kind: kind("type_kind")?,
        type_primitive: text("type_primitive")?,
        type_ref: hash_slot(field(o, at, "type_ref")?, at)?,
        self_ref_name: text("self_ref_name")?,
        optional: boolean(field(o, at, "optional")?, at)?,
        ref_tracked: boolean(field(o, at, "ref_tracked")?, at)?,
        container: enum_of(
            field(o, at, "container")?,
            at,
            ContainerKind::from_value,
            ContainerKind::from_serde_name,
        )?,
        container_key_kind: kind("container_key_kind")?,
        container_key_primitive: text("container_key_primitive")?,
        container_key_ref: hash_slot(field(o, at, "container_key_ref")?, at)?,
    })
}

fn object<'v>(value: &'v Value, at: &str) -> Result<&'v Map<String, Value>, String> {
    value
        .as_object()
        .ok_or_else(|| format!("{at}: expected an object"))
}

fn field<'v>(o: &'v Map<String, Value>, at: &str, name: &str) -> Result<&'v Value, String> {
    o.get(name).ok_or_else(|| format!("{at}: missing `{name}`"))
}

fn string<'v>(value: &'v Value, at: &str) -> Result<&'v str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("{at}: expected a string, got {value}"))
}

fn boolean(value: &Value, at: &str) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| format!("{at}: expected a bool, got {value}"))
}

fn i32_of(value: &Value, at: &str) -> Result<i32, String> {
    value
        .as_i64()
        .and_then(|n| i32::try_from(n).ok())
        .ok_or_else(|| format!("{at}: expected an int32, got {value}"))
}

/// An enumeration given as its number or its serde name.
fn enum_of<T>(
    value: &Value,
    at: &str,
    from_value: fn(u64) -> Option<T>,
    from_name: fn(&str) -> Option<T>,
) -> Result<T, String> {
    let found = match value {
        Value::Number(n) => n.as_u64().and_then(from_value),
        Value::String(s) => from_name(s),
        _ => None,
    };
    found.ok_or_else(|| format!("{at}: unknown enumeration value {value}"))
}

fn hash(value: &Value, at: &str) -> Result<TypeHash, String> {
    let s = string(value, at)?;
    TypeHash::from_hex(s).ok_or_else(|| format!("{at}: expected 64 hex digits, got {s:?}"))
}

fn hash_slot(value: &Value, at: &str) -> Result<Option<TypeHash>, String> {
    match string(value, at)? {
        "" => Ok(None),
        _ => hash(value, at).map(Some),
    }
}

fn list<T>(
    o: &Map<String, Value>,
    at: &str,
    name: &str,
    item: impl Fn(&Value, &str) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    match o.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, v)| item(v, &format!("{at}.{name}[{i}]")))
            .collect(),
        Some(other) => Err(format!("{at}.{name}: expected an array, got {other}")),
    }
}
