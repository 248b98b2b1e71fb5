//! Registry (trust-registry.md §2): vectors produced live by aster-rpc 0.1.2
//! (`conformance/vectors/registry.json`, from
//! `conformance/generate/registry_vectors.py`) checked byte for byte, and
//! properties of the resolve rules with injected time.
//!
//! Where the port deliberately differs from the reference, the expected Rust
//! outcome sits next to the vector's name in a table below, with the reason.

use std::collections::BTreeSet;

use aster_proto::registry::keys::{self, MAX_NAME_LEN};
use aster_proto::registry::{
    AclKind, AclList, ArtifactRef, CLOCK_SKEW_TOLERANCE_MS, CollectionFormat, DocEntry,
    EndpointLease, Freshness, GossipEvent, GossipEventType, HealthStatus, KeyError,
    LEASE_DURATION_MS, LeasePublisher, LeaseSpec, LeaseTiming, LeaseValue, NotFoundReason,
    REFERENCE_DOWNLOAD_PREFIXES, RecordError, RegistryAcl, RegistryKey, Rejections, ResolveError,
    ResolveOptions, ResolveQuery, ResolverState, Selector, Snapshot, Strategy as Rank,
    WITHDRAW_GRACE_MS, freshness, resolve, resolve_all,
};
use proptest::prelude::*;
use serde_json::Value;

// ─────────────────────────────────────────────────────────────────────────────
// Vectors
// ─────────────────────────────────────────────────────────────────────────────

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../conformance/vectors/registry.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("read registry.json"))
        .expect("parse registry.json")
}

fn s(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, got {v}"))
}

fn cases<'a>(doc: &'a Value, name: &str) -> &'a Vec<Value> {
    doc[name]
        .as_array()
        .unwrap_or_else(|| panic!("registry.json has no array {name}"))
}

/// Byte comparison that names the first differing offset.
fn assert_bytes(what: &str, ours: &[u8], reference: &[u8]) {
    if ours != reference {
        let at = ours
            .iter()
            .zip(reference)
            .position(|(a, b)| a != b)
            .unwrap_or(ours.len().min(reference.len()));
        panic!(
            "{what}: bytes differ at offset {at}\n  ours:      {}\n  reference: {}",
            String::from_utf8_lossy(ours),
            String::from_utf8_lossy(reference)
        );
    }
}

#[test]
fn keys_match_reference() {
    let doc = vectors();
    for case in cases(&doc, "keys") {
        let args = case["args"].as_array().unwrap();
        let arg = |i: usize| s(&args[i]);
        let ours = match s(&case["builder"]) {
            "contract_key" => keys::contract_key(arg(0)),
            "manifest_key" => keys::manifest_key(arg(0)),
            "version_key" => keys::version_key(arg(0), args[1].as_i64().unwrap() as i32),
            "channel_key" => keys::channel_key(arg(0), arg(1)),
            "tag_key" => keys::tag_key(arg(0), arg(1)),
            "lease_key" => keys::lease_key(arg(0), arg(1), arg(2)),
            "lease_prefix" => keys::lease_prefix(arg(0), arg(1)),
            "acl_key" => Ok(keys::acl_key(match arg(0) {
                "writers" => AclKind::Writers,
                "readers" => AclKind::Readers,
                "admins" => AclKind::Admins,
                "policy" => AclKind::Policy,
                other => panic!("acl kind {other}"),
            })),
            "config_key" => keys::config_key(arg(0)),
            other => panic!("unknown builder {other}"),
        }
        .unwrap_or_else(|e| panic!("{case}: {e}"));
        let expected = s(&case["key"]);
        assert_eq!(ours, expected, "{case}");
        if s(&case["builder"]) != "lease_prefix" {
            let parsed = RegistryKey::parse(expected.as_bytes())
                .unwrap_or_else(|e| panic!("{expected}: {e}"));
            assert_eq!(parsed.to_string(), expected);
        }
    }
    let prefixes: Vec<&str> = cases(&doc, "reference_download_prefixes")
        .iter()
        .map(s)
        .collect();
    assert_eq!(prefixes, REFERENCE_DOWNLOAD_PREFIXES);
}

#[test]
fn artifact_refs_match_reference() {
    let doc = vectors();
    for case in cases(&doc, "artifact_refs") {
        let json = s(&case["json"]);
        let r = ArtifactRef::decode(json.as_bytes())
            .unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
        assert_bytes(s(&case["name"]), &r.encode(), json.as_bytes());
        assert_eq!(serde_json::to_value(&r).unwrap(), case["fields"]);
    }
    let decode = cases(&doc, "artifact_ref_decode");
    let raw_default = s(&decode
        .iter()
        .find(|c| c["name"] == "missing collection_format reads as raw")
        .unwrap()["reference"]["ok"]);
    for case in decode {
        let name = s(&case["name"]);
        let ours = ArtifactRef::decode(s(&case["input"]).as_bytes());
        match name {
            // Deliberate: unknown keys are ignored (the reference's `ArtifactRef(**data)` raises TypeError).
            "unknown key" => {
                assert_eq!(case["reference"]["error"], "TypeError");
                assert_bytes(name, &ours.unwrap().encode(), raw_default.as_bytes());
            }
            // Deliberate: an unknown collection_format is refused, not carried along and fetched as raw.
            "unknown collection_format" => {
                assert!(case["reference"]["ok"].is_string());
                assert!(
                    matches!(ours, Err(RecordError::Malformed { .. })),
                    "{ours:?}"
                );
            }
            _ => match (&case["reference"]["ok"], ours) {
                (Value::String(expected), Ok(r)) => {
                    assert_bytes(name, &r.encode(), expected.as_bytes())
                }
                (Value::Null, Err(_)) => {}
                (expected, ours) => panic!("{name}: reference {expected}, ours {ours:?}"),
            },
        }
    }
    // Raw means the single blob is the contract: validate() checks what fetchers rely on.
    let r = ArtifactRef::decode(raw_default.as_bytes()).unwrap();
    assert_eq!(r.collection_format, CollectionFormat::Raw);
    assert!(r.validate().is_ok());
    let mut bad = r.clone();
    bad.collection_hash = "b2".repeat(32);
    assert!(bad.validate().is_err());
}

