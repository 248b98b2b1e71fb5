//! `aster registry create | ls | resolve`: host a shared registry, and look
//! into one (or into a single server's own registry).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use aster::net::now_ms;
use aster::proto::registry::{
    ArtifactRef, DocEntry, EndpointLease, LeaseValue, RegistryKey, Selector, Strategy, freshness,
};
use aster::registry::{Balancer, RegistryDoc, RegistryHost, lease_config};
use aster::{Client, NetworkMode};
use clap::{Args, Subcommand, ValueEnum};

#[derive(Subcommand)]
pub enum RegistryCommand {
    /// Hosts a new shared registry and prints its tickets (write access for
    /// producers, read-only for consumers); runs until Ctrl-C.
    Create(CreateArgs),
    /// Lists services, contracts and endpoints (with health, load and lease
    /// age) of a shared registry (doc ticket) or a server's own registry
    /// (its address).
    Ls(LsArgs),
    /// Resolves a service to its live endpoints, best first, as JSON lines.
    Resolve(ResolveArgs),
}

#[derive(Args)]
pub struct CreateArgs {
    /// No relay, no address lookup, bound to 127.0.0.1.
    #[arg(long)]
    loopback: bool,
    /// Keep the registry here (same tickets after a restart).
    #[arg(long, value_name = "DIR")]
    storage: Option<PathBuf>,
    /// Lease term producers use and readers enforce.
    #[arg(long, default_value_t = 45.0, value_name = "SECS")]
    lease_secs: f64,
    /// How often producers refresh their leases.
    #[arg(long, default_value_t = 15.0, value_name = "SECS")]
    refresh_secs: f64,
}

#[derive(Args)]
pub struct LsArgs {
    /// A doc ticket (`doc…`) or a server address (`aster1…`, hex id).
    source: String,
    #[arg(long)]
    loopback: bool,
    /// One JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum StrategyArg {
    RoundRobin,
    LeastLoad,
    Random,
}

#[derive(Args)]
pub struct ResolveArgs {
    /// A doc ticket (`doc…`) of a shared registry.
    ticket: String,
    /// The service name.
    service: String,
    #[arg(long, conflicts_with_all = ["contract", "channel"])]
    version: Option<i32>,
    #[arg(long, conflicts_with = "channel")]
    contract: Option<String>,
    #[arg(long)]
    channel: Option<String>,
    #[arg(long, value_enum, default_value = "round-robin")]
    strategy: StrategyArg,
    /// Only the best endpoint.
    #[arg(long)]
    first: bool,
    #[arg(long)]
    loopback: bool,
}

fn network(loopback: bool) -> NetworkMode {
    if loopback {
        NetworkMode::loopback()
    } else {
        NetworkMode::Default
    }
}

pub async fn run(command: RegistryCommand) -> anyhow::Result<u8> {
    match command {
        RegistryCommand::Create(a) => create(a).await.map(|()| 0),
        RegistryCommand::Ls(a) => ls(a).await.map(|()| 0),
        RegistryCommand::Resolve(a) => resolve(a).await,
    }
}

async fn create(args: CreateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.lease_secs > 0.0 && args.refresh_secs > 0.0,
        "lease and refresh must be positive"
    );
    anyhow::ensure!(
        args.refresh_secs < args.lease_secs,
        "refresh must be shorter than the lease"
    );
    let host = RegistryHost::bind(network(args.loopback), None, args.storage.as_deref()).await?;
    host.set_lease_timing(
        Duration::from_secs_f64(args.lease_secs),
        Duration::from_secs_f64(args.refresh_secs),
    )
    .await?;
    println!("namespace {}", host.doc().namespace());
    println!("write {}", host.write_ticket().await?);
    println!("read {}", host.read_ticket().await?);
    eprintln!("serving the registry; Ctrl-C to stop");
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    host.shutdown().await;
    Ok(())
}

