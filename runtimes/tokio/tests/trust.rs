//! The four gates on real QUIC (loopback): who may connect, who is admitted
//! with which attributes, what each call may do; replay protection across a
//! restart; and the reference's defects (T1, Gate 0 fail-open) shown absent.

use std::time::Duration;

use aster::proto::admission::{AdmissionRequest, PRODUCER_ADMISSION_ALPN, RPC_ALPN};
use aster::proto::trust::{
    Attributes, ConsumerCredential, ConsumerKind, EnrollmentCredential, RootPublicKey,
    RootSigningKey,
};
use aster::{
    CallOptions, Client, ClientError, NetworkMode, SecretKey, Server, Status, StatusCode, WireType,
};

#[derive(Debug, Clone, Default, PartialEq, WireType)]
#[wire(tag = "t/Ping")]
pub struct Ping {
    pub n: i64,
}

#[aster::service(name = "Ops", version = 1)]
pub trait Ops {
    #[rpc]
    async fn open(&self, p: Ping) -> Result<Ping, Status>;
    #[rpc(requires = "ops.status")]
    async fn status(&self, p: Ping) -> Result<Ping, Status>;
    #[rpc(requires = any_of("ops.logs", "ops.admin"))]
    async fn logs(&self, p: Ping) -> Result<Ping, Status>;
    #[rpc(requires = all_of("ops.admin", "ops.ingest"))]
    async fn admin(&self, p: Ping) -> Result<Ping, Status>;
}

struct OpsImpl;

impl Ops for OpsImpl {
    async fn open(&self, p: Ping) -> Result<Ping, Status> {
        Ok(p)
    }
    async fn status(&self, p: Ping) -> Result<Ping, Status> {
        Ok(p)
    }
    async fn logs(&self, p: Ping) -> Result<Ping, Status> {
        Ok(p)
    }
    async fn admin(&self, p: Ping) -> Result<Ping, Status> {
        Ok(p)
    }
}

fn root() -> RootSigningKey {
    RootSigningKey::from_seed(&[9; 32])
}

fn now() -> u64 {
    aster::net::now_ms() / 1000
}

fn policy(roles: &str, expires_at: u64) -> ConsumerCredential {
    let attrs = Attributes::from_iter([("aster.role", roles)]);
    ConsumerCredential::new(ConsumerKind::Policy, root().public_key(), expires_at, attrs)
        .signed(&root())
}

async fn server(builder: aster::ServerBuilder) -> Server {
    builder
        .service(OpsServer::new(OpsImpl))
        .network(NetworkMode::loopback())
        .bind()
        .await
        .expect("server binds")
}

async fn closed_server() -> Server {
    server(Server::builder().root_pubkey(root().public_key())).await
}

async fn client_with(
    server: &Server,
    credential: &str,
    key: Option<SecretKey>,
) -> Result<Client, ClientError> {
    let mut b = Client::builder().loopback().credential_json(credential);
    if let Some(k) = key {
        b = b.secret_key(k);
    }
    b.connect(&server.ticket()).await
}

fn ping() -> Ping {
    Ping { n: 7 }
}

/// A protocol sharing the endpoint (as blobs, docs, gossip do): echoes.
#[derive(Debug, Clone)]
struct EchoProtocol;

impl iroh::protocol::ProtocolHandler for EchoProtocol {
    async fn accept(
        &self,
        conn: iroh::endpoint::Connection,
    ) -> Result<(), iroh::protocol::AcceptError> {
        let (mut send, mut recv) = conn.accept_bi().await?;
        let data = recv
            .read_to_end(1024)
            .await
            .map_err(iroh::protocol::AcceptError::from_err)?;
        send.write_all(&data)
            .await
            .map_err(iroh::protocol::AcceptError::from_err)?;
        send.finish()?;
        conn.closed().await;
        Ok(())
    }
}