#[test]
fn leases_match_reference() {
    let doc = vectors();
    for case in cases(&doc, "leases") {
        let json = s(&case["json"]);
        let lease = EndpointLease::decode(json.as_bytes())
            .unwrap_or_else(|e| panic!("{}: {e}", case["name"]));
        assert_bytes(s(&case["name"]), &lease.encode(), json.as_bytes());
        assert_eq!(
            LeaseValue::decode(json.as_bytes()).unwrap(),
            LeaseValue::Lease(lease)
        );
    }
    let decode = cases(&doc, "lease_decode");
    let canonical =
        s(&decode.iter().find(|c| c["name"] == "canonical").unwrap()["reference"]["ok"]).to_owned();
    for case in decode {
        let name = s(&case["name"]);
        let input = s(&case["input"]);
        let ours = EndpointLease::decode(input.as_bytes());
        match name {
            // Deliberate: unknown keys ignored (reference: TypeError).
            "unknown key" => {
                assert_eq!(case["reference"]["error"], "TypeError");
                assert_bytes(name, &ours.unwrap().encode(), canonical.as_bytes());
            }
            // Deliberate: the reference core's serde defaults (the Python dataclass requires every field).
            "optional fields missing" => {
                assert_eq!(case["reference"]["error"], "TypeError");
                let l = ours.unwrap();
                assert!(
                    l.serialization_modes.is_empty()
                        && l.tags.is_empty()
                        && l.aster_version.is_empty()
                );
                assert_eq!((l.load, l.relay_url, l.policy_realm), (None, None, None));
            }
            // Deliberate: null lists read as empty lists (the reference keeps None and then
            // fails in its own filter with a TypeError); re-encoding writes [].
            "null lists" => {
                let l = ours.unwrap();
                assert!(l.serialization_modes.is_empty() && l.tags.is_empty());
                let expected = s(&case["reference"]["ok"])
                    .replace("\"serialization_modes\":null", "\"serialization_modes\":[]")
                    .replace("\"tags\":null", "\"tags\":[]");
                assert_bytes(name, &l.encode(), expected.as_bytes());
            }
            // Deliberate: only the four health states are a lease. The reference stores
            // the string and its health filter drops it; a resolver counts ours as malformed.
            "unknown health" => {
                assert!(case["reference"]["ok"].is_string());
                assert!(ours.is_err());
            }
            // The tombstone is not a lease object (both refuse); as a stored value it is the tombstone.
            "tombstone text" => {
                assert!(ours.is_err() && case["reference"]["error"].is_string());
                assert_eq!(
                    LeaseValue::decode(input.as_bytes()).unwrap(),
                    LeaseValue::Tombstone
                );
            }
            _ => match (&case["reference"]["ok"], ours) {
                (Value::String(expected), Ok(l)) => {
                    assert_bytes(name, &l.encode(), expected.as_bytes())
                }
                (Value::Null, Err(_)) => {}
                (expected, ours) => panic!("{name}: reference {expected}, ours {ours:?}"),
            },
        }
    }
    assert_eq!(LeaseValue::decode(b"").unwrap(), LeaseValue::Tombstone);
    assert_eq!(LeaseValue::Tombstone.encode(), b"null");
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| s(x).to_owned())
        .collect()
}

fn opt_string(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

#[test]
fn publisher_life_cycle_matches_reference() {
    let doc = vectors();
    let p = &doc["publisher"];
    let spec_json = &p["spec"];
    let mut spec = LeaseSpec::new(
        s(&spec_json["endpoint_id"]),
        s(&spec_json["contract_id"]),
        s(&spec_json["service"]),
        spec_json["version"].as_i64().unwrap() as i32,
    );
    spec.alpn = s(&spec_json["alpn"]).to_owned();
    spec.serialization_modes = strings(&spec_json["serialization_modes"]);
    spec.direct_addrs = strings(&spec_json["direct_addrs"]);
    spec.relay_url = opt_string(&spec_json["relay_url"]);
    spec.feature_flags = strings(&spec_json["feature_flags"]);
    spec.tags = strings(&spec_json["tags"]);
    spec.policy_realm = opt_string(&spec_json["policy_realm"]);
    spec.language_runtime = opt_string(&spec_json["language_runtime"]);
    spec.aster_version = s(&spec_json["aster_version"]).to_owned();
    let timing = LeaseTiming {
        lease_duration_ms: p["lease_duration_ms"].as_i64().unwrap(),
        refresh_interval_ms: p["refresh_interval_ms"].as_i64().unwrap(),
    };
    assert_eq!(timing, LeaseTiming::default());

    let mut publisher: Option<LeasePublisher> = None;
    for step in cases(p, "steps") {
        let at = step["at_ms"].as_i64().unwrap();
        let op = s(&step["op"]);
        let write = match op {
            "register" => {
                let (pb, w) = LeasePublisher::register(spec.clone(), timing, at).unwrap();
                publisher = Some(pb);
                w
            }
            "set_health" => {
                let health = match s(&step["health"]) {
                    "ready" => HealthStatus::Ready,
                    "degraded" => HealthStatus::Degraded,
                    other => panic!("health {other}"),
                };
                publisher.as_mut().unwrap().set_health(health, at).unwrap()
            }
            "withdraw" => {
                let grace = step["grace_ms"].as_i64().unwrap();
                assert_eq!(grace, WITHDRAW_GRACE_MS);
                publisher.as_mut().unwrap().withdraw(grace, at).unwrap()
            }
            // Timer-driven steps: the reference's sleeping task woke at `at`; our timer must say the same.
            "refresh" | "tombstone" => {
                let pb = publisher.as_mut().unwrap();
                assert_eq!(pb.poll_timeout(), Some(at), "{op} due time");
                assert_eq!(
                    pb.handle_timeout(at - 1).unwrap(),
                    None,
                    "{op} not due early"
                );
                pb.handle_timeout(at).unwrap().expect("a write when due")
            }
            other => panic!("op {other}"),
        };
        assert_eq!(write.key, s(&step["key"]), "{op} key");
        assert_bytes(
            &format!("{op} value"),
            &write.value_bytes(),
            s(&step["value"]).as_bytes(),
        );
        assert_bytes(
            &format!("{op} gossip"),
            &write.gossip.encode(),
            s(&step["gossip"]).as_bytes(),
        );
    }
    let pb = publisher.unwrap();
    assert!(pb.is_withdrawn());
    assert_eq!(pb.poll_timeout(), None);

    // Every register_endpoint default, except aster_version: the reference hard-codes "0.2.0",
    // we default to this crate's version.
    let d = &p["defaults_register"];
    let mut spec = LeaseSpec::new(
        s(&d["spec"]["endpoint_id"]),
        s(&d["spec"]["contract_id"]),
        s(&d["spec"]["service"]),
        d["spec"]["version"].as_i64().unwrap() as i32,
    );
    assert_eq!(spec.aster_version, env!("CARGO_PKG_VERSION"));
    spec.aster_version = "0.2.0".into();
    let (_, w) =
        LeasePublisher::register(spec, LeaseTiming::default(), d["at_ms"].as_i64().unwrap())
            .unwrap();
    assert_eq!(w.key, s(&d["key"]));
    assert_bytes(
        "defaults value",
        &w.value_bytes(),
        s(&d["value"]).as_bytes(),
    );
    assert_bytes(
        "defaults gossip",
        &w.gossip.encode(),
        s(&d["gossip"]).as_bytes(),
    );
}

#[test]
fn gossip_events_match_reference() {
    let doc = vectors();
    for case in cases(&doc, "gossip_events") {
        let a = case["args"].as_array().unwrap();
        let now = case["now_ms"].as_i64().unwrap();
        let ours = match s(&case["method"]) {
            "contract_published" => GossipEvent::contract_published(
                s(&a[0]),
                s(&a[1]),
                a[2].as_i64().unwrap() as i32,
                now,
            ),
            "channel_updated" => GossipEvent::channel_updated(s(&a[0]), s(&a[1]), s(&a[2]), now),
            "endpoint_lease_upserted" => GossipEvent::endpoint_lease_upserted(
                s(&a[0]),
                s(&a[1]),
                a[2].as_i64().unwrap(),
                s(&a[3]),
                now,
            ),
            "endpoint_down" => GossipEvent::endpoint_down(s(&a[0]), s(&a[1]), now),
            "acl_changed" => GossipEvent::acl_changed(s(&a[0]), now),
            "compatibility_published" => {
                GossipEvent::compatibility_published(s(&a[0]), s(&a[1]), now)
            }
            other => panic!("method {other}"),
        };
        let json = s(&case["json"]);
        assert_bytes(s(&case["method"]), &ours.encode(), json.as_bytes());
        assert_eq!(GossipEvent::decode(json.as_bytes()).unwrap(), ours);
        assert!(ours.resync_prefix().is_some(), "{ours:?}");
    }
    for case in cases(&doc, "gossip_decode") {
        let name = s(&case["name"]);
        let ours = GossipEvent::decode(s(&case["input"]).as_bytes());
        match name {
            "unknown type 6" => assert_eq!(ours, Err(RecordError::UnknownEventType { found: 6 })),
            "negative type" => assert_eq!(ours, Err(RecordError::UnknownEventType { found: -1 })),
            // Deliberate: an explicit null timestamp reads as 0 (Python keeps None and writes it back as null).
            "null timestamp" => {
                let expected = s(&case["reference"]["ok"])
                    .replace("\"timestamp_ms\":null", "\"timestamp_ms\":0");
                assert_bytes(name, &ours.unwrap().encode(), expected.as_bytes());
            }
            _ => match (&case["reference"]["ok"], ours) {
                (Value::String(expected), Ok(e)) => {
                    assert_bytes(name, &e.encode(), expected.as_bytes())
                }
                (Value::Null, Err(_)) => {}
                (expected, ours) => panic!("{name}: reference {expected}, ours {ours:?}"),
            },
        }
    }
}

/// Expands the generator's compact form of the 10,001-entry list.
fn expand(v: &Value) -> Vec<String> {
    if let Some(n) = v.get("count") {
        assert_eq!(v["generated"], "w%05d");
        (0..n.as_u64().unwrap())
            .map(|i| format!("w{i:05}"))
            .collect()
    } else {
        strings(v)
    }
}

fn entries_of(v: &Value) -> Vec<DocEntry> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let value = match &e["value"] {
                Value::String(text) => text.clone().into_bytes(),
                generated => serde_json::to_vec(&expand(generated)).unwrap(),
            };
            DocEntry::new(
                s(&e["key"]),
                s(&e["author"]),
                e["timestamp"].as_u64().unwrap(),
                value,
            )
        })
        .collect()
}

