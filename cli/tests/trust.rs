//! The built `aster` binary's trust commands: `trust keygen`, `trust sign`,
//! `enroll node` and `call --rcan`. Every file it writes is read back with
//! `aster_proto::trust` (the code checked against the reference's vectors),
//! and the credentials are presented to a real server on loopback.
//! (Byte compatibility with the reference CLI itself is checked live in
//! `interop/tests/trust.rs`.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aster::proto::trust::{
    ConsumerKind, Credential, IdentityFile, MemoryNonceStore, PeerRole, RootKeyFile, RootPublicKey,
    admit,
};
use aster::{Client, ClientError, Server};
use mission_control::{Agent, AgentSessionServer, Control, MissionControlServer, StatusRequest};

// -- Harness -----------------------------------------------------------------

/// A scratch directory under the system temp dir (never inside a git work
/// tree, so `enroll node` leaves every `.gitignore` alone), removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        static N: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "aster-cli-trust-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// Runs `aster ARGS` in this directory with HOME pointing here.
    fn aster(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_aster"))
            .args(args)
            .current_dir(&self.0)
            .env("HOME", &self.0)
            .env_remove("ASTER_LOG")
            .output()
            .expect("the aster binary runs")
    }

    /// Like [`Scratch::aster`], asserting exit code 0; returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.aster(args);
        assert!(
            out.status.success(),
            "aster {args:?} failed ({}):\n{}",
            out.status,
            text(&out.stderr)
        );
        text(&out.stdout)
    }

    /// `trust keygen` into `root.key` / `root.pub` here; the root's public key.
    fn root(&self) -> RootPublicKey {
        self.ok(&["trust", "keygen", "--out-key", "root.key"]);
        RootPublicKey::from_pub_file(&self.read("root.pub")).unwrap()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The command exited with `code` and its stderr contains `needle`.
fn assert_exit(out: &std::process::Output, code: i32, needle: &str, why: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{why}: {err}");
    assert!(
        err.contains(needle),
        "{why}: stderr lacks {needle:?}: {err}"
    );
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn credential(dir: &Scratch, name: &str) -> Credential {
    Credential::from_json(&dir.read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A Mission Control server on loopback trusting `root` (the `--auth` mode).
async fn server(root: RootPublicKey) -> Server {
    Server::builder()
        .service(MissionControlServer::new(Control::default()))
        .service(AgentSessionServer::new(Agent::new))
        .loopback()
        .root_pubkey(root)
        .bind()
        .await
        .expect("server binds")
}

async fn connect(server: &Server, credential_file: &Path) -> Result<Client, ClientError> {
    let builder = Client::builder()
        .loopback()
        .credential_file(credential_file)?;
    tokio::time::timeout(Duration::from_secs(10), builder.connect(&server.ticket()))
        .await
        .expect("admission answered")
}

// -- trust keygen --------------------------------------------------------------

#[test]
fn keygen_writes_the_key_pair_in_the_reference_format() {
    let dir = Scratch::new();
    let stdout = dir.ok(&["trust", "keygen", "--out-key", "keys/root.key"]);
    let key =
        RootKeyFile::parse(&dir.read("keys/root.key")).expect("root.key is a reference key file");
    let public = RootPublicKey::from_pub_file(&dir.read("keys/root.pub"))
        .expect("root.pub is a reference pub file");
    assert_eq!(key.signing_key.public_key(), public);
    // Byte for byte what the reference writes (indent 2, final newline).
    assert_eq!(dir.read("keys/root.key"), key.to_file_text());
    assert_eq!(dir.read("keys/root.pub"), public.to_pub_file());
    assert!(
        stdout.contains(&public.to_hex()),
        "prints the public key: {stdout}"
    );
    assert!(stdout.contains("keys/root.pub"), "{stdout}");
    #[cfg(unix)]
    {
        assert_eq!(
            mode(&dir.path("keys/root.key")),
            0o600,
            "the private key is owner-only"
        );
        assert_eq!(
            mode(&dir.path("keys/root.pub")),
            0o644,
            "the public key is for distribution"
        );
    }
    // Two runs, two keys.
    dir.ok(&["trust", "keygen", "--out-key", "other.key"]);
    assert_ne!(
        RootKeyFile::parse(&dir.read("other.key"))
            .unwrap()
            .signing_key
            .seed(),
        key.signing_key.seed()
    );
}

#[test]
fn keygen_refuses_to_overwrite_and_keeps_an_existing_pub_file() {
    let dir = Scratch::new();
    dir.ok(&["trust", "keygen", "--out-key", "root.key"]);
    let (key, public) = (dir.read("root.key"), dir.read("root.pub"));
    let out = dir.aster(&["trust", "keygen", "--out-key", "root.key"]);
    assert_exit(
        &out,
        1,
        "already exists",
        "refused with the reference's exit code",
    );
    assert_eq!(
        (dir.read("root.key"), dir.read("root.pub")),
        (key, public.clone()),
        "nothing changed"
    );

    // A new key next to an existing root.pub: the key is written, the pub file left alone.
    std::fs::remove_file(dir.path("root.key")).unwrap();
    let stdout = dir.ok(&["trust", "keygen", "--out-key", "root.key"]);
    assert!(
        stdout.contains("public key file already exists"),
        "{stdout}"
    );
    assert_eq!(dir.read("root.pub"), public);
}

#[test]
fn keygen_defaults_to_home_aster_root_key() {
    let dir = Scratch::new();
    dir.ok(&["trust", "keygen"]);
    let key = RootKeyFile::parse(&dir.read(".aster/root.key")).unwrap();
    assert_eq!(
        RootPublicKey::from_pub_file(&dir.read(".aster/root.pub")).unwrap(),
        key.signing_key.public_key()
    );
}

// -- trust sign ----------------------------------------------------------------

#[test]
fn sign_makes_credentials_that_verify_and_admit() {
    let dir = Scratch::new();
    let root = dir.root();
    let peer = "ab".repeat(32);

    // Producer (the default type), bound to an endpoint.
    let stdout = dir.ok(&[
        "trust",
        "sign",
        "--root-key",
        "root.key",
        "--endpoint-id",
        &peer,
        "--out",
        "producer.json",
    ]);
    assert!(
        stdout.contains("Signed credential written to: producer.json"),
        "{stdout}"
    );
    assert!(stdout.contains("Type:       producer"), "{stdout}");
    let producer = credential(&dir, "producer.json");
    assert_eq!(producer.type_name(), "producer");
    assert_eq!(producer.endpoint_id(), Some(peer.as_str()));
    assert!(producer.verify(&root));
    assert_eq!(
        dir.read("producer.json"),
        producer.to_file_json(),
        "the reference's file form"
    );
    let admitted = admit(&producer, &root, &peer, now(), None).expect("admitted for its endpoint");
    // Default expiry: 30 days.
    let days30 = now() + 30 * 86_400;
    assert!(
        (days30 - 60..=days30 + 60).contains(&admitted.expires_at),
        "{}",
        admitted.expires_at
    );
    assert!(
        admit(&producer, &root, &"cd".repeat(32), now(), None).is_err(),
        "bound to its endpoint"
    );

    // Policy, unbound, with attributes in the given order and an absolute expiry.
    dir.ok(&[
        "trust",
        "sign",
        "--root-key",
        "root.key",
        "--type",
        "policy",
        "--attributes",
        r#"{"aster.role":"ops.status,ops.logs","aster.name":"édge"}"#,
        "--expires",
        "2099-01-01T00:00:00Z",
        "--out",
        "creds/policy.json",
    ]);
    let policy = credential(&dir, "creds/policy.json");
    let Credential::Consumer(c) = &policy else {
        panic!("a consumer credential")
    };
    assert_eq!(
        (c.kind, c.endpoint_id.as_deref(), c.nonce),
        (ConsumerKind::Policy, None, None)
    );
    assert_eq!(c.expires_at, 4_070_908_800);
    assert_eq!(
        c.attributes.iter().collect::<Vec<_>>(),
        vec![
            ("aster.role", "ops.status,ops.logs"),
            ("aster.name", "édge")
        ]
    );
    assert!(
        dir.read("creds/policy.json")
            .contains(r#""aster.name": "\u00e9dge""#),
        "ASCII-escaped like json.dump"
    );
    assert_eq!(dir.read("creds/policy.json"), policy.to_file_json());
    let admitted = admit(&policy, &root, &peer, now(), None).unwrap();
    assert_eq!(admitted.attributes.roles(), vec!["ops.status", "ops.logs"]);
    #[cfg(unix)]
    assert_eq!(mode(&dir.path("creds/policy.json")), 0o600);

    // An expiry without an offset is UTC.
    dir.ok(&[
        "trust",
        "sign",
        "--root-key",
        "root.key",
        "--type",
        "policy",
        "--expires",
        "2099-01-01T00:00:00",
        "--out",
        "naive.json",
    ]);
    assert_eq!(credential(&dir, "naive.json").expires_at(), 4_070_908_800);
}

#[test]
fn one_time_credentials_carry_a_fresh_nonce_and_admit_once() {
    let dir = Scratch::new();
    let root = dir.root();
    dir.ok(&[
        "trust",
        "sign",
        "--root-key",
        "root.key",
        "--type",
        "ott",
        "--out",
        "ott1.json",
    ]);
    // An option given twice: the last one counts, as with the reference's argparse.
    dir.ok(&[
        "trust",
        "sign",
        "--root-key",
        "root.key",
        "--type",
        "policy",
        "--out",
        "x.json",
        "--type",
        "ott",
        "--out",
        "ott2.json",
    ]);
    assert!(!dir.path("x.json").exists());
    let nonce = |name: &str| match credential(&dir, name) {
        Credential::Consumer(c) => {
            assert_eq!(c.kind, ConsumerKind::Ott);
            c.nonce.expect("an OTT carries a nonce")
        }
        other => panic!("{other:?}"),
    };
    let (n1, n2) = (nonce("ott1.json"), nonce("ott2.json"));
    assert_eq!(n1.len(), 32);
    assert_ne!(n1, n2, "each one-time credential has its own nonce");
    assert_ne!(n1, [0; 32]);
    let ott = credential(&dir, "ott1.json");
    let mut store = MemoryNonceStore::new();
    let peer = "ab".repeat(32);
    assert!(
        admit(&ott, &root, &peer, now(), Some(&mut store)).is_ok(),
        "first use"
    );
    assert!(
        admit(&ott, &root, &peer, now(), Some(&mut store)).is_err(),
        "replay"
    );
}

#[test]
fn sign_refuses_bad_input_and_writes_nothing() {
    let dir = Scratch::new();
    dir.root();
    let cases: &[(&[&str], &str)] = &[
        (&["--type", "producer"], "--endpoint-id is required"),
        (&["--type", "policy", "--endpoint-id", "abc"], "64 hex"),
        (
            &["--type", "policy", "--attributes", "{not json"],
            "--attributes",
        ),
        (
            &["--type", "policy", "--attributes", r#"{"aster.role": 5}"#],
            "--attributes",
        ),
        (
            &["--type", "policy", "--expires", "next tuesday"],
            "--expires",
        ),
    ];
    for (extra, said) in cases {
        let mut args = vec!["trust", "sign", "--root-key", "root.key", "--out", "x.json"];
        args.extend_from_slice(extra);
        let out = dir.aster(&args);
        assert_eq!(out.status.code(), Some(1), "{extra:?}");
        assert!(
            text(&out.stderr).contains(said),
            "{extra:?}: {}",
            text(&out.stderr)
        );
        assert!(!dir.path("x.json").exists(), "{extra:?} wrote a credential");
    }
    let out = dir.aster(&[
        "trust",
        "sign",
        "--root-key",
        "missing.key",
        "--type",
        "policy",
        "--out",
        "x.json",
    ]);
    assert_exit(&out, 1, "key file not found", "");
    // A key file whose public half does not match its private half.
    std::fs::write(
        dir.path("bad.key"),
        format!(
            "{{\"private_key\": \"{}\", \"public_key\": \"{}\"}}",
            "11".repeat(32),
            "22".repeat(32)
        ),
    )
    .unwrap();
    let out = dir.aster(&[
        "trust",
        "sign",
        "--root-key",
        "bad.key",
        "--type",
        "policy",
        "--out",
        "x.json",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.path("x.json").exists());
}

// -- enroll node -----------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enroll_writes_an_identity_our_client_and_server_accept() {
    let dir = Scratch::new();
    let root = dir.root();
    let stdout = dir.ok(&[
        "enroll",
        "node",
        "--role",
        "consumer",
        "--name",
        "edge",
        "--capabilities",
        "ops.status",
        "--root-key",
        "root.key",
    ]);
    assert!(stdout.contains("Enrollment credential created"), "{stdout}");
    assert!(stdout.contains("--rcan .aster-identity"), "{stdout}");
    #[cfg(unix)]
    assert_eq!(mode(&dir.path(".aster-identity")), 0o600);
    let identity =
        IdentityFile::parse(&dir.read(".aster-identity")).expect("valid .aster-identity");
    let node = identity.node.secret_key.clone().expect("a node key");
    assert_eq!(
        identity.node.endpoint_id.as_deref(),
        Some(node.endpoint_id().as_str())
    );
    let peer = identity
        .find_peer(Some("edge"), None)
        .expect("the edge entry");
    assert_eq!(
        (peer.role, peer.kind),
        (PeerRole::Consumer, ConsumerKind::Policy)
    );
    assert_eq!(
        peer.endpoint_id.as_deref(),
        Some(node.endpoint_id().as_str()),
        "bound to the node"
    );
    assert_eq!(peer.attributes.get("aster.role"), Some("ops.status"));
    assert!(peer.to_credential().unwrap().verify(&root));

    // The plain form: `aster.role` defaults to the role and is written out in
    // full (the reference leaves it out, and its own client then fails).
    dir.ok(&[
        "enroll",
        "node",
        "--role",
        "consumer",
        "--name",
        "plain",
        "--root-key",
        "root.key",
        "--out",
        "plain.id",
    ]);
    let plain = IdentityFile::parse(&dir.read("plain.id")).unwrap();
    assert_eq!(
        plain.peers[0].attributes.get("aster.role"),
        Some("consumer")
    );
    assert!(
        dir.read("plain.id")
            .contains(r#"attributes = { "aster.role" = "consumer" }"#)
    );

    let s = server(root).await;
    let client = connect(&s, &dir.path(".aster-identity"))
        .await
        .expect("the enrolled identity is admitted");
    assert_eq!(
        client.endpoint().id().to_string(),
        node.endpoint_id(),
        "the client took the identity's node key"
    );
    assert_eq!(
        client.attributes().get("aster.role").map(String::as_str),
        Some("ops.status")
    );
    let mc = mission_control::MissionControlClient::new(client.clone());
    let status = mc
        .get_status(StatusRequest {
            agent_id: "a1".into(),
        })
        .await
        .expect("ops.status may read status");
    assert_eq!(status.agent_id, "a1");
    assert!(connect(&s, &dir.path("plain.id")).await.is_ok());
    client.close().await;
    s.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enroll_reuses_the_node_key_replaces_by_name_and_makes_usable_otts() {
    let dir = Scratch::new();
    let root = dir.root();
    let quiet = dir.ok(&[
        "enroll",
        "node",
        "-r",
        "consumer",
        "-n",
        "a",
        "-t",
        "ott",
        "--root-key",
        "root.key",
        "-o",
        "n.id",
        "-q",
        "-e",
        "2099-01-01",
    ]);
    let id1 = IdentityFile::parse(&dir.read("n.id")).unwrap();
    let eid = id1.node.endpoint_id.clone().unwrap();
    assert_eq!(
        quiet,
        format!("n.id {eid} 2099-01-01T00:00:00+00:00\n"),
        "one parseable line"
    );
    assert_eq!(id1.peers[0].expires_at, 4_070_908_800);
    assert_eq!(id1.peers[0].kind, ConsumerKind::Ott);
    assert!(
        id1.peers[0].nonce.is_some(),
        "the reference forgets the nonce (T6); we do not"
    );

    let stdout = dir.ok(&[
        "enroll",
        "node",
        "-r",
        "producer",
        "-n",
        "p",
        "--root-key",
        "root.key",
        "-i",
        "n.id",
        "-c",
        "ops.ingest",
    ]);
    assert!(stdout.contains("Reusing node key"), "{stdout}");
    dir.ok(&[
        "enroll",
        "node",
        "-r",
        "consumer",
        "-n",
        "b",
        "--root-key",
        "root.key",
        "-i",
        "n.id",
        "-a",
        "team=ops, aster.name=bee",
    ]);
    dir.ok(&[
        "enroll",
        "node",
        "-r",
        "consumer",
        "-n",
        "b",
        "--root-key",
        "root.key",
        "-i",
        "n.id",
        "-c",
        "ops.admin",
        "-e",
        "24h",
    ]);
    let id = IdentityFile::parse(&dir.read("n.id")).unwrap();
    assert_eq!(id.node, id1.node, "same node key throughout");
    let names: Vec<_> = id.peers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["a", "p", "b"],
        "an entry of the same name is replaced"
    );
    let producer = id.find_peer(Some("p"), None).unwrap();
    assert_eq!(producer.role, PeerRole::Producer);
    let Credential::Producer(pc) = producer.to_credential().unwrap() else {
        panic!("a producer credential")
    };
    assert_eq!(pc.endpoint_id, eid);
    assert_eq!(
        pc.attributes.get("aster.role"),
        Some("ops.ingest"),
        "--capabilities replaces the role default"
    );
    assert!(pc.verify(&root));
    let b = id.find_peer(Some("b"), None).unwrap();
    assert_eq!(b.attributes.get("aster.role"), Some("ops.admin"));
    assert!((now() + 86_400 - 60..=now() + 86_400 + 60).contains(&b.expires_at));

    // The OTT entry, presented from the file: admitted once, then refused.
    let s = server(root).await;
    assert!(
        connect(&s, &dir.path("n.id")).await.is_ok(),
        "first use of the one-time credential"
    );
    assert!(
        matches!(
            connect(&s, &dir.path("n.id")).await,
            Err(ClientError::Denied { .. })
        ),
        "replay refused"
    );
    s.shutdown().await;
}

#[test]
fn enroll_requires_a_root_key_file_and_a_known_signer() {
    let dir = Scratch::new();
    let out = dir.aster(&["enroll", "node", "--role", "consumer", "--name", "x"]);
    assert_exit(&out, 2, "--root-key", "a usage error");
    let help = dir.ok(&["enroll", "node", "--help"]);
    assert!(
        help.contains("keyring"),
        "the help says why --root-key is required: {help}"
    );
    dir.root();
    let out = dir.aster(&[
        "enroll",
        "node",
        "--role",
        "consumer",
        "--name",
        "x",
        "--root-key",
        "root.key",
        "--signer",
        "kms",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.path(".aster-identity").exists());
    // --profile is accepted (and, with --root-key, ignored, as by the reference).
    dir.ok(&[
        "enroll",
        "node",
        "--role",
        "consumer",
        "--name",
        "x",
        "--root-key",
        "root.key",
        "--profile",
        "prod",
        "-q",
    ]);
    assert!(dir.path(".aster-identity").exists());
}

#[test]
fn enroll_keeps_the_identity_out_of_git() {
    let dir = Scratch::new();
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(&dir.0)
        .status();
    if !git.is_ok_and(|s| s.success()) {
        panic!("git is needed for this test (the reference calls git too)");
    }
    dir.root();
    std::fs::write(dir.path(".gitignore"), "target").unwrap();
    let out = dir.aster(&[
        "enroll",
        "node",
        "-r",
        "consumer",
        "-n",
        "x",
        "--root-key",
        "root.key",
        "-q",
    ]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).lines().count(),
        1,
        "quiet output stays one line"
    );
    assert_eq!(
        dir.read(".gitignore"),
        "target\n\n# Aster node secret -- do not commit\n.aster-identity\n"
    );
    dir.ok(&[
        "enroll",
        "node",
        "-r",
        "consumer",
        "-n",
        "y",
        "--root-key",
        "root.key",
        "-q",
    ]);
    assert_eq!(
        dir.read(".gitignore").matches(".aster-identity").count(),
        1,
        "added once"
    );
}

// -- call --rcan -------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn call_presents_the_credential_given_with_rcan() {
    let dir = Scratch::new();
    let root = dir.root();
    dir.ok(&[
        "trust",
        "sign",
        "--root-key",
        "root.key",
        "--type",
        "policy",
        "--attributes",
        r#"{"aster.role":"ops.status"}"#,
        "--out",
        "edge.json",
    ]);
    dir.ok(&[
        "trust",
        "sign",
        "--root-key",
        "root.key",
        "--type",
        "policy",
        "--out",
        "noroles.json",
    ]);
    dir.ok(&[
        "enroll",
        "node",
        "-r",
        "consumer",
        "-n",
        "edge",
        "-c",
        "ops.status",
        "--root-key",
        "root.key",
        "-q",
    ]);
    let s = server(root).await;
    let ticket = s.ticket();
    let call = |extra: Vec<String>| {
        let dir_path = dir.0.clone();
        let ticket = ticket.clone();
        tokio::task::spawn_blocking(move || {
            let mut args = vec![
                "call".to_string(),
                ticket,
                "MissionControl.getStatus".into(),
                r#"{"agent_id":"a7"}"#.into(),
                "--loopback".into(),
            ];
            args.extend(extra);
            Command::new(env!("CARGO_BIN_EXE_aster"))
                .args(&args)
                .current_dir(dir_path)
                .output()
                .unwrap()
        })
    };
    let rcan = |file: &str| vec!["--rcan".to_string(), file.to_string()];

    let out = call(rcan("edge.json")).await.unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let reply: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(reply["agent_id"], "a7");

    let out = call(rcan(".aster-identity")).await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "an .aster-identity works too: {}",
        text(&out.stderr)
    );

    let out = call(vec![]).await.unwrap();
    assert_exit(&out, 7, "--rcan", "no credential: admission denied");

    let out = call(rcan("noroles.json")).await.unwrap();
    assert_exit(
        &out,
        7,
        "capability check failed",
        "admitted without ops.status: PERMISSION_DENIED",
    );

    let out = call(rcan("missing.json")).await.unwrap();
    assert_eq!(out.status.code(), Some(2));

    std::fs::write(
        dir.path("node.key"),
        format!("{{\"secret_key\": \"{}\"}}", "11".repeat(32)),
    )
    .unwrap();
    let mut both = rcan(".aster-identity");
    both.extend(["--key".to_string(), "node.key".to_string()]);
    let out = call(both).await.unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "an identity's node key and --key conflict"
    );
    s.shutdown().await;
}