#[tokio::test]
async fn closed_gate_refuses_without_credential_and_gate0_refuses_unadmitted_connections() {
    let s = server(
        Server::builder()
            .root_pubkey(root().public_key())
            .protocol(b"custom/1", EchoProtocol),
    )
    .await;
    match client_with(&s, "", None).await {
        Err(ClientError::Denied { .. }) => {}
        other => panic!("expected a denial, got {other:?}"),
    }
    // A peer that skips admission and dials aster/1 directly is refused at
    // the handshake hook: its first read fails with 403 "not admitted".
    let ep = aster::net::bind_endpoint(
        &aster::net::EndpointOptions {
            network: NetworkMode::loopback(),
            ..Default::default()
        },
        &iroh::address_lookup::MemoryLookup::new(),
    )
    .await
    .unwrap();
    for alpn in [RPC_ALPN, b"custom/1".as_slice()] {
        let conn = ep.connect(s.addr(), alpn).await;
        let refused = match conn {
            Err(_) => true,
            Ok(conn) => {
                let read = async {
                    let (mut send, mut recv) = conn.open_bi().await?;
                    send.write_all(b"x").await?;
                    send.finish()?;
                    recv.read_to_end(1024).await.map_err(anyhow::Error::from)
                };
                let r: anyhow::Result<Vec<u8>> = tokio::time::timeout(Duration::from_secs(5), read)
                    .await
                    .unwrap();
                let err = r.expect_err("an unadmitted peer must not be served");
                format!("{err:?}").contains("403") || format!("{err:?}").contains("not admitted")
            }
        };
        assert!(
            refused,
            "alpn {:?} was not refused",
            String::from_utf8_lossy(alpn)
        );
    }
    // Once admitted, the same peer reaches the other protocol.
    let admitted = Client::builder()
        .endpoint(ep.clone(), iroh::address_lookup::MemoryLookup::new())
        .credential_json(policy("ops.status", now() + 3600).to_wire_json())
        .connect(&s.ticket())
        .await
        .unwrap();
    let conn = ep.connect(s.addr(), b"custom/1").await.unwrap();
    let (mut send, mut recv) = conn.open_bi().await.unwrap();
    send.write_all(b"hello").await.unwrap();
    send.finish().unwrap();
    assert_eq!(recv.read_to_end(1024).await.unwrap(), b"hello");
    drop(admitted);
    s.shutdown().await;
}

#[tokio::test]
async fn roles_gate_methods() {
    let s = closed_server().await;
    let c = client_with(
        &s,
        &policy("ops.status,ops.logs", now() + 3600).to_wire_json(),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        c.attributes().get("aster.role").map(String::as_str),
        Some("ops.status,ops.logs")
    );
    let ops = OpsClient::new(c.clone());
    assert_eq!(ops.open(ping()).await.unwrap(), ping());
    assert_eq!(ops.status(ping()).await.unwrap(), ping());
    assert_eq!(ops.logs(ping()).await.unwrap(), ping());
    let denied = ops.admin(ping()).await.unwrap_err();
    assert_eq!(
        denied,
        Status::permission_denied("capability check failed for method 'Ops.admin'")
    );

    let c2 = client_with(
        &s,
        &policy("ops.admin,ops.ingest", now() + 3600).to_wire_json(),
        None,
    )
    .await
    .unwrap();
    let ops2 = OpsClient::new(c2);
    assert!(ops2.admin(ping()).await.is_ok());
    assert!(ops2.logs(ping()).await.is_ok(), "any_of with ops.admin");
    assert_eq!(
        ops2.status(ping()).await.unwrap_err().code,
        StatusCode::PermissionDenied
    );
    s.shutdown().await;
}

