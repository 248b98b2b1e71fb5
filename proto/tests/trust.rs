//! Tests for `aster_proto::trust`: credentials, admission, nonce stores,
//! capabilities, `.aster-identity`.
//!
//! Evidence:
//! - `conformance/vectors/trust-credentials.json`, produced live by aster-rpc/aster-cli 0.1.2
//!   (`conformance/generate/trust_vectors.py`): key files, credential files, the client's
//!   `credential_json`, signing bytes and signatures (ed25519 is deterministic, so our
//!   signatures must equal the reference's), and an `.aster-identity` from `aster enroll node`;
//! - the security cases of trust-registry.md §1.5–§1.16 that are pure logic;
//! - properties: any change to the signed bytes breaks the signature; parsing never panics;
//!   the JSON forms round-trip.

use std::path::PathBuf;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use aster_proto::admission::AdmissionRequest;
use aster_proto::service::Requirement;
use aster_proto::status::StatusCode;
use aster_proto::trust::{
    AdmissionPath, Attributes, ConsumerCredential, ConsumerKind, Credential, CredentialError,
    DenyReason, EnrollmentCredential, FileNonceStore, GateLevel, IdentityFile, MemoryNonceStore,
    NodeSecretKey, NonceStore, NonceStoreError, PEER_TTL_SECS, PeerAdmission, PeerEntry, PeerRole,
    RootKeyFile, RootPublicKey, RootSigningKey, admit, admit_consumer_json, admit_producer_json,
    authorize, satisfies,
};
use proptest::prelude::*;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Vectors
// ---------------------------------------------------------------------------------------------

fn vectors() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../conformance/vectors/trust-credentials.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

fn seed(v: &Value, key: &str) -> [u8; 32] {
    hex::decode(s(v, key)).unwrap().try_into().unwrap()
}

/// Panics with the first differing offset, which is what one needs to debug a layout.
fn assert_bytes(name: &str, what: &str, ours: &[u8], theirs: &[u8]) {
    if ours != theirs {
        let at = ours
            .iter()
            .zip(theirs)
            .position(|(a, b)| a != b)
            .unwrap_or(ours.len().min(theirs.len()));
        panic!(
            "{name}: {what} differ at offset {at} (ours {} bytes, reference {} bytes)\n ours: {}\n them: {}",
            ours.len(),
            theirs.len(),
            String::from_utf8_lossy(ours),
            String::from_utf8_lossy(theirs)
        );
    }
}

