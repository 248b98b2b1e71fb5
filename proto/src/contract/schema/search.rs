//! Rule 3: find the field types of a struct from the version hash a payload
//! carries (see the [module doc](super)).
//!
//! The hash is computed as [`crate::xlang::layout`] documents it: MurmurHash3
//! x64-128 (seed 47, low 32 bits) over `"<name>,<type id>,0,<nullable>;"`
//! per field sorted by name, named types counting as type id 0. Only type
//! ids and nullability enter it, so it is recomputed here from those alone,
//! without building a whole [`crate::xlang::StructLayout`] per candidate;
//! `tests::fast_hash_matches_layout` keeps the two in step, and a wrong
//! match could not slip through anyway: the registry built from the chosen
//! assignment checks the payload's hash again.

use crate::xlang::dynamic::DynType;
use crate::xlang::layout::type_id;
use crate::xlang::murmur3::murmur3_x64_128;

use super::{MAX_LAYOUT_SEARCH, StructSchema};

/// The field types (declaration order) of the first assignment of `s`'s
/// alternatives whose struct hash is `found`, or `Err(tried)`.
///
/// Assignments are tried by how many fields differ from the first guess
/// (0, then 1, then 2, ...): a producer's type usually differs from the
/// guess in few fields, so those are found first and the bound
/// ([`MAX_LAYOUT_SEARCH`]) cuts off only the unlikely tail.
pub(super) fn find_assignment(s: &StructSchema, found: i32) -> Result<Vec<DynType>, usize> {
    let slots: Vec<usize> = (0..s.fields.len())
        .filter(|&i| !s.fields[i].alternatives.is_empty())
        .collect();
    if slots.is_empty() {
        return Err(0);
    }
    let mut by_name: Vec<usize> = (0..s.fields.len()).collect();
    by_name.sort_by(|&a, &b| s.fields[a].name.cmp(&s.fields[b].name));

    let mut current: Vec<&DynType> = s.fields.iter().map(|f| &f.ty).collect();
    let mut fingerprint = String::new();
    let mut tried = 0;
    for k in 0..=slots.len() {
        // Each k-subset of the slots, in lexicographic order.
        let mut subset: Vec<usize> = (0..k).collect();
        loop {
            for &j in &subset {
                let f = &s.fields[slots[j]];
                current[slots[j]] = f.alternatives.first().unwrap_or(&f.ty);
            }
            // Each choice of alternatives for the subset, odometer style.
            let mut choice = vec![0usize; k];
            loop {
                if tried == MAX_LAYOUT_SEARCH {
                    return Err(tried);
                }
                tried += 1;
                if struct_hash(&by_name, s, &current, &mut fingerprint) == found {
                    return Ok(current.into_iter().cloned().collect());
                }
                let mut d = 0;
                while d < k {
                    let f = &s.fields[slots[subset[d]]];
                    choice[d] += 1;
                    if let Some(alt) = f.alternatives.get(choice[d]) {
                        current[slots[subset[d]]] = alt;
                        break;
                    }
                    choice[d] = 0;
                    current[slots[subset[d]]] = f.alternatives.first().unwrap_or(&f.ty);
                    d += 1;
                }
                if d == k {
                    break;
                }
            }
            for &j in &subset {
                current[slots[j]] = &s.fields[slots[j]].ty;
            }
            if !next_subset(&mut subset, slots.len()) {
                break;
            }
        }
    }
    Err(tried)
}

/// Advances a sorted k-subset of `0..n` to the next in lexicographic order.
fn next_subset(subset: &mut [usize], n: usize) -> bool {
    let k = subset.len();
    let Some(i) = (0..k).rev().find(|&i| subset[i] < n - k + i) else {
        return false;
    };
    subset[i] += 1;
    for j in i + 1..k {
        subset[j] = subset[j - 1] + 1;
    }
    true
}

fn struct_hash(
    by_name: &[usize],
    s: &StructSchema,
    types: &[&DynType],
    fingerprint: &mut String,
) -> i32 {
    use std::fmt::Write as _;
    fingerprint.clear();
    for &i in by_name {
        let (id, nullable) = fingerprint_kind(types[i]);
        let _ = write!(
            fingerprint,
            "{},{id},0,{};",
            s.fields[i].name,
            u8::from(nullable)
        );
    }
    if fingerprint.is_empty() {
        47
    } else {
        murmur3_x64_128(fingerprint.as_bytes(), 47).0 as u32 as i32
    }
}