#[test]
fn acl_lists_match_reference() {
    let doc = vectors();
    for case in cases(&doc, "acl_lists") {
        let list = AclList(strings(&case["values"]));
        assert_eq!(keys::acl_key(AclKind::Writers), s(&case["key"]));
        assert_bytes(
            s(&case["name"]),
            &list.encode(),
            s(&case["json"]).as_bytes(),
        );
        assert_eq!(AclList::decode(s(&case["json"]).as_bytes()).unwrap(), list);
    }
    for case in cases(&doc, "acl_reload") {
        let name = s(&case["name"]);
        let entries = entries_of(&case["entries"]);
        let acl = RegistryAcl::from_entries(&entries, Some(s(&case["local_author"])));
        let reference_open = case["reference"]["open"].as_bool().unwrap();
        let reference_writers: BTreeSet<String> =
            expand(&case["reference"]["writers"]).into_iter().collect();
        match name {
            // Deliberate: an unreadable writers list trusts nobody (the reference stays open),
            // and an over-long one is refused, not truncated to its first 10,000 names.
            "writers not a list" | "10001 writers" => {
                assert!(!reference_open || name == "writers not a list");
                assert_eq!(acl, RegistryAcl::restricted(Vec::<String>::new()), "{name}");
            }
            _ => match acl {
                RegistryAcl::Open => assert!(reference_open, "{name}"),
                RegistryAcl::Restricted { writers, .. } => {
                    assert!(!reference_open, "{name}");
                    assert_eq!(writers, reference_writers, "{name}");
                }
            },
        }
    }
}

/// Scenarios where we deliberately return something else, per call.
const RESOLVE_DIFFERENCES: &[(&str, &[&[&str]], &str)] = &[
    (
        "R1: repeated resolve without a refresh",
        &[&["ep-a", "ep-b", "ep-c"], &["ep-b", "ep-a", "ep-c"]],
        "R1: an equal lease_seq with identical bytes is accepted again; the reference drops every endpoint",
    ),
    (
        "R5: expiry passed while updated_at is recent",
        &[&["ep-b"]],
        "R5: lease_expires is honoured (5 s tolerance): ep-a expired 10 s ago, ep-b exactly 5 s ago",
    ),
    (
        "skew: lease stamped in the future",
        &[&["ep-a"]],
        "clock skew: updated_at more than 5 s ahead of our clock is refused; ep-a is exactly 5 s ahead",
    ),
    (
        "round robin with a degraded endpoint present",
        &[
            &["ep-a", "ep-b", "ep-c", "ep-d"],
            &["ep-b", "ep-a", "ep-c", "ep-d"],
            &["ep-c", "ep-a", "ep-b", "ep-d"],
            &["ep-a", "ep-b", "ep-c", "ep-d"],
        ],
        "one round-robin cursor per health group; the reference's shared cursor is reset by the degraded group",
    ),
    (
        "lease body names another endpoint than its key",
        &[&["ep-a"]],
        "a lease whose body disagrees with its key is skipped",
    ),
    (
        "publisher restart: seq starts again at 1",
        &[&["ep-a"], &["ep-a"]],
        "a lease written after the last accepted one expired starts a new incarnation",
    ),
    (
        "two authors lease the same endpoint",
        &[&["ep-a"]],
        "one candidate per endpoint (highest lease_seq), not one per author",
    ),
];

