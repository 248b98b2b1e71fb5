//! The consumer-admission exchange (ALPN `aster.consumer_admission`): one
//! JSON object each way on one bi-stream, each side's FIN ending its message,
//! at most 64 KiB. Every reference client runs it before any RPC, even against
//! an open server, because the answer carries the service list: names,
//! versions, contract ids and the RPC address of each service.
//!
//! Field order and names follow the reference byte for byte (compact JSON,
//! Python escaping); unknown fields are tolerated on input, since newer peers
//! add some.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::codec::json::to_python_json;
use crate::limits::{MAX_ADMISSION_PAYLOAD_SIZE, MAX_SERVICES_IN_ADMISSION};

/// ALPN of consumer admission.
pub const CONSUMER_ADMISSION_ALPN: &[u8] = b"aster.consumer_admission";
/// ALPN of producer admission.
pub const PRODUCER_ADMISSION_ALPN: &[u8] = b"aster.producer_admission";
/// ALPN of Aster RPC.
pub const RPC_ALPN: &[u8] = b"aster/1";

/// Client → server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionRequest {
    /// The credential as a JSON *string* (double-encoded); empty = none.
    #[serde(default)]
    pub credential_json: String,
    /// Cloud instance-identity token; empty = none.
    #[serde(default)]
    pub iid_token: String,
}

/// One service as listed in an admission answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSummary {
    pub name: String,
    pub version: i64,
    pub contract_id: String,
    /// `{"rpc": base64 NodeAddr text}`: where to call the service.
    #[serde(default)]
    pub channels: BTreeMap<String, String>,
    /// `"shared"` or `"session"`.
    #[serde(default = "shared")]
    pub pattern: String,
    #[serde(default)]
    pub serialization_modes: Vec<String>,
}

fn shared() -> String {
    "shared".into()
}

/// Server → client. A denial carries no reason on the wire (the reference
/// never tells a refused peer why; `reason` is always empty).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdmissionResponse {
    pub admitted: bool,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    #[serde(default)]
    pub services: Vec<ServiceSummary>,
    /// iroh-docs namespace id (hex) of the producer's registry document.
    #[serde(default, alias = "registry_ticket")]
    pub registry_namespace: String,
    #[serde(default)]
    pub root_pubkey: String,
    #[serde(default)]
    pub reason: String,
    /// Producer-mesh gossip topic, only for the root-key peer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gossip_topic: Option<String>,
}

/// An admission message that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdmissionError {
    #[error("admission message of {0} bytes exceeds the 64 KiB limit")]
    TooLarge(usize),
    #[error("malformed admission message: {0}")]
    Malformed(String),
}

impl AdmissionRequest {
    pub fn encode(&self) -> Vec<u8> {
        to_python_json(self)
    }

    pub fn decode(data: &[u8]) -> Result<AdmissionRequest, AdmissionError> {
        if data.len() > MAX_ADMISSION_PAYLOAD_SIZE {
            return Err(AdmissionError::TooLarge(data.len()));
        }
        from_object(data)
    }
}

/// Both messages are JSON objects; anything else (an array, a string) is malformed.
fn from_object<T: serde::de::DeserializeOwned>(data: &[u8]) -> Result<T, AdmissionError> {
    let value: serde_json::Value =
        serde_json::from_slice(data).map_err(|e| AdmissionError::Malformed(e.to_string()))?;
    if !value.is_object() {
        return Err(AdmissionError::Malformed("expected a JSON object".into()));
    }
    serde_json::from_value(value).map_err(|e| AdmissionError::Malformed(e.to_string()))
}

impl AdmissionResponse {
    /// A refusal: nothing but `admitted: false` and the server's root key.
    pub fn denied(root_pubkey: String) -> AdmissionResponse {
        AdmissionResponse {
            root_pubkey,
            ..AdmissionResponse::default()
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        to_python_json(self)
    }

    /// Parses an answer; more than 10,000 services are cut to the limit, as
    /// the reference's client does.
    pub fn decode(data: &[u8]) -> Result<AdmissionResponse, AdmissionError> {
        if data.len() > MAX_ADMISSION_PAYLOAD_SIZE {
            return Err(AdmissionError::TooLarge(data.len()));
        }
        let mut r: AdmissionResponse = from_object(data)?;
        r.services.truncate(MAX_SERVICES_IN_ADMISSION);
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_bytes_match_the_reference() {
        // Observed on the wire from the reference's client (37 bytes).
        assert_eq!(
            AdmissionRequest::default().encode(),
            br#"{"credential_json":"","iid_token":""}"#
        );
    }

    #[test]
    fn response_layout_matches_the_reference() {
        let r = AdmissionResponse {
            admitted: true,
            services: vec![ServiceSummary {
                name: "Echo".into(),
                version: 1,
                contract_id: "80ad".into(),
                channels: [("rpc".to_string(), "YmQ0".to_string())].into(),
                pattern: "shared".into(),
                serialization_modes: vec![],
            }],
            registry_namespace: "9ce1".into(),
            root_pubkey: "ef24".into(),
            ..Default::default()
        };
        assert_eq!(
            String::from_utf8(r.encode()).unwrap(),
            r#"{"admitted":true,"attributes":{},"services":[{"name":"Echo","version":1,"contract_id":"80ad","channels":{"rpc":"YmQ0"},"pattern":"shared","serialization_modes":[]}],"registry_namespace":"9ce1","root_pubkey":"ef24","reason":""}"#
        );
        assert_eq!(AdmissionResponse::decode(&r.encode()).unwrap(), r);
        let denied = br#"{"admitted":false,"attributes":{},"services":[],"registry_namespace":"","root_pubkey":"1111","reason":""}"#;
        assert_eq!(AdmissionResponse::denied("1111".into()).encode(), denied);
    }

    #[test]
    fn limits_and_garbage() {
        assert!(matches!(
            AdmissionRequest::decode(&vec![b' '; 70_000]),
            Err(AdmissionError::TooLarge(_))
        ));
        assert!(AdmissionResponse::decode(b"{").is_err());
        assert!(AdmissionRequest::decode(b"[]").is_err());
    }
}