/// Reads a registry: a shared one through a (read-only) join, or a
/// server's own one through admission.
async fn open(
    source: &str,
    loopback: bool,
) -> anyhow::Result<(RegistryDoc, Option<Balancer>, Option<Client>)> {
    if source.starts_with("doc") {
        let balancer = Balancer::builder()
            .network(network(loopback))
            .join(source)
            .await?;
        Ok((balancer.registry().clone(), Some(balancer), None))
    } else {
        let client = Client::builder()
            .network(network(loopback))
            .connect(source)
            .await?;
        let doc = client.registry().await?;
        Ok((doc, None, Some(client)))
    }
}

async fn ls(args: LsArgs) -> anyhow::Result<()> {
    let (doc, balancer, client) = open(&args.source, args.loopback).await?;
    let entries = doc.entries("").await?;
    let timing = lease_config(&doc).await?;
    let listing = Listing::of(&entries, timing.lease_duration_ms);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&listing.to_json(&doc.namespace().to_string()))?
        );
    } else {
        listing.print(&doc.namespace().to_string());
    }
    if let Some(b) = balancer {
        b.close().await;
    }
    if let Some(c) = client {
        c.close().await;
    }
    Ok(())
}

async fn resolve(args: ResolveArgs) -> anyhow::Result<u8> {
    let selector = match (&args.contract, args.version, &args.channel) {
        (Some(c), _, _) => Selector::contract(c),
        (None, Some(v), _) => Selector::version(v),
        (None, None, Some(c)) => Selector::channel(c),
        (None, None, None) => anyhow::bail!("give --version, --contract or --channel"),
    };
    let strategy = match args.strategy {
        StrategyArg::RoundRobin => Strategy::RoundRobin,
        StrategyArg::LeastLoad => Strategy::LeastLoad,
        StrategyArg::Random => Strategy::Random { seed: now_ms() },
    };
    let balancer = Balancer::builder()
        .network(network(args.loopback))
        .strategy(strategy)
        .join(&args.ticket)
        .await?;
    let result = balancer.resolve_all(&args.service, selector).await;
    balancer.close().await;
    match result {
        Ok(leases) => {
            for lease in leases.iter().take(if args.first { 1 } else { usize::MAX }) {
                println!("{}", String::from_utf8_lossy(&lease.encode()));
            }
            Ok(0)
        }
        Err(e) => {
            eprintln!("error: {e}");
            // NOT_FOUND, as a call would report it.
            Ok(5)
        }
    }
}

/// What a registry holds, grouped by service.
#[derive(Default)]
struct Listing {
    services: BTreeMap<String, ServiceListing>,
    artifacts: BTreeMap<String, ArtifactRef>,
    /// The registry's lease term, for the freshness shown.
    lease_duration_ms: i64,
}

#[derive(Default)]
struct ServiceListing {
    versions: BTreeMap<i32, String>,
    channels: BTreeMap<String, String>,
    /// (contract, endpoint) -> newest lease or tombstone.
    endpoints: BTreeMap<(String, String), (LeaseValue, u64)>,
}