fn options_of(v: &Value) -> ResolveOptions {
    ResolveOptions {
        caller_alpn: opt_string(&v["caller_alpn"]),
        caller_serialization_modes: match &v["caller_serialization_modes"] {
            Value::Null => ResolveOptions::default().caller_serialization_modes,
            list => strings(list),
        },
        caller_policy_realm: opt_string(&v["caller_policy_realm"]),
        ..ResolveOptions::default()
    }
}

#[test]
fn resolve_scenarios_match_reference() {
    let doc = vectors();
    let scenarios = cases(&doc, "resolve_scenarios");
    assert!(scenarios.len() >= 20);
    let mut differences_used = 0;
    for sc in scenarios {
        let name = s(&sc["name"]);
        let options = options_of(&sc["options"]);
        let difference = RESOLVE_DIFFERENCES.iter().find(|d| d.0 == name);
        differences_used += usize::from(difference.is_some());
        let mut state = ResolverState::new();
        for (i, call) in sc["calls"].as_array().unwrap().iter().enumerate() {
            let entries = entries_of(&call["doc"]);
            let snapshot = match sc["acl_author"].as_str() {
                Some(admin) => Snapshot::with_doc_acl(&entries, Some(admin)),
                None => Snapshot::new(&entries, RegistryAcl::Open),
            };
            let selector = Selector {
                contract_id: opt_string(&call["contract_id"]),
                version: call["version"].as_i64().map(|v| v as i32),
                channel: opt_string(&call["channel"]),
            };
            let strategy = match s(&call["strategy"]) {
                "round_robin" => Rank::RoundRobin,
                "least_load" => Rank::LeastLoad,
                other => panic!("strategy {other}"),
            };
            let query = ResolveQuery::new(s(&call["service"]), selector).with_strategy(strategy);
            let now = call["now_ms"].as_i64().unwrap();
            let ours: Vec<String> = match resolve_all(&snapshot, &query, &options, &mut state, now)
            {
                Ok(leases) => leases.into_iter().map(|l| l.endpoint_id).collect(),
                Err(ResolveError::NotFound { .. }) => vec![],
                Err(e) => panic!("{name} call {i}: {e}"),
            };
            let expected: Vec<String> = match difference {
                Some((_, calls, _)) => calls[i].iter().map(|s| s.to_string()).collect(),
                None => strings(&call["reference"]["endpoints"]),
            };
            assert_eq!(
                ours, expected,
                "{name}, call {i} (reference: {})",
                call["reference"]
            );
        }
    }
    assert_eq!(
        differences_used,
        RESOLVE_DIFFERENCES.len(),
        "every listed difference has a scenario"
    );
}

// ─────────────────────────────────────────────────────────────────────────────
// Helpers for the rule tests
// ─────────────────────────────────────────────────────────────────────────────

const T0: i64 = 1_700_000_000_000;

fn cid() -> String {
    "a1".repeat(32)
}

fn lease_at(endpoint_id: &str, updated_at: i64) -> EndpointLease {
    EndpointLease {
        endpoint_id: endpoint_id.into(),
        contract_id: cid(),
        service: "Echo".into(),
        version: 1,
        lease_expires_epoch_ms: updated_at + LEASE_DURATION_MS,
        lease_seq: 1,
        alpn: "aster/1".into(),
        serialization_modes: vec!["fory-xlang".into()],
        feature_flags: vec![],
        relay_url: None,
        direct_addrs: vec![],
        load: None,
        language_runtime: None,
        aster_version: "0.1.0".into(),
        policy_realm: None,
        health_status: HealthStatus::Ready,
        tags: vec![],
        updated_at_epoch_ms: updated_at,
    }
}

fn doc_of(leases: &[EndpointLease]) -> Vec<DocEntry> {
    let mut doc = vec![DocEntry::new(
        "services/Echo/versions/v1",
        "author",
        1,
        cid(),
    )];
    for l in leases {
        doc.push(DocEntry::new(
            keys::lease_key(&l.service, &l.contract_id, &l.endpoint_id).unwrap(),
            "author",
            2,
            l.encode(),
        ));
    }
    doc
}

fn run(
    doc: &[DocEntry],
    strategy: Rank,
    options: &ResolveOptions,
    state: &mut ResolverState,
    now: i64,
) -> Vec<String> {
    let query = ResolveQuery::new("Echo", Selector::version(1)).with_strategy(strategy);
    match resolve_all(
        &Snapshot::new(doc, RegistryAcl::Open),
        &query,
        options,
        state,
        now,
    ) {
        Ok(v) => v.into_iter().map(|l| l.endpoint_id).collect(),
        Err(ResolveError::NotFound { .. }) => vec![],
        Err(e) => panic!("{e}"),
    }
}

fn rejections(
    doc: &[DocEntry],
    options: &ResolveOptions,
    state: &mut ResolverState,
    now: i64,
) -> Option<Rejections> {
    let query = ResolveQuery::new("Echo", Selector::version(1));
    match resolve_all(
        &Snapshot::new(doc, RegistryAcl::Open),
        &query,
        options,
        state,
        now,
    ) {
        Ok(_) => None,
        Err(ResolveError::NotFound {
            reason: NotFoundReason::AllRejected(r),
            ..
        }) => Some(*r),
        Err(e) => panic!("{e}"),
    }
}

// ─────────────────────────────────────────────────────────────────────────────
// Unit tests of the rules
// ─────────────────────────────────────────────────────────────────────────────

#[test]
fn key_parser_is_strict() {
    let c = cid();
    for bad in [
        "contracts/".to_owned(),
        "contracts/ABCD".to_owned(),
        format!("contracts/{}", "A1".repeat(32)),
        format!("contracts/{c}/extra"),
        "services/Echo/versions/1".to_owned(),
        "services/Echo/versions/v01".to_owned(),
        "services/Echo/versions/v+1".to_owned(),
        "services/Echo/versions/v-0".to_owned(),
        "services/Echo/versions/v2147483648".to_owned(),
        "services//channels/x".to_owned(),
        "services/Echo/channels/".to_owned(),
        "services/Echo/channels/a\u{7}b".to_owned(),
        format!("services/Echo/contracts/{c}/endpoints/"),
        format!("services/Echo/contracts/{c}/endpoints/a/b"),
        "_aster/acl/owners".to_owned(),
        "_aster/config/".to_owned(),
        "manifests".to_owned(),
        "".to_owned(),
        "x".repeat(2000),
    ] {
        assert!(
            RegistryKey::parse(bad.as_bytes()).is_err(),
            "{bad:?} parsed"
        );
    }
    assert_eq!(RegistryKey::parse(&[0xff, 0xfe]), Err(KeyError::NotUtf8));
    assert!(matches!(
        keys::channel_key("a/b", "x"),
        Err(KeyError::ContainsSlash { .. })
    ));
    assert!(matches!(
        keys::tag_key("Echo", &"t".repeat(MAX_NAME_LEN + 1)),
        Err(KeyError::PieceTooLong { .. })
    ));
    assert_eq!(
        RegistryKey::parse(b"services/Echo/versions/v-2147483648").unwrap(),
        RegistryKey::Version {
            service: "Echo".into(),
            version: i32::MIN
        }
    );
}