/// Type id and nullability as the fingerprint counts them.
pub(super) fn fingerprint_kind(ty: &DynType) -> (u8, bool) {
    let id = |t: &DynType| match t {
        DynType::Bool => type_id::BOOL,
        DynType::Int8 => type_id::INT8,
        DynType::Int16 => type_id::INT16,
        DynType::Int32 => type_id::VARINT32,
        DynType::Int64 => type_id::VARINT64,
        DynType::Float32 => type_id::FLOAT32,
        DynType::Float64 => type_id::FLOAT64,
        DynType::String => type_id::STRING,
        DynType::Bytes => type_id::BINARY,
        DynType::List(_) => type_id::LIST,
        DynType::Map(..) => type_id::MAP,
        DynType::Optional(_) | DynType::Named(_) => type_id::UNKNOWN,
    };
    match ty {
        DynType::Optional(inner) => (id(inner), true),
        other => (id(other), false),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::contract::schema::FieldSchema;
    use crate::xlang::layout::{FieldKind, StructLayout};

    fn scalar() -> impl Strategy<Value = DynType> {
        prop_oneof![
            Just(DynType::Bool),
            Just(DynType::Int8),
            Just(DynType::Int16),
            Just(DynType::Int32),
            Just(DynType::Int64),
            Just(DynType::Float32),
            Just(DynType::Float64),
            Just(DynType::String),
            Just(DynType::Bytes),
            Just(DynType::List(Box::new(DynType::String))),
            Just(DynType::Map(
                Box::new(DynType::String),
                Box::new(DynType::Int64)
            )),
            Just(DynType::Named("t/X".into())),
        ]
    }

    fn field_type() -> impl Strategy<Value = DynType> {
        (scalar(), any::<bool>()).prop_map(|(t, opt)| {
            if opt {
                DynType::Optional(Box::new(t))
            } else {
                t
            }
        })
    }

    fn schema(fields: &[(String, DynType)]) -> StructSchema {
        StructSchema {
            tag: "t/S".into(),
            fields: fields
                .iter()
                .map(|(name, ty)| FieldSchema {
                    name: name.clone(),
                    ty: ty.clone(),
                    alternatives: Vec::new(),
                    manifest_default: None,
                    default: None,
                })
                .collect(),
        }
    }

    proptest! {
        #[test]
        fn fast_hash_matches_layout(fields in proptest::collection::btree_map("[a-z_]{1,6}", field_type(), 0..8)) {
            let fields: Vec<(String, DynType)> = fields.into_iter().collect();
            let s = schema(&fields);
            let layout = StructLayout::new(fields.iter().map(|(n, t)| {
                let (id, nullable) = fingerprint_kind(t);
                // The layout sees named structs as NAMED_STRUCT; both count 0.
                let id = if id == type_id::UNKNOWN { type_id::NAMED_STRUCT } else { id };
                (n.as_str(), FieldKind { type_id: id, nullable })
            }));
            let mut by_name: Vec<usize> = (0..fields.len()).collect();
            by_name.sort_by(|&a, &b| fields[a].0.cmp(&fields[b].0));
            let types: Vec<&DynType> = fields.iter().map(|(_, t)| t).collect();
            prop_assert_eq!(struct_hash(&by_name, &s, &types, &mut String::new()), layout.hash);
        }
    }

    #[test]
    fn search_finds_int16_and_float32() {
        let mut s = schema(&[
            ("a".into(), DynType::Int32),
            ("b".into(), DynType::Int32),
            ("c".into(), DynType::String),
        ]);
        for f in &mut s.fields[..2] {
            f.alternatives = vec![DynType::Int8, DynType::Int16, DynType::Float32];
        }
        let want = [
            (
                "a",
                FieldKind {
                    type_id: type_id::INT16,
                    nullable: false,
                },
            ),
            (
                "b",
                FieldKind {
                    type_id: type_id::FLOAT32,
                    nullable: false,
                },
            ),
            (
                "c",
                FieldKind {
                    type_id: type_id::STRING,
                    nullable: false,
                },
            ),
        ];
        let hash = StructLayout::new(want.iter().copied()).hash;
        let found = find_assignment(&s, hash).unwrap();
        assert_eq!(found, [DynType::Int16, DynType::Float32, DynType::String]);
        assert_eq!(find_assignment(&s, hash.wrapping_add(1)), Err(16));
    }
}
