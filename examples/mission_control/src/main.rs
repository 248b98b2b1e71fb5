//! `mission-control [--auth] [--loopback] [--key FILE] [--nonces FILE]
//! [--storage DIR] [--registry TICKET]`: serves Mission Control and prints
//! its `aster1…` address, like the reference's server. `--storage` keeps its
//! registry (and so its registry namespace) across restarts; `--registry`
//! also publishes into a shared registry and keeps leases there (`aster
//! registry create` prints such a ticket). Without `--auth` it runs in dev mode (open gate, roles
//! not enforced); with it, only peers holding a credential signed by the root
//! key in `ASTER_ROOT_PUBKEY_FILE` / `ASTER_ROOT_PUBKEY` get in, and each
//! method checks the caller's roles.

use std::path::PathBuf;

use anyhow::Context;
use aster::{NetworkMode, Server};
use mission_control::{Agent, AgentSessionServer, Control, MissionControlServer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ASTER_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let mut loopback = false;
    let mut auth = false;
    let mut key: Option<PathBuf> = None;
    let mut nonces: Option<PathBuf> = None;
    let mut storage: Option<PathBuf> = None;
    let mut registry: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--loopback" => loopback = true,
            "--auth" => auth = true,
            "--nonces" => nonces = Some(args.next().context("--nonces needs a file")?.into()),
            "--key" => key = Some(args.next().context("--key needs a file")?.into()),
            "--storage" => {
                storage = Some(args.next().context("--storage needs a directory")?.into())
            }
            "--registry" => registry = Some(args.next().context("--registry needs a doc ticket")?),
            "-h" | "--help" => {
                println!(
                    "usage: mission-control [--auth] [--loopback] [--key FILE] [--nonces FILE] [--storage DIR] [--registry TICKET]"
                );
                return Ok(());
            }
            other => anyhow::bail!("unknown argument {other}"),
        }
    }
    let mut builder = Server::builder()
        .service(MissionControlServer::new(Control::default()))
        .service(AgentSessionServer::new(Agent::new));
    if loopback {
        builder = builder.network(NetworkMode::loopback());
    }
    builder = if auth {
        let root = mission_control::root_pubkey_from_env().map_err(anyhow::Error::msg)?;
        let builder = builder.root_pubkey(root);
        match nonces {
            Some(path) => builder.nonce_file(path)?,
            None => builder,
        }
    } else {
        builder.dev_mode()
    };
    if let Some(path) = key {
        builder = builder.secret_key(aster::net::read_secret_key(&path)?);
    }
    if let Some(dir) = storage {
        builder = builder.registry_storage(dir);
    }
    if let Some(ticket) = registry {
        builder = builder.shared_registry(ticket);
    }
    let server = builder.bind().await?;
    println!("{}", server.ticket());
    tokio::signal::ctrl_c().await?;
    server.drain(std::time::Duration::from_secs(10)).await;
    Ok(())
}