#[test]
fn not_found_says_why() {
    let options = ResolveOptions::default();
    let mut state = ResolverState::new();
    let leases = [
        LeaseValue::Lease(EndpointLease {
            health_status: HealthStatus::Starting,
            ..lease_at("ep-a", T0)
        }),
        LeaseValue::Lease(EndpointLease {
            alpn: "h3".into(),
            ..lease_at("ep-b", T0)
        }),
        LeaseValue::Tombstone,
    ];
    let mut doc = vec![DocEntry::new(
        "services/Echo/versions/v1",
        "author",
        1,
        cid(),
    )];
    for (i, v) in leases.iter().enumerate() {
        doc.push(DocEntry::new(
            keys::lease_key("Echo", &cid(), &format!("ep-{i}")).unwrap(),
            "author",
            2,
            v.encode(),
        ));
    }
    // ep-0/ep-1 bodies say ep-a/ep-b: key mismatch. Fix the keys for the first two.
    doc[1].key = keys::lease_key("Echo", &cid(), "ep-a")
        .unwrap()
        .into_bytes();
    doc[2].key = keys::lease_key("Echo", &cid(), "ep-b")
        .unwrap()
        .into_bytes();
    doc.push(DocEntry::new(
        keys::lease_key("Echo", &cid(), "ep-x").unwrap(),
        "author",
        2,
        "{oops",
    ));
    let err = resolve(
        &Snapshot::new(&doc, RegistryAcl::Open),
        &ResolveQuery::new("Echo", Selector::version(1)),
        &options,
        &mut state,
        T0 + 1,
    )
    .unwrap_err();
    let ResolveError::NotFound {
        reason: NotFoundReason::AllRejected(r),
        contract_id,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!(contract_id.as_deref(), Some(cid().as_str()));
    assert_eq!(
        **r,
        Rejections {
            rows: 4,
            tombstones: 1,
            malformed: 1,
            not_routable: 1,
            alpn_mismatch: 1,
            ..Rejections::default()
        }
    );
    let text = err.to_string();
    assert!(
        text.contains("4 lease row(s): 1 withdrawn") && text.contains("1 on another ALPN"),
        "{text}"
    );

    let q = |sel| ResolveQuery::new("Echo", sel);
    let snap = Snapshot::new(&doc, RegistryAcl::Open);
    let reason = |r: Result<EndpointLease, ResolveError>| match r {
        Err(ResolveError::NotFound { reason, .. }) => reason,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        reason(resolve(
            &snap,
            &q(Selector::default()),
            &options,
            &mut state,
            T0
        )),
        NotFoundReason::EmptySelector
    );
    assert_eq!(
        reason(resolve(
            &snap,
            &q(Selector::version(7)),
            &options,
            &mut state,
            T0
        )),
        NotFoundReason::NoPointer
    );
    let bad_ptr = [DocEntry::new(
        "services/Echo/versions/v1",
        "author",
        1,
        "not-a-cid",
    )];
    assert_eq!(
        reason(resolve(
            &Snapshot::new(&bad_ptr, RegistryAcl::Open),
            &q(Selector::version(1)),
            &options,
            &mut state,
            T0
        )),
        NotFoundReason::MalformedPointer {
            key: "services/Echo/versions/v1".into()
        }
    );
    let no_rows = reason(resolve(
        &snap,
        &q(Selector::contract(&"b2".repeat(32))),
        &options,
        &mut state,
        T0,
    ));
    assert_eq!(no_rows, NotFoundReason::AllRejected(Box::default()));
    assert_eq!(no_rows.to_string(), "no lease rows for the contract");
    assert!(matches!(
        resolve(
            &snap,
            &ResolveQuery::new("a/b", Selector::version(1)),
            &options,
            &mut state,
            T0
        ),
        Err(ResolveError::InvalidQuery(KeyError::ContainsSlash { .. }))
    ));
    assert!(matches!(
        resolve(
            &snap,
            &q(Selector::contract("XYZ")),
            &options,
            &mut state,
            T0
        ),
        Err(ResolveError::InvalidQuery(KeyError::BadContractId { .. }))
    ));
}

#[test]
fn acl_filters_pointers_and_leases() {
    let mut doc = doc_of(&[lease_at("ep-a", T0)]);
    // An untrusted author moves the pointer and adds its own endpoint.
    doc.push(DocEntry::new(
        "services/Echo/versions/v1",
        "mallory",
        99,
        "b2".repeat(32),
    ));
    doc.push(DocEntry::new(
        keys::lease_key("Echo", &cid(), "ep-m").unwrap(),
        "mallory",
        3,
        lease_at("ep-m", T0).encode(),
    ));
    doc.push(DocEntry::new(
        "_aster/acl/writers",
        "admin",
        1,
        AclList(vec!["author".into()]).encode(),
    ));
    let options = ResolveOptions::default();
    let q = ResolveQuery::new("Echo", Selector::version(1));
    let trusted = Snapshot::with_doc_acl(&doc, Some("admin"));
    let got = resolve_all(&trusted, &q, &options, &mut ResolverState::new(), T0 + 1).unwrap();
    assert_eq!(
        got.iter()
            .map(|l| l.endpoint_id.as_str())
            .collect::<Vec<_>>(),
        ["ep-a"]
    );
    // Open (no ACL): the newest pointer wins and names a contract with no leases.
    let open = Snapshot::new(&doc, RegistryAcl::Open);
    let err = resolve_all(&open, &q, &options, &mut ResolverState::new(), T0 + 1).unwrap_err();
    assert!(
        matches!(err, ResolveError::NotFound { contract_id: Some(c), .. } if c == "b2".repeat(32))
    );
    // Mallory writing a writers list does not matter when the admin is named and wrote one.
    doc.push(DocEntry::new(
        "_aster/acl/writers",
        "mallory",
        50,
        AclList(vec!["mallory".into()]).encode(),
    ));
    assert!(
        Snapshot::with_doc_acl(&doc, Some("admin"))
            .acl()
            .is_trusted_writer("author")
    );
    assert!(
        !Snapshot::with_doc_acl(&doc, Some("admin"))
            .acl()
            .is_trusted_writer("mallory")
    );
}

#[test]
fn gossip_resync_prefixes() {
    let c = cid();
    let e = GossipEvent::endpoint_lease_upserted("ep", "Echo", 3, &c, 0);
    assert_eq!(
        e.resync_prefix().unwrap(),
        format!("services/Echo/contracts/{c}/endpoints/")
    );
    assert_eq!(
        GossipEvent::acl_changed("_aster/acl/writers", 0)
            .resync_prefix()
            .unwrap(),
        "_aster/acl/"
    );
    // A hint naming an impossible key is ignored, not followed.
    assert_eq!(
        GossipEvent::endpoint_down("ep", "a/b", 0).resync_prefix(),
        None
    );
    assert_eq!(
        GossipEvent::contract_published(&c, "Echo", 1, 0).kind,
        GossipEventType::ContractPublished
    );
}

#[test]
fn publisher_refuses_impossible_transitions() {
    let (mut p, first) = LeasePublisher::register(
        LeaseSpec::new("ep", &cid(), "Echo", 1),
        LeaseTiming::default(),
        T0,
    )
    .unwrap();
    assert_eq!(first.value, LeaseValue::Lease(p.lease().clone()));
    assert_eq!(
        (p.lease().lease_seq, p.lease().health_status),
        (1, HealthStatus::Starting)
    );
    assert_eq!(p.lease().lease_expires_epoch_ms, T0 + LEASE_DURATION_MS);
    assert!(p.set_load(Some(1.5), T0).is_err());
    assert!(p.set_load(Some(f64::NAN), T0).is_err());
    p.set_load(Some(0.5), T0 + 1).unwrap();
    p.withdraw(0, T0 + 2).unwrap();
    assert!(matches!(
        p.withdraw(0, T0 + 2),
        Err(aster_proto::registry::LeaseError::AlreadyDraining)
    ));
    let tomb = p.handle_timeout(T0 + 2).unwrap().unwrap();
    assert_eq!(tomb.value, LeaseValue::Tombstone);
    assert_eq!(tomb.gossip.kind, GossipEventType::EndpointDown);
    assert!(p.set_health(HealthStatus::Ready, T0 + 3).is_err());
    assert!(p.refresh(T0 + 3).is_err());
    assert_eq!(p.handle_timeout(T0 + 1_000_000).unwrap(), None);
    assert!(
        LeasePublisher::register(
            LeaseSpec::new("a/b", &cid(), "Echo", 1),
            LeaseTiming::default(),
            T0
        )
        .is_err()
    );
    let mut spec = LeaseSpec::new("ep", &cid(), "Echo", 1);
    spec.serialization_modes.clear();
    let (p, _) = LeasePublisher::register(spec, LeaseTiming::default(), T0).unwrap();
    assert_eq!(p.lease().serialization_modes, ["fory-xlang"]);
}

#[test]
fn restart_and_pruning() {
    let options = ResolveOptions::default();
    let mut state = ResolverState::new();
    let l20 = EndpointLease {
        lease_seq: 20,
        ..lease_at("ep-a", T0)
    };
    assert_eq!(
        run(
            &doc_of(&[l20]),
            Rank::RoundRobin,
            &options,
            &mut state,
            T0 + 1
        ),
        ["ep-a"]
    );
    assert_eq!(state.tracked_leases(), 1);
    // Restarted within the old lease's term: refused until the old term is over.
    let early = EndpointLease {
        lease_seq: 1,
        ..lease_at("ep-a", T0 + 30_000)
    };
    assert!(
        run(
            &doc_of(&[early]),
            Rank::RoundRobin,
            &options,
            &mut state,
            T0 + 30_001
        )
        .is_empty()
    );
    let later = EndpointLease {
        lease_seq: 2,
        ..lease_at("ep-a", T0 + 45_001)
    };
    assert_eq!(
        run(
            &doc_of(&[later]),
            Rank::RoundRobin,
            &options,
            &mut state,
            T0 + 45_002
        ),
        ["ep-a"]
    );
    // Once every remembered lease is stale, resolving the contract forgets them.
    assert!(
        run(
            &doc_of(&[]),
            Rank::RoundRobin,
            &options,
            &mut state,
            T0 + 200_000
        )
        .is_empty()
    );
    assert_eq!(state.tracked_leases(), 0);
}

#[test]
fn random_strategy_spreads_the_head() {
    let leases: Vec<_> = (0..4).map(|i| lease_at(&format!("ep-{i}"), T0)).collect();
    let doc = doc_of(&leases);
    let mut heads = [0usize; 4];
    for seed in 0..4000u64 {
        let got = run(
            &doc,
            Rank::Random { seed },
            &ResolveOptions::default(),
            &mut ResolverState::new(),
            T0 + 1,
        );
        heads[got[0]
            .strip_prefix("ep-")
            .unwrap()
            .parse::<usize>()
            .unwrap()] += 1;
    }
    assert!(heads.iter().all(|&h| (800..1200).contains(&h)), "{heads:?}");
}

// ─────────────────────────────────────────────────────────────────────────────
// Properties
// ─────────────────────────────────────────────────────────────────────────────

fn name_strategy() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[^/\\p{Cc}]{1,30}").unwrap()
}

