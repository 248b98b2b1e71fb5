//! The registry on loopback: contract publication and verified reads,
//! persistence across restarts, and a shared registry with several
//! producers, leases, balancing, withdraw and failover.

use std::collections::BTreeMap;
use std::time::Duration;

use aster::registry::{Balancer, RegistryError, RegistryHost};
use aster::{Client, NetworkMode, Server, StatusCode};

mod common;

use common::{WhoClient, WhoImpl, WhoRequest, WhoServer};

async fn server(name: &str) -> Server {
    Server::builder()
        .service(WhoServer::new(WhoImpl::new(name)))
        .loopback()
        .dev_mode()
        .bind()
        .await
        .expect("server")
}

async fn client(server: &Server) -> Client {
    Client::builder()
        .network(NetworkMode::loopback())
        .connect(&server.ticket())
        .await
        .expect("client")
}

#[tokio::test]
async fn a_client_reads_the_producers_manifest_and_verified_bundle() {
    let server = server("solo").await;
    let client = client(&server).await;
    let ns = server
        .registry()
        .expect("own registry")
        .namespace()
        .to_string();
    assert_eq!(
        client.registry_namespace(),
        ns,
        "admission carries the namespace"
    );

    let manifest = client.manifest("Who").await.expect("manifest");
    let descriptor = WhoServer::<WhoImpl>::descriptor();
    assert_eq!(manifest.contract_id, descriptor.contract_id().to_hex());
    assert_eq!(manifest.service, "Who");
    assert_eq!(manifest.version, 3);
    let whoami = manifest.method("whoami").expect("whoami");
    assert!(whoami.idempotent);
    // Real defaults from the type's Default impl, not type defaults.
    let server_field = whoami
        .response_fields
        .iter()
        .find(|f| f.name == "server")
        .expect("field");
    assert_eq!(server_field.default_value, serde_json::json!("nobody"));

    let bundle = client.contract_bundle("Who").await.expect("bundle");
    assert_eq!(bundle.contract_id, descriptor.contract_id());
    assert_eq!(bundle.types.len(), 2);
    assert_eq!(
        bundle.manifest().expect("bundle manifest").expect("parses"),
        manifest
    );

    // The registry document holds the three keys of the reference layout.
    let doc = client.registry().await.expect("doc");
    let cid = descriptor.contract_id().to_hex();
    let keys: Vec<String> = doc
        .entries("")
        .await
        .expect("entries")
        .into_iter()
        .map(|e| String::from_utf8(e.key).expect("utf8"))
        .collect();
    for k in [
        format!("contracts/{cid}"),
        format!("manifests/{cid}"),
        "services/Who/versions/v3".to_string(),
    ] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    client.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn without_a_registry_the_namespace_is_empty_and_reads_fail_typed() {
    let server = Server::builder()
        .service(WhoServer::new(WhoImpl::new("bare")))
        .loopback()
        .dev_mode()
        .no_registry()
        .bind()
        .await
        .expect("server");
    let client = client(&server).await;
    assert_eq!(client.registry_namespace(), "");
    assert!(matches!(
        client.manifest("Who").await,
        Err(RegistryError::NoRegistry)
    ));
    assert!(matches!(
        client.manifest("Nope").await,
        Err(RegistryError::NotFound(_))
    ));
    client.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn a_persistent_registry_keeps_its_namespace_across_restarts() {
    let dir = std::env::temp_dir().join(format!("aster-registry-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let key = aster::SecretKey::from_bytes(&[9; 32]);
    let start = || async {
        Server::builder()
            .service(WhoServer::new(WhoImpl::new("persistent")))
            .loopback()
            .dev_mode()
            .secret_key(key.clone())
            .registry_storage(&dir)
            .bind()
            .await
            .expect("server")
    };
    let first = start().await;
    let ns = first.registry().expect("registry").namespace();
    first.shutdown().await;
    let second = start().await;
    assert_eq!(
        second.registry().expect("registry").namespace(),
        ns,
        "same namespace after restart"
    );
    let client = client(&second).await;
    let manifest = client
        .manifest("Who")
        .await
        .expect("manifest after restart");
    assert_eq!(manifest.service, "Who");
    // Unchanged contracts are not rewritten on restart.
    let doc = client.registry().await.expect("doc");
    let contract_rows = doc.entries("contracts/").await.expect("entries");
    assert_eq!(contract_rows.len(), 1);
    client.close().await;
    second.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

async fn shared_producer(name: &str, ticket: &str) -> Server {
    Server::builder()
        .service(WhoServer::new(WhoImpl::new(name)))
        .loopback()
        .dev_mode()
        .shared_registry(ticket)
        .withdraw_grace(Duration::from_millis(300))
        .bind()
        .await
        .expect("producer")
}

#[tokio::test]
async fn calls_spread_over_producers_and_survive_withdraw_and_loss() {
    let host = RegistryHost::bind(NetworkMode::loopback(), None, None)
        .await
        .expect("host");
    host.set_lease_timing(Duration::from_secs(3), Duration::from_secs(1))
        .await
        .expect("timing");
    let write = host.write_ticket().await.expect("write ticket");
    let read = host.read_ticket().await.expect("read ticket");
    let a = shared_producer("a", &write).await;
    let b = shared_producer("b", &write).await;
    let c = shared_producer("c", &write).await;

    let balancer = Balancer::builder()
        .loopback()
        .avoid_for(Duration::from_secs(30))
        .join(&read)
        .await
        .expect("balancer");
    // Wait (bounded) until all three leases are visible.
    let selector = aster::proto::registry::Selector::version(3);
    let mut seen = 0;
    for _ in 0..100 {
        seen = balancer
            .resolve_all("Who", selector.clone())
            .await
            .map(|l| l.len())
            .unwrap_or(0);
        if seen == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, 3, "three producers resolved");

    let who = WhoClient::new(balancer.clone());
    let mut by_server: BTreeMap<String, usize> = BTreeMap::new();
    for i in 0..30 {
        let r = who
            .whoami(WhoRequest {
                caller: format!("c{i}"),
            })
            .await
            .expect("call");
        *by_server.entry(r.server).or_default() += 1;
    }
    assert_eq!(
        by_server.len(),
        3,
        "round robin reaches every producer: {by_server:?}"
    );
    // Round robin over a snapshot that refreshes underneath it: every
    // producer gets a fair share, not necessarily exactly a third.
    assert!(by_server.values().all(|n| *n >= 5), "spread: {by_server:?}");

    // Graceful: a withdraws while serving; calls started meanwhile succeed and
    // the resolver stops returning it.
    let draining = tokio::spawn(a.drain(Duration::from_secs(5)));
    for i in 0..20 {
        who.record(WhoRequest {
            caller: format!("d{i}"),
        })
        .await
        .expect("no call fails during a withdraw");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    draining.await.expect("drain");
    let mut left = vec![];
    for _ in 0..50 {
        left = balancer
            .resolve_all("Who", selector.clone())
            .await
            .expect("resolve")
            .into_iter()
            .map(|l| l.endpoint_id)
            .collect();
        if left.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left.len(), 2, "withdrawn producer gone from resolve");

    // Abrupt: b stops without withdrawing. Idempotent calls keep succeeding
    // (failover), and once its lease lapses resolve drops it.
    let b_id = b.endpoint_id().to_string();
    b.shutdown().await;
    for i in 0..20 {
        let r = who
            .whoami(WhoRequest {
                caller: format!("e{i}"),
            })
            .await
            .expect("idempotent calls fail over");
        assert_eq!(r.server, "c");
    }
    let mut gone = false;
    for _ in 0..100 {
        let ids: Vec<String> = balancer
            .resolve_all("Who", selector.clone())
            .await
            .expect("resolve")
            .into_iter()
            .map(|l| l.endpoint_id)
            .collect();
        if !ids.contains(&b_id) {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "a lapsed lease is no longer resolved");

    // A non-idempotent call on a producer that vanished mid-call is not
    // retried; one that never left is: with only c left, record succeeds.
    let r = who
        .record(WhoRequest {
            caller: "last".into(),
        })
        .await
        .expect("record");
    assert_eq!(r.server, "c");

    balancer.close().await;
    c.shutdown().await;
    host.shutdown().await;
}

#[tokio::test]
async fn a_service_missing_from_the_registry_is_a_typed_error() {
    let host = RegistryHost::bind(NetworkMode::loopback(), None, None)
        .await
        .expect("host");
    let read = host.read_ticket().await.expect("ticket");
    let balancer = Balancer::builder()
        .loopback()
        .join(&read)
        .await
        .expect("balancer");
    let who = WhoClient::new(balancer.clone());
    let err = who.whoami(WhoRequest::default()).await.unwrap_err();
    assert_eq!(err.code, StatusCode::Unavailable, "{err}");
    assert!(err.message.contains("Who"), "{err}");
    balancer.close().await;
    host.shutdown().await;
}

#[tokio::test]
async fn the_dynamic_client_speaks_xlang_from_the_registry_alone() {
    let server = server("dyn").await;
    let client = client(&server).await;
    let listed = &client.services()[0].serialization_modes;
    assert_eq!(
        listed,
        &vec!["xlang".to_string()],
        "XLANG only, like the reference's default"
    );

    // No Rust types on this path: JSON in, XLANG on the wire, JSON out.
    let answer = client
        .call_json("Who", "whoami", serde_json::json!({"caller": "json"}))
        .await
        .expect("dynamic call");
    assert_eq!(answer, serde_json::json!({"server": "dyn", "calls": 1}));
    // Omitted fields take the defaults the manifest publishes.
    let answer = client
        .call_json("Who", "record", serde_json::json!({}))
        .await
        .expect("defaults");
    assert_eq!(answer["calls"], 2);

    // The same bytes as the typed client's: the server counts both.
    let typed = WhoClient::new(client.clone())
        .whoami(WhoRequest {
            caller: "typed".into(),
        })
        .await
        .expect("typed");
    assert_eq!(typed.calls, 3);

    // Values that do not fit the contract never reach the wire.
    let err = client
        .call_json("Who", "whoami", serde_json::json!({"caller": 5}))
        .await
        .unwrap_err();
    assert_eq!(err.code, StatusCode::ContractViolation, "{err}");
    let err = client
        .call_json("Who", "whoami", serde_json::json!({"nope": "x"}))
        .await
        .unwrap_err();
    assert_eq!(err.code, StatusCode::ContractViolation, "{err}");
    let err = client
        .call_json("Who", "missing", serde_json::json!({}))
        .await
        .unwrap_err();
    assert_eq!(err.code, StatusCode::Unimplemented, "{err}");
    let answer = client
        .call_json("Who", "whoami", serde_json::json!({"caller": "again"}))
        .await
        .expect("still serving");
    assert_eq!(answer["calls"], 4, "rejected values were not sent");

    client.close().await;
    server.shutdown().await;
}

#[tokio::test]
async fn closed_producers_in_a_shared_registry_serve_only_credentialed_consumers() {
    use aster::proto::trust::{Attributes, ConsumerCredential, ConsumerKind, RootSigningKey};
    let root = RootSigningKey::from_seed(&[21; 32]);
    let host = RegistryHost::bind(NetworkMode::loopback(), None, None)
        .await
        .expect("host");
    // Generous timing: this test is about gates, not about lapses.
    host.set_lease_timing(Duration::from_secs(20), Duration::from_secs(2))
        .await
        .expect("timing");
    let write = host.write_ticket().await.expect("write");
    let read = host.read_ticket().await.expect("read");
    let closed = |name: &'static str| {
        let write = write.clone();
        let root = root.public_key();
        async move {
            Server::builder()
                .service(WhoServer::new(WhoImpl::new(name)))
                .loopback()
                .root_pubkey(root)
                .shared_registry(write)
                .bind()
                .await
                .expect("closed producer")
        }
    };
    let (a, b) = (closed("a").await, closed("b").await);

    // Gate 0 lets the registry host through on the registry ALPNs only, so
    // the leases reach the host even though nobody was admitted.
    let expires = aster::net::now_ms() / 1000 + 3600;
    let credential = ConsumerCredential::new(
        ConsumerKind::Policy,
        root.public_key(),
        expires,
        Attributes::from_iter([("aster.role", "any")]),
    )
    .signed(&root);
    let balancer = Balancer::builder()
        .loopback()
        .credential_json(credential.to_wire_json())
        .join(&read)
        .await
        .expect("balancer");
    let selector = aster::proto::registry::Selector::version(3);
    let mut n = 0;
    for _ in 0..100 {
        n = balancer
            .resolve_all("Who", selector.clone())
            .await
            .map(|l| l.len())
            .unwrap_or(0);
        if n == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(n, 2, "both closed producers' leases reached the registry");
    let who = WhoClient::new(balancer.clone());
    let mut servers = std::collections::BTreeSet::new();
    for _ in 0..4 {
        servers.insert(
            who.whoami(WhoRequest::default())
                .await
                .expect("credentialed call")
                .server,
        );
    }
    assert_eq!(servers.len(), 2, "{servers:?}");

    // Without a credential the same registry gets the caller nowhere.
    let stranger = Balancer::builder()
        .loopback()
        .join(&read)
        .await
        .expect("stranger joins the registry");
    let err = WhoClient::new(stranger.clone())
        .whoami(WhoRequest::default())
        .await
        .unwrap_err();
    assert_eq!(err.code, StatusCode::Unavailable, "{err}");
    assert!(
        err.message.contains("admission denied") || err.message.contains("denied"),
        "{err}"
    );

    stranger.close().await;
    balancer.close().await;
    a.shutdown().await;
    b.shutdown().await;
    host.shutdown().await;
}

#[tokio::test]
async fn a_committed_manifest_with_another_contract_id_stops_the_server() {
    let dir = std::env::temp_dir().join(format!("aster-manifest-guard-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("manifest.json");
    let start = || {
        Server::builder()
            .service(WhoServer::new(WhoImpl::new("m")))
            .loopback()
            .dev_mode()
            .no_registry()
            .check_manifest(&path)
    };

    // No file: fine. The server's own manifests, committed: fine.
    let server = start().bind().await.expect("no committed manifest");
    let manifests = server.manifests();
    assert_eq!(manifests.len(), 1);
    std::fs::write(&path, manifests[0].to_json()).expect("write");
    server.shutdown().await;
    start()
        .bind()
        .await
        .expect("matching manifest")
        .shutdown()
        .await;

    // An interface change that was not regenerated: refused, loudly.
    let mut stale = manifests[0].clone();
    stale.contract_id = "ab".repeat(32);
    std::fs::write(&path, format!("[{}]", stale.to_json())).expect("write");
    match start().bind().await {
        Err(aster::ServerError::ContractDrift {
            service, committed, ..
        }) => {
            assert_eq!(service, "Who");
            assert_eq!(committed, "ab".repeat(32));
        }
        Err(e) => panic!("wrong error: {e}"),
        Ok(_) => panic!("a drifted contract must not start"),
    }
    std::fs::write(&path, "{not json").expect("write");
    assert!(matches!(
        start().bind().await,
        Err(aster::ServerError::Manifest { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