#[tokio::test]
async fn bad_credentials_are_denied() {
    let s = closed_server().await;
    let other_root = RootSigningKey::from_seed(&[1; 32]);
    let wrong_root = ConsumerCredential::new(
        ConsumerKind::Policy,
        other_root.public_key(),
        now() + 3600,
        Attributes::from_iter([("aster.role", "ops.status")]),
    )
    .signed(&other_root);
    let mut bad_sig = policy("ops.status", now() + 3600);
    bad_sig.signature[0] ^= 1;
    let mut tampered = policy("ops.status", now() + 3600);
    tampered.attributes.insert("aster.role", "ops.admin");
    let expired = policy("ops.status", now() - 1);
    let bound_elsewhere = ConsumerCredential::new(
        ConsumerKind::Policy,
        root().public_key(),
        now() + 3600,
        Attributes::new(),
    )
    .with_endpoint_id(SecretKey::generate().public().to_string())
    .signed(&root());
    for (what, cred) in [
        ("wrong root", wrong_root.to_wire_json()),
        ("bad signature", bad_sig.to_wire_json()),
        ("tampered attributes", tampered.to_wire_json()),
        ("expired", expired.to_wire_json()),
        ("bound to another endpoint", bound_elsewhere.to_wire_json()),
        ("garbage", "{not json".to_string()),
    ] {
        assert!(
            matches!(
                client_with(&s, &cred, None).await,
                Err(ClientError::Denied { .. })
            ),
            "{what} must be denied"
        );
    }
    // Bound to the caller's own endpoint: admitted.
    let key = SecretKey::generate();
    let bound = ConsumerCredential::new(
        ConsumerKind::Policy,
        root().public_key(),
        now() + 3600,
        Attributes::new(),
    )
    .with_endpoint_id(key.public().to_string())
    .signed(&root());
    assert!(
        client_with(&s, &bound.to_wire_json(), Some(key))
            .await
            .is_ok()
    );
    s.shutdown().await;
}