fn health_strategy() -> impl Strategy<Value = HealthStatus> {
    prop_oneof![
        Just(HealthStatus::Starting),
        Just(HealthStatus::Ready),
        Just(HealthStatus::Degraded),
        Just(HealthStatus::Draining)
    ]
}

prop_compose! {
    fn any_lease()(
        endpoint_id in name_strategy(),
        service in name_strategy(),
        version in any::<i32>(),
        expires in any::<i64>(),
        seq in any::<i64>(),
        alpn in ".{0,12}",
        modes in proptest::collection::vec(".{0,8}", 0..3),
        relay in proptest::option::of(".{0,20}"),
        // Loads with at most 15 significant digits: serde_json, as the workspace configures it
        // (no `float_roundtrip` feature), may read a 17-digit repr one ulp off. Python writes
        // shortest reprs, so a 17-digit load from a reference peer can come back 1 ulp off.
        load in proptest::option::of((0.0f64..=1.0).prop_map(|f| format!("{f:.14e}").parse::<f64>().unwrap_or(0.5))),
        realm in proptest::option::of("[a-z]{0,6}"),
        health in health_strategy(),
        tags in proptest::collection::vec(".{0,8}", 0..3),
        updated in any::<i64>(),
    ) -> EndpointLease {
        EndpointLease {
            endpoint_id, contract_id: cid(), service, version, lease_expires_epoch_ms: expires, lease_seq: seq,
            alpn, serialization_modes: modes, feature_flags: vec![], relay_url: relay, direct_addrs: vec!["10.0.0.1:1".into()],
            load, language_runtime: None, aster_version: "x".into(), policy_realm: realm, health_status: health,
            tags, updated_at_epoch_ms: updated,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn keys_round_trip(service in name_strategy(), other in name_strategy(), version in any::<i32>()) {
        let c = cid();
        for key in [
            RegistryKey::version(&service, version).unwrap(),
            RegistryKey::channel(&service, &other).unwrap(),
            RegistryKey::tag(&service, &other).unwrap(),
            RegistryKey::lease(&service, &c, &other).unwrap(),
            RegistryKey::config(&other).unwrap(),
            RegistryKey::contract(&c).unwrap(),
        ] {
            prop_assert_eq!(RegistryKey::parse(&key.to_bytes()).unwrap(), key);
        }
    }

    #[test]
    fn key_parse_never_panics_and_is_exact(bytes in proptest::collection::vec(any::<u8>(), 0..200), text in "[a-z_/v0-9-]{0,60}") {
        let _ = RegistryKey::parse(&bytes);
        if let Ok(k) = RegistryKey::parse(text.as_bytes()) {
            prop_assert_eq!(k.to_string(), text);
        }
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = LeaseValue::decode(&bytes);
        let _ = ArtifactRef::decode(&bytes);
        let _ = GossipEvent::decode(&bytes);
        let _ = AclList::decode(&bytes);
    }

    #[test]
    fn lease_json_round_trips(lease in any_lease()) {
        let bytes = lease.encode();
        prop_assert!(bytes.is_ascii());
        let back = EndpointLease::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &lease);
        prop_assert_eq!(back.encode(), bytes);
    }

    #[test]
    fn freshness_boundaries(updated_off in -60_000i64..60_000, expires_off in -60_000i64..60_000, now in any::<i64>()) {
        // Offsets relative to now; compute them without overflow by clamping.
        let updated = now.saturating_add(updated_off);
        let expires = now.saturating_add(expires_off);
        let (du, de) = ((updated as i128) - (now as i128), (now as i128) - (expires as i128));
        let expected = if du > CLOCK_SKEW_TOLERANCE_MS as i128 {
            Freshness::FromFuture
        } else if -du > LEASE_DURATION_MS as i128 {
            Freshness::Stale
        } else if de > CLOCK_SKEW_TOLERANCE_MS as i128 {
            Freshness::Expired
        } else {
            Freshness::Fresh
        };
        prop_assert_eq!(freshness(updated, expires, now, LEASE_DURATION_MS, CLOCK_SKEW_TOLERANCE_MS), expected);
    }

    #[test]
    fn freshness_never_overflows(updated in any::<i64>(), expires in any::<i64>(), now in any::<i64>(), d in any::<i64>(), s in any::<i64>()) {
        let _ = freshness(updated, expires, now, d, s);
    }

    /// Resolving a lease at a given age: fresh exactly when the three rules hold.
    #[test]
    fn freshness_in_resolve(age in -10_000i64..60_000, term in 0i64..90_000) {
        let now = T0 + 100_000;
        let lease = EndpointLease { lease_expires_epoch_ms: now - age + term, ..lease_at("ep", now - age) };
        let got = run(&doc_of(&[lease]), Rank::RoundRobin, &ResolveOptions::default(), &mut ResolverState::new(), now);
        let expected = (-CLOCK_SKEW_TOLERANCE_MS..=LEASE_DURATION_MS).contains(&age) && age - term <= CLOCK_SKEW_TOLERANCE_MS;
        prop_assert_eq!(!got.is_empty(), expected);
    }

    /// lease_seq monotonicity: a sequence of observations of one endpoint (all written
    /// "now", so the restart rule never applies) is accepted exactly when its seq is
    /// above the last accepted, or equal with the same bytes.
    #[test]
    fn seq_monotonicity(observations in proptest::collection::vec((1i64..6, any::<bool>()), 1..30)) {
        let now = T0 + 1_000;
        let options = ResolveOptions::default();
        let mut state = ResolverState::new();
        let mut last: Option<(i64, bool)> = None;
        for (seq, variant) in observations {
            let tags = if variant { vec!["x".to_owned()] } else { vec![] };
            let lease = EndpointLease { lease_seq: seq, tags, ..lease_at("ep", T0) };
            let accepted = !run(&doc_of(&[lease]), Rank::RoundRobin, &options, &mut state, now).is_empty();
            let expected = match last {
                None => true,
                Some((ls, lv)) => seq > ls || (seq == ls && variant == lv),
            };
            prop_assert_eq!(accepted, expected, "seq {} variant {} after {:?}", seq, variant, last);
            if accepted {
                last = Some((seq, variant));
            }
        }
    }

    /// Each mandatory filter, in order: a single lease survives exactly when every
    /// filter passes, and otherwise the first failing filter is the one counted.
    #[test]
    fn mandatory_filters(
        health in health_strategy(),
        age in -8_000i64..50_000,
        alpn in prop_oneof![Just("aster/1"), Just("aster/2")],
        modes in proptest::sample::subsequence(vec!["fory-xlang", "json", "row"], 0..=3),
        lease_realm in proptest::option::of(prop_oneof![Just("prod"), Just("dev")]),
        caller_realm in proptest::option::of(prop_oneof![Just("prod"), Just("dev")]),
        caller_modes in proptest::sample::subsequence(vec!["fory-xlang", "json"], 0..=2),
        caller_alpn in proptest::option::of(prop_oneof![Just("aster/1"), Just("")]),
    ) {
        let now = T0 + 100_000;
        let lease = EndpointLease {
            health_status: health,
            alpn: alpn.into(),
            serialization_modes: modes.iter().map(|m| m.to_string()).collect(),
            policy_realm: lease_realm.map(Into::into),
            ..lease_at("ep", now - age)
        };
        let options = ResolveOptions {
            caller_alpn: caller_alpn.map(Into::into),
            caller_serialization_modes: caller_modes.iter().map(|m| m.to_string()).collect(),
            caller_policy_realm: caller_realm.map(Into::into),
            ..ResolveOptions::default()
        };
        let effective_modes: Vec<&str> = if caller_modes.is_empty() { vec!["fory-xlang"] } else { caller_modes.clone() };
        let checks = [
            health.is_routable(),
            (-CLOCK_SKEW_TOLERANCE_MS..=LEASE_DURATION_MS).contains(&age),
            caller_alpn.is_none_or(|a| a.is_empty() || a == alpn),
            modes.iter().any(|m| effective_modes.contains(m)),
            !matches!((caller_realm, lease_realm), (Some(a), Some(b)) if a != b),
        ];
        let got = rejections(&doc_of(&[lease]), &options, &mut ResolverState::new(), now);
        match checks.iter().position(|ok| !ok) {
            None => prop_assert_eq!(got, None),
            Some(first) => {
                let r = got.expect("rejected");
                let counted = [
                    r.not_routable,
                    r.stale + r.expired + r.from_future,
                    r.alpn_mismatch,
                    r.no_common_mode,
                    r.realm_mismatch,
                ];
                let mut expected = [0; 5];
                expected[first] = 1;
                prop_assert_eq!(counted, expected);
            }
        }
    }

    /// Ranking: ready before degraded; least_load ascending with unknown last and ties in
    /// endpoint order; every strategy returns a permutation of the survivors.
    #[test]
    fn ranking_order(
        spec in proptest::collection::vec((any::<bool>(), proptest::option::of(0u8..5)), 1..12),
        seed in any::<u64>(),
    ) {
        let leases: Vec<_> = spec.iter().enumerate().map(|(i, (ready, load))| EndpointLease {
            health_status: if *ready { HealthStatus::Ready } else { HealthStatus::Degraded },
            load: load.map(|l| f64::from(l) / 4.0),
            ..lease_at(&format!("ep-{i:02}"), T0)
        }).collect();
        let doc = doc_of(&leases);
        let options = ResolveOptions::default();
        let by_id = |id: &str| leases.iter().find(|l| l.endpoint_id == id).unwrap().clone();
        for strategy in [Rank::RoundRobin, Rank::LeastLoad, Rank::Random { seed }] {
            let got = run(&doc, strategy, &options, &mut ResolverState::new(), T0 + 1);
            let mut sorted = got.clone();
            sorted.sort();
            let mut all: Vec<String> = leases.iter().map(|l| l.endpoint_id.clone()).collect();
            all.sort();
            prop_assert_eq!(sorted, all);
            let groups: Vec<bool> = got.iter().map(|id| by_id(id).health_status == HealthStatus::Ready).collect();
            prop_assert!(groups.windows(2).all(|w| w[0] || !w[1]), "ready first: {:?}", groups);
            if strategy == Rank::LeastLoad {
                let key = |id: &String| {
                    let l = by_id(id);
                    (l.health_status != HealthStatus::Ready, l.load.is_none(), l.load.map(|x| (x * 4.0) as u8), id.clone())
                };
                let mut expected = got.clone();
                expected.sort_by_key(key);
                prop_assert_eq!(&got, &expected);
            }
        }
    }

    /// Round robin over N calls on an unchanged snapshot (possible because of the R1
    /// fix): each ready endpoint leads exactly N / n times, in endpoint order.
    #[test]
    fn round_robin_fairness(n in 1usize..8, rounds in 1usize..5) {
        let leases: Vec<_> = (0..n).map(|i| lease_at(&format!("ep-{i}"), T0)).collect();
        let doc = doc_of(&leases);
        let mut state = ResolverState::new();
        let mut heads = vec![0usize; n];
        for call in 0..n * rounds {
            let got = run(&doc, Rank::RoundRobin, &ResolveOptions::default(), &mut state, T0 + 1 + call as i64);
            prop_assert_eq!(got.len(), n);
            let head: usize = got[0].strip_prefix("ep-").unwrap().parse().unwrap();
            prop_assert_eq!(head, call % n);
            heads[head] += 1;
        }
        prop_assert!(heads.iter().all(|&h| h == rounds));
    }

    /// Determinism: the same snapshot, state, query and time give the same answer and
    /// leave the same state behind (observed through the next call).
    #[test]
    fn resolve_is_deterministic(
        leases in proptest::collection::vec(any_lease(), 0..6),
        seed in any::<u64>(),
        now in any::<i64>(),
        pick in 0usize..3,
    ) {
        let leases: Vec<_> = leases.into_iter().map(|l| EndpointLease { service: "Echo".into(), ..l }).collect();
        let doc = doc_of(&leases);
        let strategy = [Rank::RoundRobin, Rank::LeastLoad, Rank::Random { seed }][pick];
        let options = ResolveOptions::default();
        let mut a = ResolverState::new();
        let mut b = ResolverState::new();
        let first_a = run(&doc, strategy, &options, &mut a, now);
        let first_b = run(&doc, strategy, &options, &mut b, now);
        prop_assert_eq!(&first_a, &first_b);
        prop_assert_eq!(run(&doc, strategy, &options, &mut a, now), run(&doc, strategy, &options, &mut b, now));
    }

    /// Arbitrary rows under the lease prefix and arbitrary pointers never panic.
    #[test]
    fn resolve_survives_garbage(
        rows in proptest::collection::vec((".{0,20}", proptest::collection::vec(any::<u8>(), 0..80)), 0..8),
        pointer in proptest::collection::vec(any::<u8>(), 0..80),
        now in any::<i64>(),
    ) {
        let prefix = keys::lease_prefix("Echo", &cid()).unwrap();
        let mut doc = vec![DocEntry { key: b"services/Echo/versions/v1".to_vec(), author: "a".into(), timestamp: 1, value: pointer }];
        for (suffix, value) in rows {
            doc.push(DocEntry { key: format!("{prefix}{suffix}").into_bytes(), author: "a".into(), timestamp: 2, value });
        }
        let snap = Snapshot::new(&doc, RegistryAcl::Open);
        let q = ResolveQuery::new("Echo", Selector::version(1).or_channel("stable"));
        let _ = resolve_all(&snap, &q, &ResolveOptions::default(), &mut ResolverState::new(), now);
        let q = ResolveQuery::new("Echo", Selector::contract(&cid()));
        let _ = resolve_all(&snap, &q, &ResolveOptions::default(), &mut ResolverState::new(), now);
    }

    /// The publisher under any order of operations: every lease write bumps lease_seq
    /// by one and stamps now / now + 45 s; nothing is written after the tombstone.
    #[test]
    fn publisher_invariants(ops in proptest::collection::vec((0u8..5, 0i64..20_000), 1..40)) {
        let mut now = T0;
        let (mut p, first) = LeasePublisher::register(LeaseSpec::new("ep", &cid(), "Echo", 1), LeaseTiming::default(), now).unwrap();
        let mut seq = 1;
        let mut tombstoned = false;
        prop_assert_eq!(first.value, LeaseValue::Lease(p.lease().clone()));
        for (op, dt) in ops {
            now += dt;
            let result = match op {
                0 => p.set_health(HealthStatus::Ready, now).map(Some),
                1 => p.set_load(Some(0.5), now).map(Some),
                2 => p.withdraw(WITHDRAW_GRACE_MS, now).map(Some),
                3 => p.refresh(now).map(Some),
                _ => p.handle_timeout(now),
            };
            match result {
                Ok(Some(w)) => {
                    prop_assert!(!tombstoned, "write after the tombstone");
                    match w.value {
                        LeaseValue::Lease(l) => {
                            seq += 1;
                            prop_assert_eq!(l.lease_seq, seq);
                            prop_assert_eq!(l.updated_at_epoch_ms, now);
                            prop_assert_eq!(l.lease_expires_epoch_ms, now + LEASE_DURATION_MS);
                            prop_assert_eq!(w.gossip.version, Some(seq));
                        }
                        LeaseValue::Tombstone => tombstoned = true,
                    }
                }
                Ok(None) => {}
                Err(_) => {}
            }
            if let Some(t) = p.poll_timeout() {
                prop_assert!(t <= now + 15_000, "next timeout {} beyond one refresh interval", t);
            }
        }
    }
}
