//! Reading contracts from a live peer: admission lists its services with
//! their contract ids; manifests and bundles come from the peer's registry,
//! each bundle accepted only if `contract.bin` hashes to the advertised id
//! (`Client::contract_bundle`). Every read is bounded in time, so a peer
//! that stalls costs [`FETCH_TIMEOUT`] per service at most.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use aster::proto::admission::ServiceSummary;
use aster::proto::contract::ContractId;
use aster::proto::contract::manifest::Manifest;
use aster::registry::RegistryError;
use aster::{Client, ClientError, NetworkMode};

use super::model::ServiceModel;

/// Longest wait for one service's manifest or bundle.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a registry entry the peer advertises may take to show up.
const NOT_FOUND_GRACE: Duration = Duration::from_secs(10);

/// How to reach a peer (the flags `aster call` has).
#[derive(clap::Args, Debug, Clone)]
pub struct PeerArgs {
    /// No relay or address lookup; bind 127.0.0.1 (for peers on this host).
    #[arg(long)]
    pub loopback: bool,
    /// The credential to present at admission: a credential JSON file or
    /// an `.aster-identity` file.
    #[arg(long, value_name = "PATH")]
    pub rcan: Option<PathBuf>,
}

pub async fn connect(address: &str, args: &PeerArgs) -> anyhow::Result<Client> {
    let mut builder = Client::builder();
    if args.loopback {
        builder = builder.network(NetworkMode::loopback());
    }
    if let Some(path) = &args.rcan {
        builder = builder.credential_file(path)?;
    }
    match builder.connect(address).await {
        Ok(c) => Ok(c),
        Err(ClientError::Denied { peer }) => Err(anyhow!(
            "admission denied by {peer}{}",
            if args.rcan.is_none() {
                " (no credential: pass one with --rcan)"
            } else {
                ""
            }
        )),
        Err(e) => Err(anyhow!(e).context(format!("cannot connect to {address}"))),
    }
}

/// The services to read: all the peer lists (one per name), or `only`.
pub fn select<'a>(client: &'a Client, only: &[String]) -> anyhow::Result<Vec<&'a ServiceSummary>> {
    let mut listed: Vec<&ServiceSummary> = Vec::new();
    for s in client.services() {
        if !listed.iter().any(|l| l.name == s.name) {
            listed.push(s);
        }
    }
    if listed.is_empty() {
        bail!("the peer lists no services");
    }
    if only.is_empty() {
        return Ok(listed);
    }
    only.iter()
        .map(|name| {
            listed
                .iter()
                .copied()
                .find(|s| &s.name == name)
                .with_context(|| {
                    let names: Vec<&str> = listed.iter().map(|s| s.name.as_str()).collect();
                    format!("the peer has no service {name:?} (it lists {names:?})")
                })
        })
        .collect()
}

/// `read()`, retried while the registry says "not found" for up to
/// [`NOT_FOUND_GRACE`] (entries of a peer that just started, or that the
/// first sync round missed, arrive by live sync shortly after), the whole
/// bounded by [`FETCH_TIMEOUT`].
async fn bounded<T, F, Fut>(what: String, mut read: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RegistryError>>,
{
    let give_up = tokio::time::Instant::now() + NOT_FOUND_GRACE;
    let attempts = async {
        loop {
            match read().await {
                Err(RegistryError::NotFound(_)) if tokio::time::Instant::now() < give_up => {
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                other => return other,
            }
        }
    };
    match tokio::time::timeout(FETCH_TIMEOUT, attempts).await {
        Ok(r) => r.context(what),
        Err(_) => Err(anyhow!(
            "{what}: no answer within {} s",
            FETCH_TIMEOUT.as_secs()
        )),
    }
}

/// The manifests the peer's registry publishes for `services`, each
/// checked to name the contract id admission advertised.
pub async fn manifests(
    client: &Client,
    services: &[&ServiceSummary],
) -> anyhow::Result<Vec<Manifest>> {
    let mut out = Vec::new();
    for s in services {
        let m = bounded(
            format!(
                "reading the manifest of {} from the peer's registry",
                s.name
            ),
            || client.manifest(&s.name),
        )
        .await?;
        if m.contract_id != s.contract_id {
            bail!(
                "the registry's manifest of {} names contract {:?}, but the peer advertises {:?}",
                s.name,
                m.contract_id,
                s.contract_id
            );
        }
        out.push(m);
    }
    Ok(out)
}

/// One model per service, from its verified contract bundle with the
/// published manifest as hints.
pub async fn models(
    client: &Client,
    services: &[&ServiceSummary],
) -> anyhow::Result<Vec<ServiceModel>> {
    let mut out = Vec::new();
    for s in services {
        let advertised = ContractId::from_hex(&s.contract_id).with_context(|| {
            format!(
                "{}: the advertised contract id {:?} is not 64 hex digits",
                s.name, s.contract_id
            )
        })?;
        let bundle = bounded(
            format!(
                "reading the contract bundle of {} from the peer's registry",
                s.name
            ),
            || client.contract_bundle(&s.name),
        )
        .await?;
        if bundle.contract_id != advertised {
            bail!(
                "{}: the bundle is contract {}, the peer advertises {advertised}",
                s.name,
                bundle.contract_id
            );
        }
        let manifest = match bundle.manifest() {
            Some(Ok(m)) => Some(m),
            _ => bounded(String::new(), || client.manifest(&s.name))
                .await
                .ok(),
        };
        out.push(ServiceModel::from_bundle(&bundle, manifest.as_ref())?);
    }
    Ok(out)
}