impl Listing {
    fn of(entries: &[DocEntry], lease_duration_ms: i64) -> Listing {
        let mut out = Listing {
            lease_duration_ms,
            ..Listing::default()
        };
        let text = |v: &[u8]| String::from_utf8_lossy(v).trim().to_owned();
        for e in entries {
            let Ok(key) = RegistryKey::parse(&e.key) else {
                continue;
            };
            match key {
                RegistryKey::Contract { contract_id } => {
                    if let Ok(a) = ArtifactRef::decode(&e.value) {
                        out.artifacts.insert(contract_id, a);
                    }
                }
                RegistryKey::Version { service, version } => {
                    out.services
                        .entry(service)
                        .or_default()
                        .versions
                        .insert(version, text(&e.value));
                }
                RegistryKey::Channel { service, channel } => {
                    out.services
                        .entry(service)
                        .or_default()
                        .channels
                        .insert(channel, text(&e.value));
                }
                RegistryKey::Lease {
                    service,
                    contract_id,
                    endpoint_id,
                } => {
                    let Ok(value) = LeaseValue::decode(&e.value) else {
                        continue;
                    };
                    let slot = out
                        .services
                        .entry(service)
                        .or_default()
                        .endpoints
                        .entry((contract_id, endpoint_id));
                    let newer = |(_, ts): &(LeaseValue, u64)| e.timestamp > *ts;
                    match slot {
                        std::collections::btree_map::Entry::Vacant(v) => {
                            v.insert((value, e.timestamp));
                        }
                        std::collections::btree_map::Entry::Occupied(mut o) => {
                            if newer(o.get()) {
                                o.insert((value, e.timestamp));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        out
    }

    fn print(&self, namespace: &str) {
        println!("registry {namespace}");
        if self.services.is_empty() {
            println!("  (no services)");
        }
        let now = now_ms() as i64;
        for (name, s) in &self.services {
            println!("service {name}");
            for (v, cid) in &s.versions {
                let published = self
                    .artifacts
                    .get(cid)
                    .map(|a| format!(" (collection {})", short(&a.collection_hash)));
                println!(
                    "  v{v} -> contract {}{}",
                    short(cid),
                    published.unwrap_or_default()
                );
            }
            for (c, cid) in &s.channels {
                println!("  channel {c} -> contract {}", short(cid));
            }
            for ((cid, endpoint), (value, _)) in &s.endpoints {
                match value {
                    LeaseValue::Tombstone => println!(
                        "  endpoint {} contract {}: withdrawn",
                        short(endpoint),
                        short(cid)
                    ),
                    LeaseValue::Lease(l) => println!(
                        "  endpoint {} contract {}: {}",
                        short(endpoint),
                        short(cid),
                        describe(l, now, self.lease_duration_ms)
                    ),
                }
            }
        }
    }

    fn to_json(&self, namespace: &str) -> serde_json::Value {
        let now = now_ms() as i64;
        let services: serde_json::Map<String, serde_json::Value> = self
            .services
            .iter()
            .map(|(name, s)| {
                let endpoints: Vec<serde_json::Value> = s
                    .endpoints
                    .iter()
                    .map(|((cid, endpoint), (value, _))| match value {
                        LeaseValue::Tombstone => serde_json::json!({"endpoint_id": endpoint, "contract_id": cid, "withdrawn": true}),
                        LeaseValue::Lease(l) => serde_json::json!({
                            "endpoint_id": endpoint,
                            "contract_id": cid,
                            "health": l.health_status.as_str(),
                            "load": l.load,
                            "lease_seq": l.lease_seq,
                            "age_ms": now - l.updated_at_epoch_ms,
                            "freshness": format!("{:?}", freshness(l.updated_at_epoch_ms, l.lease_expires_epoch_ms, now, self.lease_duration_ms, aster::proto::registry::CLOCK_SKEW_TOLERANCE_MS)),
                            "expires_in_ms": l.lease_expires_epoch_ms - now,
                            "direct_addrs": l.direct_addrs,
                        }),
                    })
                    .collect();
                let value = serde_json::json!({
                    "versions": s.versions.iter().map(|(v, c)| (format!("v{v}"), serde_json::Value::from(c.clone()))).collect::<serde_json::Map<_, _>>(),
                    "channels": s.channels,
                    "endpoints": endpoints,
                });
                (name.clone(), value)
            })
            .collect();
        serde_json::json!({"namespace": namespace, "services": services})
    }
}

fn short(hex: &str) -> &str {
    hex.get(..12).unwrap_or(hex)
}

fn describe(l: &EndpointLease, now: i64, lease_duration_ms: i64) -> String {
    let state = freshness(
        l.updated_at_epoch_ms,
        l.lease_expires_epoch_ms,
        now,
        lease_duration_ms,
        aster::proto::registry::CLOCK_SKEW_TOLERANCE_MS,
    );
    let load = l.load.map(|x| format!(" load {x:.2}")).unwrap_or_default();
    format!(
        "{}{load} seq {} updated {:.1}s ago, expires in {:.1}s ({state:?}) at {}",
        l.health_status.as_str(),
        l.lease_seq,
        (now - l.updated_at_epoch_ms) as f64 / 1000.0,
        (l.lease_expires_epoch_ms - now) as f64 / 1000.0,
        if l.direct_addrs.is_empty() {
            "-".to_owned()
        } else {
            l.direct_addrs.join(", ")
        },
    )
}
