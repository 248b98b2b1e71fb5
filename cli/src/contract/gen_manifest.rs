//! `aster contract gen SOURCE... [--out PATH] [--semver V]`: the manifest
//! file the reference's `aster contract gen` writes (aster_cli/contract.py
//! `_gen_command`): `.aster/manifest.json` by default, one manifest object
//! for one service and a JSON array for several, in the `contract gen` form
//! ([`Producer::ContractGen`]: modes as numbers) with the publication facts
//! filled as the reference fills them: `published_at_epoch_ms` from the
//! clock, `semver` from `--semver`, `vcs_revision` / `vcs_tag` / `vcs_url`
//! from `git rev-parse HEAD`, `git describe --tags --exact-match` and `git
//! remote get-url origin` run in the current directory (each `None` when
//! git fails or takes more than 5 s), `published_by` empty.
//!
//! A SOURCE is a service compiled into this binary, or a live peer's
//! address. From a peer, the manifests are the ones its registry publishes
//! (checked to name the contract ids admission advertised), written as
//! published: they describe the peer's build, so this checkout's git facts
//! and clock are not put into them; `--semver`, when given, is.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use aster::Service;
use aster::proto::contract::manifest::{Manifest, ModeToken, Publication, contract_gen_json};
use mission_control::{Agent, AgentSessionServer, Control, MissionControlServer};

use super::peer::{self, PeerArgs};

#[derive(clap::Args, Debug)]
pub struct GenArgs {
    /// A service compiled into this binary (MissionControl, AgentSession),
    /// or a live peer's address (`aster1…`, 64-hex endpoint id) for all the
    /// services it lists. Several sources give a JSON array.
    #[arg(required = true, value_name = "SOURCE")]
    sources: Vec<String>,
    /// Where to write the manifest(s).
    #[arg(long, value_name = "PATH", default_value = ".aster/manifest.json")]
    out: PathBuf,
    /// A semantic version to put into every manifest.
    #[arg(long, value_name = "VERSION")]
    semver: Option<String>,
    /// From a peer: only this service (repeatable).
    #[arg(long = "service", value_name = "NAME")]
    services: Vec<String>,
    #[command(flatten)]
    peer: PeerArgs,
}

/// Builds a runtime manifest.
type ManifestFn = fn() -> Manifest;

/// The services this binary can describe without a peer: the runtime
/// manifest of each, built with its types' real defaults.
const COMPILED_IN: &[(&str, ManifestFn)] = &[
    ("MissionControl", || {
        MissionControlServer::new(Control::default()).manifest()
    }),
    ("AgentSession", || {
        AgentSessionServer::new(Agent::new).manifest()
    }),
];

/// The names [`compiled_in`] knows.
pub fn compiled_in_names() -> Vec<&'static str> {
    COMPILED_IN.iter().map(|(n, _)| *n).collect()
}

/// The `contract gen` manifest of a compiled-in service, without
/// publication facts (those are added by [`with_publication`]).
pub fn compiled_in(name: &str) -> Option<Manifest> {
    COMPILED_IN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, build)| contract_gen_form(build()))
}

/// A runtime manifest in the `contract gen` form: modes as their numbers
/// (exactly what `ManifestBuilder::producer(Producer::ContractGen)` writes
/// for the same descriptor and defaults; `cli/tests/contract.rs` checks it).
fn contract_gen_form(mut m: Manifest) -> Manifest {
    m.serialization_modes = m
        .serialization_modes
        .iter()
        .map(|t| {
            t.mode()
                .map_or_else(|| t.clone(), |mode| ModeToken::Code(mode as i64))
        })
        .collect();
    m
}

fn with_publication(mut m: Manifest, p: &Publication) -> Manifest {
    m.deprecated = p.deprecated;
    m.semver = p.semver.clone();
    m.vcs_revision = p.vcs_revision.clone();
    m.vcs_tag = p.vcs_tag.clone();
    m.vcs_url = p.vcs_url.clone();
    m.changelog = p.changelog.clone();
    m.published_by = p.published_by.clone();
    m.published_at_epoch_ms = p.published_at_epoch_ms;
    m
}

/// The publication facts `aster contract gen` records (see the module doc).
fn publication(semver: Option<String>) -> Publication {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    Publication {
        semver,
        vcs_revision: git(&["rev-parse", "HEAD"]),
        vcs_tag: git(&["describe", "--tags", "--exact-match"]),
        vcs_url: git(&["remote", "get-url", "origin"]),
        published_at_epoch_ms: i64::try_from(now).unwrap_or(i64::MAX),
        ..Publication::default()
    }
}

/// `git ARGS` in the current directory: its trimmed stdout on success,
/// `None` when git is missing, fails, or runs longer than 5 s.
fn git(args: &[&str]) -> Option<String> {
    let mut child = Command::new("git")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    }
    let out = child.wait_with_output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub async fn run(args: GenArgs) -> anyhow::Result<u8> {
    let mut manifests = Vec::new();
    let mut facts = None;
    for source in &args.sources {
        if let Some(m) = compiled_in(source) {
            let p = facts.get_or_insert_with(|| publication(args.semver.clone()));
            manifests.push(with_publication(m, p));
            continue;
        }
        let client = peer::connect(source, &args.peer).await.with_context(|| {
            format!(
                "{source:?} is neither a compiled-in service ({}) nor a reachable address",
                compiled_in_names().join(", ")
            )
        })?;
        let result = async {
            let selected = peer::select(&client, &args.services)?;
            peer::manifests(&client, &selected).await
        }
        .await;
        client.close().await;
        for mut m in result? {
            if args.semver.is_some() {
                m.semver = args.semver.clone();
            }
            manifests.push(m);
        }
    }
    if manifests.is_empty() {
        bail!("no manifests to write");
    }
    if let Some(dir) = args.out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(&args.out, contract_gen_json(&manifests))
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!("Contract manifest written to: {}", args.out.display());
    for m in &manifests {
        let short: String = m.contract_id.chars().take(16).collect();
        println!(
            "  {} v{}  contract_id={short}...  methods={}",
            m.service, m.version, m.method_count
        );
    }
    Ok(0)
}