fn vector_attributes(v: &Value) -> Attributes {
    v["attributes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, val)| (k.clone(), val.as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn vector_root_key_files() {
    let doc = vectors();
    let keys = doc["root_keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2);
    for k in keys {
        let file = RootKeyFile::parse(s(k, "root_key_file_text")).unwrap();
        assert_eq!(file.signing_key.seed(), seed(k, "seed_hex"));
        assert_eq!(
            file.signing_key.public_key().to_hex(),
            s(k, "public_key_hex")
        );
        assert_eq!(
            RootKeyFile::new(RootSigningKey::from_seed(&seed(k, "seed_hex"))).to_file_text(),
            s(k, "root_key_file_text")
        );
        let public = RootPublicKey::from_pub_file(s(k, "root_pub_file_text")).unwrap();
        assert_eq!(public, file.signing_key.public_key());
        assert_eq!(public.to_pub_file(), s(k, "root_pub_file_text"));
    }
}

#[test]
fn vector_credentials() {
    let doc = vectors();
    let creds = doc["credentials"].as_array().unwrap();
    assert_eq!(creds.len(), 13);
    let mut kinds = std::collections::BTreeSet::new();
    for v in creds {
        let name = s(v, "name");
        let kind = s(v, "kind");
        kinds.insert(kind.to_string());
        let key = RootSigningKey::from_seed(&seed(v, "seed_hex"));
        let root = key.public_key();
        assert_eq!(root.to_hex(), s(v, "root_pubkey_hex"), "{name}");
        let attributes = vector_attributes(v);
        let expires_at = v["expires_at"].as_u64().unwrap();
        let endpoint_id = v["endpoint_id"].as_str();
        let nonce: Option<[u8; 32]> = v["nonce_hex"]
            .as_str()
            .map(|h| hex::decode(h).unwrap().try_into().unwrap());

        // Built and signed by us from the same inputs.
        let ours: Credential = if kind == "producer" {
            EnrollmentCredential::new(endpoint_id.unwrap(), root, expires_at, attributes.clone())
                .signed(&key)
                .into()
        } else {
            let mut c = ConsumerCredential::new(
                ConsumerKind::parse(kind).unwrap(),
                root,
                expires_at,
                attributes.clone(),
            );
            c.endpoint_id = endpoint_id.map(str::to_string);
            c.nonce = nonce;
            c.signed(&key).into()
        };
        assert_bytes(
            name,
            "signing bytes",
            &ours.signing_bytes(),
            &hex::decode(s(v, "signing_bytes_hex")).unwrap(),
        );
        assert_eq!(
            hex::encode(ours.signature()),
            s(v, "signature_hex"),
            "{name}: signature"
        );
        assert_bytes(
            name,
            "file text",
            ours.to_file_json().as_bytes(),
            s(v, "file_text").as_bytes(),
        );
        assert_bytes(
            name,
            "credential_json",
            ours.to_wire_json().as_bytes(),
            s(v, "credential_json").as_bytes(),
        );

        // Read from the reference's file and from its wire string.
        let from_file = Credential::from_json(s(v, "file_text")).unwrap();
        let from_wire = Credential::from_json(s(v, "credential_json")).unwrap();
        assert_eq!(from_file, ours, "{name}");
        assert_eq!(from_wire, ours, "{name}");
        assert_eq!(from_file.type_name(), kind);
        // Attribute order survives (that is what makes the JSON forms byte-exact).
        assert!(
            from_file.attributes().iter().eq(attributes.iter()),
            "{name}: attribute order"
        );
        assert!(
            from_file.verify(&root),
            "{name}: the reference's signature verifies"
        );

        // The reference's admission check agreed to admit this peer; so do we.
        let peer = s(&v["reference_admission"], "peer_endpoint_id");
        let now = expires_at - 1;
        let admitted = if kind == "producer" {
            admit_producer_json(s(v, "credential_json"), &root, peer, now).unwrap()
        } else {
            // What the client puts on the wire around credential_json.
            let request = AdmissionRequest {
                credential_json: s(v, "credential_json").into(),
                iid_token: String::new(),
            };
            assert_bytes(
                name,
                "admission request",
                &request.encode(),
                s(v, "admission_request_json").as_bytes(),
            );
            let decoded =
                AdmissionRequest::decode(s(v, "admission_request_json").as_bytes()).unwrap();
            let mut store = MemoryNonceStore::new();
            let admitted =
                admit_consumer_json(&decoded.credential_json, &root, peer, now, Some(&mut store))
                    .unwrap();
            if kind == "ott" {
                let again = admit_consumer_json(
                    &decoded.credential_json,
                    &root,
                    peer,
                    now,
                    Some(&mut store),
                );
                assert!(
                    matches!(again.unwrap_err().reason, DenyReason::NonceReplayed),
                    "{name}"
                );
            }
            admitted
        };
        assert_eq!(admitted.attributes, attributes, "{name}");
        assert_eq!(admitted.expires_at, expires_at);
    }
    assert_eq!(
        kinds.into_iter().collect::<Vec<_>>(),
        ["ott", "policy", "producer"]
    );
}

#[test]
fn vector_identity_file() {
    let doc = vectors();
    let id = &doc["identity"];
    let text = s(id, "text");
    let file = IdentityFile::parse(text).unwrap();
    let node_key = NodeSecretKey::from_bytes(&seed(id, "node_seed_hex"));
    assert_eq!(file.node.secret_key.as_ref(), Some(&node_key));
    assert_eq!(
        file.node.endpoint_id(),
        Some(s(id, "endpoint_id").to_string())
    );
    assert_eq!(node_key.endpoint_id(), s(id, "endpoint_id"));

    // A reference file is written back byte for byte.
    assert_bytes(
        "identity",
        "TOML",
        file.to_toml().as_bytes(),
        text.as_bytes(),
    );

    let root = file.peers[0].root_pubkey;
    let peers = id["peers"].as_array().unwrap();
    assert_eq!(peers.len(), file.peers.len());
    let mut repaired = 0;
    for p in peers {
        let name = s(p, "name");
        let entry = file.find_peer(Some(name), None).unwrap();
        assert_eq!(entry.role.as_str(), s(p, "role"));
        let credential = entry.to_credential().unwrap();
        assert_eq!(
            credential.type_name(),
            if entry.role == PeerRole::Producer {
                "producer"
            } else {
                s(p, "type")
            }
        );
        // We present exactly what `aster enroll node` signed.
        assert_bytes(
            name,
            "signing bytes",
            &credential.signing_bytes(),
            &hex::decode(s(p, "signing_bytes_hex")).unwrap(),
        );
        assert_eq!(hex::encode(credential.signature()), s(p, "signature_hex"));
        assert!(credential.verify(&root), "{name}");
        let signed: Attributes = p["signed_attributes"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        assert_eq!(credential.attributes(), &signed, "{name}");
        // The reference CLI's view of the attributes.
        let cli: Attributes = p["cli_load_attributes"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        assert_eq!(entry.display_attributes(), cli, "{name}");

        if p["runtime_signature_verifies"].as_bool().unwrap() {
            // Where the reference client's credential is good, ours is the same string.
            assert_eq!(
                credential.to_wire_json(),
                s(p, "runtime_credential_json"),
                "{name}"
            );
        } else {
            // The reference client presents attributes it did not sign (its writer dropped
            // aster.role/aster.name); we present the signed set instead.
            assert_ne!(
                credential.to_wire_json(),
                s(p, "runtime_credential_json"),
                "{name}"
            );
            assert!(
                !Credential::from_json(s(p, "runtime_credential_json"))
                    .unwrap()
                    .verify(&root)
            );
            repaired += 1;
        }

        let peer_id = node_key.endpoint_id();
        let result = admit(
            &credential,
            &root,
            &peer_id,
            1_700_000_000,
            Some(&mut MemoryNonceStore::new()),
        );
        match s(p, "case") {
            // T6: `aster enroll node --type ott` never makes a nonce; refused structurally.
            "consumer-ott" => assert!(matches!(
                result.unwrap_err().reason,
                DenyReason::OttWithoutNonce
            )),
            _ => assert!(result.is_ok(), "{name}: {result:?}"),
        }
    }
    assert_eq!(
        repaired, 3,
        "the vectors record three reference-client failures"
    );

    // Selection as the reference runtime does it.
    assert_eq!(
        file.find_peer(None, Some(PeerRole::Producer)).unwrap().name,
        "billing-producer"
    );
    assert_eq!(
        file.find_peer(None, Some(PeerRole::Consumer)).unwrap().name,
        "analytics"
    );
    assert_eq!(file.find_peer(None, None).unwrap().name, "analytics");
    assert!(file.find_peer(Some("nobody"), None).is_none());
}

#[test]
fn identity_written_from_credentials() {
    let doc = vectors();
    let id = &doc["identity"];
    let text = s(id, "text");
    let reference = IdentityFile::parse(text).unwrap();
    // The reference's `analytics` block has no attribute that its writer drops, so ours
    // writes the same bytes when built from the credential itself.
    let analytics = reference.find_peer(Some("analytics"), None).unwrap();
    let ours = IdentityFile {
        node: aster_proto::trust::NodeSection::new(NodeSecretKey::from_bytes(&seed(
            id,
            "node_seed_hex",
        ))),
        peers: vec![PeerEntry::from_credential(
            "analytics",
            &analytics.to_credential().unwrap(),
        )],
        ..Default::default()
    };
    let end = text.find("[[peers]]\nname = \"plain-consumer\"").unwrap();
    assert_bytes(
        "identity",
        "TOML",
        ours.to_toml().as_bytes(),
        &text.as_bytes()[..end],
    );

    // For the entries whose attributes the reference writer drops, we write them all, so the
    // written attributes are exactly the signed ones and need no repair.
    let mut rewritten = IdentityFile {
        node: ours.node.clone(),
        ..Default::default()
    };
    for entry in &reference.peers {
        rewritten.add_peer(PeerEntry::from_credential(
            entry.name.clone(),
            &entry.to_credential().unwrap(),
        ));
    }
    let reparsed = IdentityFile::parse(&rewritten.to_toml()).unwrap();
    for entry in &reparsed.peers {
        let written = entry.to_credential().unwrap();
        assert_eq!(written.attributes(), &entry.attributes, "{}", entry.name);
        assert!(written.verify(&entry.root_pubkey));
    }
    // add_peer replaces by name.
    let again = reparsed.peers[0].clone();
    let mut replaced = reparsed.clone();
    replaced.add_peer(again);
    assert_eq!(replaced.peers.len(), reparsed.peers.len());
}

#[test]
fn identity_errors() {
    let node = NodeSecretKey::from_bytes(&[1; 32]);
    let base = IdentityFile {
        node: aster_proto::trust::NodeSection::new(node.clone()),
        ..Default::default()
    };
    let text = base.to_toml();
    assert_eq!(IdentityFile::parse(&text).unwrap(), base);
    let wrong = text.replace(&node.endpoint_id(), &"ab".repeat(32));
    assert!(matches!(
        IdentityFile::parse(&wrong),
        Err(aster_proto::trust::IdentityError::EndpointIdMismatch { .. })
    ));
    assert!(matches!(
        IdentityFile::parse("[node]\nsecret_key = \"AAAA\"\n"),
        Err(aster_proto::trust::IdentityError::SecretKey(_))
    ));
    assert!(matches!(
        IdentityFile::parse("[node"),
        Err(aster_proto::trust::IdentityError::Toml(_))
    ));
    let peer =
        "[[peers]]\nrole = \"consumer\"\nroot_pubkey = \"00\"\nexpires_at = 1\nsignature = \"\"\n";
    assert!(matches!(
        IdentityFile::parse(peer),
        Err(aster_proto::trust::IdentityError::Peer {
            index: 0,
            source: CredentialError::HexLength {
                field: "root_pubkey",
                ..
            }
        })
    ));
    let gateway = "[[peers]]\nrole = \"gateway\"\n";
    assert!(matches!(
        IdentityFile::parse(gateway),
        Err(aster_proto::trust::IdentityError::UnknownRole { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// Admission: security cases (trust-registry.md §1.5, §1.9–§1.16)
// ---------------------------------------------------------------------------------------------

const NOW: u64 = 1_700_000_000;
const LATER: u64 = NOW + 3600;

// Keys are derived once: the property tests run in debug builds, where every scalar
// multiplication counts.
static ROOT_A: LazyLock<RootSigningKey> = LazyLock::new(|| RootSigningKey::from_seed(&[0xa1; 32]));
static ROOT_B: LazyLock<RootSigningKey> = LazyLock::new(|| RootSigningKey::from_seed(&[0xb2; 32]));
static PEER_X: LazyLock<String> =
    LazyLock::new(|| NodeSecretKey::from_bytes(&[0x11; 32]).endpoint_id());
static PEER_Y: LazyLock<String> =
    LazyLock::new(|| NodeSecretKey::from_bytes(&[0x22; 32]).endpoint_id());
static NODE_3: LazyLock<NodeSecretKey> = LazyLock::new(|| NodeSecretKey::from_bytes(&[3; 32]));

fn root_a() -> &'static RootSigningKey {
    &ROOT_A
}

fn root_b() -> &'static RootSigningKey {
    &ROOT_B
}

fn peer_x() -> String {
    PEER_X.clone()
}

fn peer_y() -> String {
    PEER_Y.clone()
}

fn attrs() -> Attributes {
    Attributes::from_iter([
        ("aster.role", "ops.status,ops.logs"),
        ("aster.name", "alice"),
    ])
}

fn producer(endpoint: &str) -> Credential {
    EnrollmentCredential::new(endpoint, root_a().public_key(), LATER, attrs())
        .signed(root_a())
        .into()
}

fn policy() -> ConsumerCredential {
    ConsumerCredential::new(ConsumerKind::Policy, root_a().public_key(), LATER, attrs())
        .signed(root_a())
}

fn ott(nonce: [u8; 32]) -> ConsumerCredential {
    ConsumerCredential::new(ConsumerKind::Ott, root_a().public_key(), LATER, attrs())
        .with_nonce(nonce)
        .signed(root_a())
}

fn check(
    credential: impl Into<Credential>,
    peer: &str,
    store: Option<&mut dyn NonceStore>,
) -> Result<Attributes, DenyReason> {
    admit(&credential.into(), &root_a().public_key(), peer, NOW, store)
        .map(|a| a.attributes)
        .map_err(|d| d.reason)
}

#[test]
fn valid_credentials_are_admitted() {
    assert_eq!(
        check(producer(&peer_x()), &peer_x(), None).unwrap(),
        attrs()
    );
    assert_eq!(check(policy(), &peer_x(), None).unwrap(), attrs());
    assert_eq!(
        check(policy(), &peer_y(), None).unwrap(),
        attrs(),
        "an unbound policy is a bearer credential"
    );
    let bound = policy().with_endpoint_id(peer_x()).signed(root_a());
    assert!(check(bound, &peer_x(), None).is_ok());
    assert!(check(ott([1; 32]), &peer_x(), Some(&mut MemoryNonceStore::new())).is_ok());
}

#[test]
fn wrong_root_is_refused() {
    // Self-minted root: consistent and well signed, but not ours.
    let minted =
        ConsumerCredential::new(ConsumerKind::Policy, root_b().public_key(), LATER, attrs())
            .signed(root_b());
    assert!(minted.verify(&root_b().public_key()));
    assert!(matches!(
        check(minted, &peer_x(), None),
        Err(DenyReason::UntrustedRoot { .. })
    ));
    // Claims our root, signed by another key.
    let forged =
        ConsumerCredential::new(ConsumerKind::Policy, root_a().public_key(), LATER, attrs())
            .signed(root_b());
    assert!(matches!(
        check(forged, &peer_x(), None),
        Err(DenyReason::BadSignature)
    ));
}

/// A named change to one field.
type Tamper<'a, T> = (&'static str, Box<dyn Fn(&mut T) + 'a>);

#[test]
fn every_tampered_field_breaks_the_signature() {
    let other_id = peer_y();
    // Producer: each field.
    let base = match producer(&peer_x()) {
        Credential::Producer(c) => c,
        Credential::Consumer(_) => unreachable!(),
    };
    let producer_tampers: Vec<Tamper<'_, EnrollmentCredential>> = vec![
        (
            "endpoint_id",
            Box::new(|c| c.endpoint_id = other_id.clone()),
        ),
        ("expires_at", Box::new(|c| c.expires_at += 1)),
        (
            "attribute value",
            Box::new(|c| {
                c.attributes.insert("aster.role", "ops.admin");
            }),
        ),
        (
            "attribute added",
            Box::new(|c| {
                c.attributes.insert("x", "");
            }),
        ),
        (
            "attribute removed",
            Box::new(|c| {
                c.attributes.remove("aster.name");
            }),
        ),
        ("signature", Box::new(|c| c.signature[17] ^= 0x01)),
    ];
    for (what, tamper) in &producer_tampers {
        let mut c = base.clone();
        tamper(&mut c);
        assert!(!c.verify(&root_a().public_key()), "producer {what}");
        let peer = c.endpoint_id.clone();
        assert!(
            matches!(check(c, &peer, None), Err(DenyReason::BadSignature)),
            "producer {what}"
        );
    }
    // Root key field: with the tampered key trusted, the signature no longer verifies.
    let mut c = base.clone();
    c.root_pubkey = root_b().public_key();
    assert!(!c.verify(&root_b().public_key()));

    // Consumer: each field, including the presence flags.
    let base = ott([7; 32]).with_endpoint_id(peer_x()).signed(root_a());
    let consumer_tampers: Vec<Tamper<'_, ConsumerCredential>> = vec![
        ("kind", Box::new(|c| c.kind = ConsumerKind::Policy)),
        ("endpoint removed", Box::new(|c| c.endpoint_id = None)),
        (
            "endpoint changed",
            Box::new(|c| c.endpoint_id = Some(other_id.clone())),
        ),
        ("nonce changed", Box::new(|c| c.nonce = Some([8; 32]))),
        ("nonce removed", Box::new(|c| c.nonce = None)),
        ("expires_at", Box::new(|c| c.expires_at = u64::MAX)),
        ("attributes", Box::new(|c| c.attributes = Attributes::new())),
        ("signature", Box::new(|c| c.signature[63] ^= 0x80)),
    ];
    for (what, tamper) in &consumer_tampers {
        let mut c = base.clone();
        tamper(&mut c);
        assert!(!c.verify(&root_a().public_key()), "consumer {what}");
    }
    // The unbound policy gains an endpoint binding or a nonce.
    let mut bound = policy();
    bound.endpoint_id = Some(peer_x());
    assert!(!bound.verify(&root_a().public_key()));
}

#[test]
fn policy_ott_flips_and_nonce_injection() {
    let store = &mut MemoryNonceStore::new();
    // policy -> ott: without a nonce it is structurally invalid; adding one breaks the signature.
    let mut flipped = policy();
    flipped.kind = ConsumerKind::Ott;
    assert!(matches!(
        check(flipped.clone(), &peer_x(), Some(store)),
        Err(DenyReason::OttWithoutNonce)
    ));
    flipped.nonce = Some([3; 32]);
    assert!(matches!(
        check(flipped, &peer_x(), Some(store)),
        Err(DenyReason::BadSignature)
    ));
    // Nonce injected into a policy: structurally invalid.
    let mut injected = policy();
    injected.nonce = Some([3; 32]);
    assert!(matches!(
        check(injected, &peer_x(), Some(store)),
        Err(DenyReason::PolicyWithNonce)
    ));
    // ott -> policy (nonce removed, so it could be replayed forever): bad signature.
    let mut downgraded = ott([4; 32]);
    downgraded.kind = ConsumerKind::Policy;
    assert!(matches!(
        check(downgraded.clone(), &peer_x(), Some(store)),
        Err(DenyReason::PolicyWithNonce)
    ));
    downgraded.nonce = None;
    assert!(matches!(
        check(downgraded, &peer_x(), Some(store)),
        Err(DenyReason::BadSignature)
    ));
    // Nonce removed from an OTT but kind kept: structural.
    let mut stripped = ott([5; 32]);
    stripped.nonce = None;
    assert!(matches!(
        check(stripped, &peer_x(), Some(store)),
        Err(DenyReason::OttWithoutNonce)
    ));
    assert!(store.is_empty(), "no refused credential consumed a nonce");
}

#[test]
fn expiry_boundary() {
    let key = root_a().public_key();
    let c: Credential = policy().into();
    assert!(admit(&c, &key, &peer_x(), LATER - 1, None).is_ok());
    let at = admit(&c, &key, &peer_x(), LATER, None).unwrap_err();
    assert!(
        matches!(
            at.reason,
            DenyReason::Expired {
                expires_at: LATER,
                now: LATER
            }
        ),
        "expires_at == now is expired"
    );
    assert!(admit(&c, &key, &peer_x(), u64::MAX, None).is_err());
    let zero = ConsumerCredential::new(ConsumerKind::Policy, key, 0, attrs()).signed(root_a());
    assert!(matches!(
        admit(&zero.into(), &key, &peer_x(), 0, None)
            .unwrap_err()
            .reason,
        DenyReason::Expired { .. }
    ));
}

#[test]
fn endpoint_binding() {
    let bound = policy().with_endpoint_id(peer_x()).signed(root_a());
    match check(bound, &peer_y(), None) {
        Err(DenyReason::EndpointMismatch { credential, peer }) => {
            assert_eq!(credential, peer_x());
            assert_eq!(peer, peer_y());
        }
        other => panic!("{other:?}"),
    }
    // Ids are compared as the exact strings: an uppercase peer id is another id.
    let bound = policy().with_endpoint_id(peer_x()).signed(root_a());
    assert!(check(bound, &peer_x().to_uppercase(), None).is_err());
    let bound_ott = ott([9; 32]).with_endpoint_id(peer_x()).signed(root_a());
    let mut store = MemoryNonceStore::new();
    assert!(matches!(
        check(bound_ott.clone(), &peer_y(), Some(&mut store)),
        Err(DenyReason::EndpointMismatch { .. })
    ));
    assert!(
        check(bound_ott, &peer_x(), Some(&mut store)).is_ok(),
        "the refusal did not burn the nonce"
    );
}

#[test]
fn t1_producer_credential_binds_to_the_quic_peer() {
    // A copy of X's producer credential presented by Y: the reference admitted it (T1).
    let stolen = producer(&peer_x());
    assert!(matches!(
        check(stolen.clone(), &peer_y(), None),
        Err(DenyReason::EndpointMismatch { .. })
    ));
    assert!(check(stolen.clone(), &peer_x(), None).is_ok());
    // Same through the JSON entry point a producer-admission server uses.
    let json = stolen.to_wire_json();
    let denied = admit_producer_json(&json, &root_a().public_key(), &peer_y(), NOW).unwrap_err();
    assert!(matches!(denied.reason, DenyReason::EndpointMismatch { .. }));
    assert!(admit_producer_json(&json, &root_a().public_key(), &peer_x(), NOW).is_ok());
}

#[test]
fn replayed_ott_and_missing_store() {
    let mut store = MemoryNonceStore::new();
    let token = ott([0x5a; 32]);
    assert!(check(token.clone(), &peer_x(), Some(&mut store)).is_ok());
    assert!(matches!(
        check(token.clone(), &peer_x(), Some(&mut store)),
        Err(DenyReason::NonceReplayed)
    ));
    assert!(
        matches!(
            check(token.clone(), &peer_y(), Some(&mut store)),
            Err(DenyReason::NonceReplayed)
        ),
        "unbound OTT, other peer"
    );
    assert!(
        check(ott([0x5b; 32]), &peer_x(), Some(&mut store)).is_ok(),
        "another token is fine"
    );
    assert!(matches!(
        check(ott([0x5c; 32]), &peer_x(), None),
        Err(DenyReason::NoNonceStore)
    ));
    // Policy credentials never touch the store.
    assert!(check(policy(), &peer_x(), None).is_ok());
    assert_eq!(store.len(), 2);
}

#[test]
fn refused_credentials_never_burn_a_nonce() {
    let nonce = [0x77; 32];
    let mut store = MemoryNonceStore::new();
    let key = root_a().public_key();
    let mut bad_sig = ott(nonce);
    bad_sig.signature[0] ^= 1;
    let expired = ConsumerCredential::new(ConsumerKind::Ott, key, NOW, attrs())
        .with_nonce(nonce)
        .signed(root_a());
    let wrong_peer = ott(nonce).with_endpoint_id(peer_y()).signed(root_a());
    let mut iid_attrs = attrs();
    iid_attrs.insert("aster.iid_provider", "aws");
    let iid = ConsumerCredential::new(ConsumerKind::Ott, key, LATER, iid_attrs)
        .with_nonce(nonce)
        .signed(root_a());
    let foreign = ConsumerCredential::new(ConsumerKind::Ott, root_b().public_key(), LATER, attrs())
        .with_nonce(nonce)
        .signed(root_b());
    for (what, c) in [
        ("bad signature", bad_sig),
        ("expired", expired),
        ("wrong peer", wrong_peer),
        ("iid", iid),
        ("foreign root", foreign),
    ] {
        assert!(check(c, &peer_x(), Some(&mut store)).is_err(), "{what}");
        assert!(
            !store.is_consumed(&nonce).unwrap(),
            "{what} burned the nonce"
        );
    }
    assert!(check(ott(nonce), &peer_x(), Some(&mut store)).is_ok());
}

#[test]
fn iid_provider_is_refused() {
    let mut a = attrs();
    a.insert("aster.iid_provider", "aws");
    a.insert("aster.iid_account", "123");
    let c = ConsumerCredential::new(ConsumerKind::Policy, root_a().public_key(), LATER, a)
        .signed(root_a());
    match check(c, &peer_x(), None) {
        Err(DenyReason::IidUnsupported { provider }) => assert_eq!(provider, "aws"),
        other => panic!("{other:?}"),
    }
    // Even an empty provider value asks for IID.
    let c = ConsumerCredential::new(
        ConsumerKind::Policy,
        root_a().public_key(),
        LATER,
        Attributes::from_iter([("aster.iid_provider", "")]),
    )
    .signed(root_a());
    assert!(matches!(
        check(c, &peer_x(), None),
        Err(DenyReason::IidUnsupported { .. })
    ));
}

#[test]
fn nonce_store_failure_is_a_denial() {
    struct Broken;
    impl NonceStore for Broken {
        fn consume(&mut self, _: &[u8; 32]) -> Result<bool, NonceStoreError> {
            Err(NonceStoreError::Corrupt {
                path: "mem".into(),
                detail: "test".into(),
            })
        }
        fn is_consumed(&self, _: &[u8; 32]) -> Result<bool, NonceStoreError> {
            Err(NonceStoreError::Corrupt {
                path: "mem".into(),
                detail: "test".into(),
            })
        }
    }
    assert!(matches!(
        check(ott([1; 32]), &peer_x(), Some(&mut Broken)),
        Err(DenyReason::NonceStore(_))
    ));
}

#[test]
fn malformed_credential_json_is_a_denial() {
    let key = root_a().public_key();
    let deny = |json: &str| {
        admit_consumer_json(
            json,
            &key,
            &peer_x(),
            NOW,
            Some(&mut MemoryNonceStore::new()),
        )
        .unwrap_err()
        .reason
    };
    assert!(matches!(deny(""), DenyReason::Malformed(_)));
    assert!(matches!(
        deny("{\"credential_type\":\"ott\""),
        DenyReason::Malformed(_)
    ));
    assert!(matches!(
        deny(&producer(&peer_x()).to_wire_json()),
        DenyReason::Malformed(CredentialError::WrongKind { .. })
    ));
    let unknown = policy().to_wire_json().replace("\"policy\"", "\"admin\"");
    assert!(matches!(
        deny(&unknown),
        DenyReason::Malformed(CredentialError::UnknownType(_))
    ));
    let huge = format!("{{\"x\":\"{}\"}}", "a".repeat(70_000));
    assert!(matches!(
        deny(&huge),
        DenyReason::Malformed(CredentialError::TooLarge(_))
    ));
    // A wire form with `type` instead of `credential_type` (the file form) is accepted too.
    assert!(admit_consumer_json(&policy().to_file_json(), &key, &peer_x(), NOW, None).is_ok());
    // The reason reads well in a log line, and the Denied wrapper says so.
    let text = admit(
        &policy().into(),
        &root_b().public_key(),
        &peer_x(),
        NOW,
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(
        text.starts_with("admission denied: credential is signed for root"),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Persistent nonce store
// ---------------------------------------------------------------------------------------------

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "aster-trust-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn file_store_survives_restart() {
    let dir = temp_dir("restart");
    let path = dir.join("sub").join("nonces.json");
    {
        let mut store = FileNonceStore::open(&path).unwrap();
        assert!(store.is_empty());
        assert!(!path.exists(), "opening does not create the file");
        assert!(store.consume(&[0xbb; 32]).unwrap());
        assert!(store.consume(&[0xaa; 32]).unwrap());
        assert!(!store.consume(&[0xbb; 32]).unwrap(), "replay");
    }
    // The reference's format, byte for byte (sorted hex, Python's default separators).
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(
        text,
        format!(
            "{{\"consumed\": [\"{}\", \"{}\"]}}",
            "aa".repeat(32),
            "bb".repeat(32)
        )
    );
    assert!(!dir.join("sub").join("nonces.json.tmp").exists());

    // "Restart": a new instance on the same file still refuses the replay.
    let mut store = FileNonceStore::open(&path).unwrap();
    assert_eq!(store.len(), 2);
    assert!(store.is_consumed(&[0xaa; 32]).unwrap());
    let key = root_a().public_key();
    let token: Credential = ott([0xaa; 32]).into();
    assert!(matches!(
        admit(&token, &key, &peer_x(), NOW, Some(&mut store))
            .unwrap_err()
            .reason,
        DenyReason::NonceReplayed
    ));
    let fresh: Credential = ott([0xcc; 32]).into();
    assert!(admit(&fresh, &key, &peer_x(), NOW, Some(&mut store)).is_ok());
    drop(store);
    assert!(
        FileNonceStore::open(&path)
            .unwrap()
            .is_consumed(&[0xcc; 32])
            .unwrap()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn file_store_reads_a_reference_file() {
    let dir = temp_dir("reference");
    let path = dir.join("nonces.json");
    // As the reference's NonceStore writes it (and an uppercase entry, which fromhex accepts).
    let text = format!(
        "{{\"consumed\": [\"{}\", \"{}\"]}}",
        "0f".repeat(32),
        "AB".repeat(32)
    );
    std::fs::write(&path, text).unwrap();
    let store = FileNonceStore::open(&path).unwrap();
    assert!(store.is_consumed(&[0x0f; 32]).unwrap());
    assert!(store.is_consumed(&[0xab; 32]).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn corrupt_file_fails_closed() {
    let dir = temp_dir("corrupt");
    let path = dir.join("nonces.json");
    for bad in [
        "",
        "{",
        "{}",
        "[]",
        "{\"consumed\": [\"abc\"]}",
        "{\"consumed\": [1]}",
        "{\"consumed\": null}",
    ] {
        std::fs::write(&path, bad).unwrap();
        match FileNonceStore::open(&path) {
            Err(NonceStoreError::Corrupt { .. }) => {}
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    // Not a file at all: an I/O error, not an empty store.
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    assert!(matches!(
        FileNonceStore::open(&path),
        Err(NonceStoreError::Io { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn failed_write_is_a_denial_and_consumes_nothing() {
    let dir = temp_dir("unwritable");
    // A path under a regular file cannot even be opened (not "empty": an error).
    let blocker = dir.join("blocker");
    std::fs::write(&blocker, "x").unwrap();
    assert!(matches!(
        FileNonceStore::open(blocker.join("nonces.json")),
        Err(NonceStoreError::Io { .. })
    ));
    // The store's directory turns into a regular file after opening: the write fails.
    let mut store = FileNonceStore::open(dir.join("sub").join("nonces.json")).unwrap();
    std::fs::write(dir.join("sub"), "x").unwrap();
    assert!(matches!(
        store.consume(&[1; 32]),
        Err(NonceStoreError::Io { .. })
    ));
    assert!(!store.is_consumed(&[1; 32]).unwrap());
    let token: Credential = ott([1; 32]).into();
    let denied = admit(
        &token,
        &root_a().public_key(),
        &peer_x(),
        NOW,
        Some(&mut store),
    )
    .unwrap_err();
    assert!(matches!(denied.reason, DenyReason::NonceStore(_)));
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Capabilities and peer records (§1.8, §1.9, §1.12)
// ---------------------------------------------------------------------------------------------

#[test]
fn gates_2_and_3() {
    let caller = Attributes::from_iter([("aster.role", " ops.status , ops.logs,")]);
    assert!(satisfies(&Requirement::Role("ops.status"), &caller));
    assert!(!satisfies(&Requirement::Role("ops.admin"), &caller));
    assert!(satisfies(
        &Requirement::AnyOf(&["ops.admin", "ops.logs"]),
        &caller
    ));
    assert!(satisfies(
        &Requirement::AllOf(&["ops.logs", "ops.status"]),
        &caller
    ));
    assert!(!satisfies(
        &Requirement::AllOf(&["ops.logs", "ops.admin"]),
        &caller
    ));
    // Empty requirements are satisfied by anyone, even a caller without roles.
    for empty in [
        Requirement::Role(""),
        Requirement::AnyOf(&[]),
        Requirement::AllOf(&[]),
    ] {
        assert!(satisfies(&empty, &Attributes::new()));
    }

    assert!(
        authorize(None, None, &Attributes::new()).is_ok(),
        "nothing declared: any admitted peer"
    );
    assert!(
        authorize(
            Some(&Requirement::Role("ops.status")),
            Some(&Requirement::Role("ops.logs")),
            &caller
        )
        .is_ok()
    );
    let svc = authorize(
        Some(&Requirement::Role("ops.admin")),
        Some(&Requirement::Role("ops.logs")),
        &caller,
    )
    .unwrap_err();
    assert_eq!(svc.level, GateLevel::Service);
    let status = svc.to_status("Ops", "getStatus");
    assert_eq!(status.code, StatusCode::PermissionDenied);
    assert_eq!(status.message, "capability check failed for service 'Ops'");
    let method = authorize(
        Some(&Requirement::Role("ops.status")),
        Some(&Requirement::Role("ops.admin")),
        &caller,
    )
    .unwrap_err();
    assert_eq!(method.level, GateLevel::Method);
    assert_eq!(method.requirement, Requirement::Role("ops.admin"));
    assert_eq!(
        method.to_status("Ops", "restart").message,
        "capability check failed for method 'Ops.restart'"
    );
    // Roles come from aster.role only.
    let other = Attributes::from_iter([("role", "ops.admin"), ("aster.name", "ops.admin")]);
    assert!(authorize(None, Some(&Requirement::Role("ops.admin")), &other).is_err());
}

#[test]
fn peer_admission_expiry() {
    let admitted = admit(
        &policy().into(),
        &root_a().public_key(),
        &peer_x(),
        NOW,
        None,
    )
    .unwrap();
    let record = PeerAdmission::consumer(peer_x(), &admitted, NOW);
    assert_eq!(record.handle, "alice");
    assert_eq!(record.path, AdmissionPath::Consumer);
    assert_eq!(record.path.as_str(), "consumer_admission");
    assert_eq!(record.expires_at, Some(LATER));
    // Credential expiry (1 h) comes before the 24 h TTL.
    assert!(!record.is_expired(LATER - 1));
    assert!(record.is_expired(LATER));
    assert_eq!(record.valid_until(PEER_TTL_SECS), LATER);

    // A long-lived credential is cut by the TTL.
    let long = ConsumerCredential::new(
        ConsumerKind::Policy,
        root_a().public_key(),
        NOW + 10 * PEER_TTL_SECS,
        Attributes::new(),
    )
    .signed(root_a());
    let admitted = admit(&long.into(), &root_a().public_key(), &peer_x(), NOW, None).unwrap();
    let record = PeerAdmission::consumer(peer_x(), &admitted, NOW);
    assert_eq!(record.handle, "");
    assert!(!record.is_expired(NOW + PEER_TTL_SECS - 1));
    assert!(record.is_expired(NOW + PEER_TTL_SECS));
    assert!(record.is_expired_with_ttl(NOW + 60, 60));
    assert!(!record.is_expired_with_ttl(NOW + 59, 60));

    // Open gate: TTL only, no attributes; u64 overflow is saturated.
    let open = PeerAdmission::open_gate(peer_y(), u64::MAX - 5);
    assert!(open.attributes.is_empty() && open.expires_at.is_none());
    assert_eq!(open.valid_until(PEER_TTL_SECS), u64::MAX);
    assert!(!open.is_expired(u64::MAX - 1));
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

fn arb_attributes() -> impl Strategy<Value = Attributes> {
    prop::collection::vec((".{0,8}", ".{0,12}"), 0..5).prop_map(|pairs| pairs.into_iter().collect())
}

fn arb_hex_id() -> impl Strategy<Value = String> {
    prop::array::uniform32(any::<u8>()).prop_map(hex::encode)
}

fn arb_credential() -> impl Strategy<Value = Credential> {
    let consumer = (
        any::<bool>(),
        any::<u64>(),
        arb_attributes(),
        prop::option::of(arb_hex_id()),
        prop::option::of(prop::array::uniform32(any::<u8>())),
    )
        .prop_map(|(is_ott, expires, attributes, endpoint, nonce)| {
            let kind = if is_ott {
                ConsumerKind::Ott
            } else {
                ConsumerKind::Policy
            };
            let mut c = ConsumerCredential::new(kind, root_a().public_key(), expires, attributes);
            c.endpoint_id = endpoint;
            c.nonce = nonce;
            Credential::from(c.signed(root_a()))
        });
    let producer = (arb_hex_id(), any::<u64>(), arb_attributes()).prop_map(
        |(endpoint, expires, attributes)| {
            Credential::from(
                EnrollmentCredential::new(endpoint, root_a().public_key(), expires, attributes)
                    .signed(root_a()),
            )
        },
    );
    prop_oneof![consumer, producer]
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip { at: prop::sample::Index, mask: u8 },
    Truncate { at: prop::sample::Index },
    Insert { at: prop::sample::Index, byte: u8 },
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<prop::sample::Index>(), 1u8..).prop_map(|(at, mask)| Mutation::Flip { at, mask }),
        any::<prop::sample::Index>().prop_map(|at| Mutation::Truncate { at }),
        (any::<prop::sample::Index>(), any::<u8>())
            .prop_map(|(at, byte)| Mutation::Insert { at, byte }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Any change to the signed bytes fails verification.
    #[test]
    fn mutated_signing_bytes_never_verify(credential in arb_credential(), mutation in arb_mutation()) {
        let key = root_a().public_key();
        let bytes = credential.signing_bytes();
        prop_assert!(key.verify(&bytes, credential.signature()));
        let mut mutated = bytes.clone();
        match mutation {
            Mutation::Flip { at, mask } => { let i = at.index(mutated.len()); mutated[i] ^= mask; }
            Mutation::Truncate { at } => mutated.truncate(at.index(mutated.len())),
            Mutation::Insert { at, byte } => mutated.insert(at.index(mutated.len() + 1), byte),
        }
        prop_assert_ne!(&mutated, &bytes);
        prop_assert!(!key.verify(&mutated, credential.signature()));
    }

    /// Both JSON forms read back to the same credential, which still verifies.
    #[test]
    fn json_forms_round_trip(credential in arb_credential()) {
        for text in [credential.to_wire_json(), credential.to_file_json()] {
            prop_assert!(text.is_ascii());
            let back = Credential::from_json(&text).unwrap();
            prop_assert_eq!(&back, &credential);
            prop_assert!(back.attributes().iter().eq(credential.attributes().iter()));
            prop_assert!(back.verify(&root_a().public_key()));
        }
    }

    /// An identity file round-trips every credential it can hold (TOML integers are i64, so
    /// expiries past 2^63-1 are out of its range).
    #[test]
    fn identity_round_trip(
        credential in arb_credential().prop_filter("TOML i64", |c| i64::try_from(c.expires_at()).is_ok()),
        name in "[a-z\"\\\\é -]{0,10}",
    ) {
        let mut file = IdentityFile { node: aster_proto::trust::NodeSection::new(NODE_3.clone()), ..Default::default() };
        file.add_peer(PeerEntry::from_credential(name, &credential));
        let back = IdentityFile::parse(&file.to_toml()).unwrap();
        prop_assert_eq!(&back, &file);
        prop_assert_eq!(back.peers[0].to_credential().unwrap(), credential);
    }

    /// Parsing arbitrary text returns, never panics.
    #[test]
    fn parsers_never_panic(text in ".{0,200}") {
        let _ = Credential::from_json(&text);
        let _ = IdentityFile::parse(&text);
        let _ = RootKeyFile::parse(&text);
        let _ = RootPublicKey::from_pub_file(&text);
        let _ = admit_consumer_json(&text, &root_a().public_key(), &peer_x(), NOW, None);
    }

    /// JSON-shaped noise around the real fields: parse or refuse, never panic.
    #[test]
    fn credential_parser_on_near_misses(credential in arb_credential(), cut in any::<prop::sample::Index>()) {
        let text = credential.to_wire_json();
        let at = cut.index(text.len());
        if text.is_char_boundary(at) {
            let _ = Credential::from_json(&text[..at]);
            let _ = Credential::from_json(&format!("{}\"x\"{}", &text[..at], &text[at..]));
        }
    }
}
