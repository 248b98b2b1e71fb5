//! `contract-identity.json`: canonical contract and TypeDef bytes and their BLAKE3.

use aster_proto::contract::vectors::{check_golden, check_type_vector};
use serde_json::Value;

use crate::{Report, name_of};

pub fn check(file: &str, doc: &Value, report: &mut Report) {
    for v in doc
        .get("golden_vectors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        report.record(file, "contract", &name_of(v), check_golden(v));
    }
    for v in doc
        .get("type_vectors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        report.record(file, "typedef", &name_of(v), check_type_vector(v));
    }
}
