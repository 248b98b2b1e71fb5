//! `mission-control [--loopback] [--key FILE]`: serves Mission Control and
//! prints its `aster1…` address, like the reference's server.

use std::path::PathBuf;

use anyhow::Context;
use aster::{NetworkMode, Server};
use mission_control::{Agent, AgentSessionServer, Control, MissionControlServer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("ASTER_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let mut loopback = false;
    let mut key: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--loopback" => loopback = true,
            "--key" => key = Some(args.next().context("--key needs a file")?.into()),
            "-h" | "--help" => {
                println!("usage: mission-control [--loopback] [--key FILE]");
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
    if let Some(path) = key {
        builder = builder.secret_key(aster::net::read_secret_key(&path)?);
    }
    let server = builder.bind().await?;
    println!("{}", server.ticket());
    tokio::signal::ctrl_c().await?;
    server.drain(std::time::Duration::from_secs(10)).await;
    Ok(())
}