#[tokio::test]
async fn one_time_credentials_cannot_be_replayed_even_after_a_restart() {
    let dir = std::env::temp_dir().join(format!("aster-nonce-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let nonces = dir.join("nonces.json");
    let _ = std::fs::remove_file(&nonces);
    let ott = ConsumerCredential::new(
        ConsumerKind::Ott,
        root().public_key(),
        now() + 3600,
        Attributes::new(),
    )
    .with_nonce([5; 32])
    .signed(&root())
    .to_wire_json();

    let s = server(
        Server::builder()
            .root_pubkey(root().public_key())
            .nonce_file(&nonces)
            .unwrap(),
    )
    .await;
    assert!(
        client_with(&s, &ott, None).await.is_ok(),
        "first use admitted"
    );
    assert!(
        matches!(
            client_with(&s, &ott, None).await,
            Err(ClientError::Denied { .. })
        ),
        "replay denied"
    );
    s.shutdown().await;

    let s = server(
        Server::builder()
            .root_pubkey(root().public_key())
            .nonce_file(&nonces)
            .unwrap(),
    )
    .await;
    assert!(
        matches!(
            client_with(&s, &ott, None).await,
            Err(ClientError::Denied { .. })
        ),
        "replay after restart denied"
    );
    // A corrupt store fails closed: the server refuses to start with it.
    std::fs::write(&nonces, b"{corrupt").unwrap();
    assert!(
        Server::builder()
            .root_pubkey(root().public_key())
            .nonce_file(&nonces)
            .is_err()
    );
    s.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn an_expired_admission_loses_access_to_new_calls() {
    let s = closed_server().await;
    let c = client_with(&s, &policy("ops.status", now() + 2).to_wire_json(), None)
        .await
        .unwrap();
    let ops = OpsClient::new(c.clone());
    assert!(ops.status(ping()).await.is_ok());
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let err = ops
        .status_with(ping(), CallOptions::new().timeout(Duration::from_secs(5)))
        .await
        .unwrap_err();
    assert_eq!(err.code, StatusCode::Unauthenticated, "{err}");
    s.shutdown().await;
}

#[tokio::test]
async fn open_gate_admits_without_credentials_but_still_enforces_requirements() {
    let s = server(Server::builder()).await;
    let c = client_with(&s, "", None).await.unwrap();
    let ops = OpsClient::new(c);
    assert!(ops.open(ping()).await.is_ok());
    assert_eq!(
        ops.status(ping()).await.unwrap_err().code,
        StatusCode::PermissionDenied
    );
    s.shutdown().await;

    let s = server(Server::builder().dev_mode()).await;
    let ops = OpsClient::new(client_with(&s, "", None).await.unwrap());
    assert!(
        ops.admin(ping()).await.is_ok(),
        "dev mode does not enforce requirements"
    );
    s.shutdown().await;
}

/// Producer admission binds the credential to the QUIC peer (the reference's
/// defect T1: it checked the credential's own field, so a stolen credential worked).
#[tokio::test]
async fn producer_admission_binds_to_the_quic_peer() {
    let s = server(Server::builder().trust(aster::TrustConfig {
        root: Some(root().public_key()),
        allow_all_producers: false,
        ..Default::default()
    }))
    .await;
    let ep = aster::net::bind_endpoint(
        &aster::net::EndpointOptions {
            network: NetworkMode::loopback(),
            ..Default::default()
        },
        &iroh::address_lookup::MemoryLookup::new(),
    )
    .await
    .unwrap();
    let ask = |cred: EnrollmentCredential| {
        let ep = ep.clone();
        let addr = s.addr();
        async move {
            let conn = ep.connect(addr, PRODUCER_ADMISSION_ALPN).await.unwrap();
            let (mut send, mut recv) = conn.open_bi().await.unwrap();
            let req = AdmissionRequest {
                credential_json: cred.to_wire_json(),
                iid_token: String::new(),
            };
            send.write_all(&req.encode()).await.unwrap();
            send.finish().unwrap();
            let answer: serde_json::Value =
                serde_json::from_slice(&recv.read_to_end(65536).await.unwrap()).unwrap();
            answer
        }
    };
    let someone_else = SecretKey::generate().public().to_string();
    let stolen = EnrollmentCredential::new(
        someone_else,
        root().public_key(),
        now() + 3600,
        Attributes::new(),
    )
    .signed(&root());
    let answer = ask(stolen).await;
    assert_eq!(answer["accepted"], false);
    assert_eq!(answer["salt"], "");
    let own = EnrollmentCredential::new(
        ep.id().to_string(),
        root().public_key(),
        now() + 3600,
        Attributes::new(),
    )
    .signed(&root());
    let answer = ask(own).await;
    assert_eq!(answer["accepted"], true);
    assert_eq!(answer["salt"].as_str().map(str::len), Some(64));
    assert_eq!(
        answer["accepted_producers"],
        serde_json::json!([ep.id().to_string()])
    );
    s.shutdown().await;
}

#[test]
fn root_keys_round_trip_through_hex() {
    let pk = root().public_key();
    assert_eq!(RootPublicKey::from_hex(&pk.to_hex()).unwrap(), pk);
}

/// A connection checks calls against the admission its peer had when it
/// was accepted; a newer admission of the same peer (here from a second
/// endpoint with the same key) must still decide that connection's next
/// calls.
#[tokio::test]
async fn a_new_admission_of_the_peer_governs_its_open_connections() {
    let s = closed_server().await;
    let key = SecretKey::from_bytes(&[4; 32]);
    let first = client_with(
        &s,
        &policy("ops.status", now() + 3600).to_wire_json(),
        Some(key.clone()),
    )
    .await
    .unwrap();
    let ops = OpsClient::new(first.clone());
    assert!(ops.status(ping()).await.is_ok());
    assert_eq!(
        ops.admin(ping()).await.unwrap_err().code,
        StatusCode::PermissionDenied
    );

    let second = client_with(
        &s,
        &policy("ops.admin,ops.ingest", now() + 3600).to_wire_json(),
        Some(key),
    )
    .await
    .unwrap();
    // The first client's connection is still the one it called on.
    let r = ops.admin(ping()).await;
    assert!(r.is_ok(), "new roles apply: {r:?}");
    assert_eq!(
        ops.status(ping()).await.unwrap_err().code,
        StatusCode::PermissionDenied,
        "old roles are gone"
    );
    drop(second);
    s.shutdown().await;
}
