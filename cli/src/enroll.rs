//! `aster enroll node`: give this node an identity and a credential signed
//! by the root key, in one `.aster-identity` file (trust-registry.md §1.2).
//!
//! Flags, defaults, output and the file layout are the reference CLI's
//! (`aster_cli/enroll.py`, aster-cli 0.1.2): the node key is generated, or
//! reused from the identity file; the credential is bound to the node's
//! EndpointId; `aster.role` defaults to the peer's role and `--capabilities`
//! replaces it; a peer entry of the same name is replaced. Differences:
//!
//! * the file is written by `aster_proto::trust::IdentityFile`, which keeps
//!   every signed attribute. The reference leaves out `aster.role` when it
//!   equals the role (and `aster.name` when it equals the name), so a plain
//!   `--role consumer` credential of its own no longer verifies when its
//!   client presents it; ours work with both clients;
//! * `--type ott` credentials get their fresh random nonce (the reference
//!   forgets it, so they fail admission: T6);
//! * only the root key file signs (`--root-key`, required). The reference
//!   also signs with an OS-keyring key per `--profile`; with `--root-key`
//!   given, the reference ignores the profile too, so `--profile` is
//!   accepted and has no effect;
//! * the file is created with mode 0600 from the start, and "Added
//!   .aster-identity to .gitignore" goes to stderr with `-q`, so the quiet
//!   output stays one parseable line.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use aster::proto::trust::{
    ATTR_ROLE, Attributes, ConsumerCredential, ConsumerKind, Credential, EnrollmentCredential,
    IdentityFile, NodeSecretKey, NodeSection, PeerEntry,
};

use crate::trust::{
    DEFAULT_VALIDITY_SECS, create_dirs_for, format_utc, format_utc_date, load_root_key, now_secs,
    parse_expiry, random_32, report, write_file_replacing,
};

#[derive(clap::Args)]
pub struct EnrollArgs {
    #[command(subcommand)]
    command: EnrollCommand,
}

#[derive(clap::Subcommand)]
enum EnrollCommand {
    /// Enrolls this node: generates (or reuses) its node key, signs a
    /// credential bound to it with the root key, and writes both to an
    /// `.aster-identity` file (TOML, mode 0600). Use the file with `aster
    /// call --rcan FILE`, or as the identity of a server or client.
    Node(NodeArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Role {
    Producer,
    Consumer,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Kind {
    Policy,
    Ott,
}

#[derive(clap::Args)]
#[command(args_override_self = true)]
#[command(
    after_help = "Signing: only a root key file is supported (--root-key, from `aster trust keygen`). \
The reference CLI's OS-keyring profiles and other signers are not; --profile is accepted and ignored, \
as the reference ignores it when --root-key is given."
)]
struct NodeArgs {
    /// Role of this peer entry.
    #[arg(short, long, value_enum)]
    role: Role,
    /// Human label for this peer entry (an entry with the same name is replaced).
    #[arg(short, long)]
    name: String,
    /// Credential type (consumers; a producer credential has none).
    #[arg(short = 't', long = "type", value_enum, default_value = "policy")]
    kind: Kind,
    /// Comma-separated key=value pairs, e.g. "aster.name=billing,team=ops".
    #[arg(short, long)]
    attributes: Option<String>,
    /// Comma-separated capabilities (e.g. ops.status,ops.logs); sets `aster.role`.
    #[arg(short, long)]
    capabilities: Option<String>,
    /// Expiry: "30d", "24h", or ISO 8601 (no offset = UTC). Default: 30d.
    #[arg(short, long)]
    expires: Option<String>,
    /// Root key JSON (`aster trust keygen`). Required: keyring profiles are not supported.
    #[arg(long, value_name = "PATH")]
    root_key: String,
    /// Operator profile: accepted for compatibility, no effect (see below).
    #[arg(short, long)]
    profile: Option<String>,
    /// Signer type; only "local" (the root key file).
    #[arg(long, default_value = "local")]
    signer: String,
    /// Existing .aster-identity file to add the peer to (overrides --out).
    #[arg(short, long)]
    identity: Option<PathBuf>,
    /// Output path.
    #[arg(short, long, default_value = ".aster-identity")]
    out: PathBuf,
    /// Print one parseable line: PATH ENDPOINT_ID EXPIRES_ISO.
    #[arg(short, long)]
    quiet: bool,
}

pub fn run(args: EnrollArgs) -> anyhow::Result<u8> {
    match args.command {
        EnrollCommand::Node(a) => Ok(report(enroll_node(a))),
    }
}

/// `k1=v1,k2=v2` as the reference reads it: pairs trimmed, pairs without `=`
/// skipped, a repeated key keeps its first position and last value.
fn parse_pairs(text: &str) -> Attributes {
    let mut attributes = Attributes::new();
    for pair in text.split(',') {
        if let Some((k, v)) = pair.trim().split_once('=') {
            attributes.insert(k.trim(), v.trim());
        }
    }
    attributes
}

fn enroll_node(args: NodeArgs) -> anyhow::Result<()> {
    if args.signer != "local" {
        bail!(
            "unknown signer type {:?}; supported: local (a root key file, --root-key)",
            args.signer
        );
    }
    let root = load_root_key(&args.root_key)?;
    let root_pubkey = root.public_key();
    let path = args.identity.clone().unwrap_or_else(|| args.out.clone());
    let quiet = args.quiet;

    // The node key: reused from an existing file, else new.
    let mut identity = if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        IdentityFile::parse(&text).with_context(|| format!("cannot read {}", path.display()))?
    } else {
        IdentityFile::default()
    };
    let node_key = match identity.node.secret_key.clone() {
        Some(key) => {
            if !quiet {
                println!(
                    "Reusing node key from {} (endpoint_id={}...)",
                    path.display(),
                    &key.endpoint_id()[..16]
                );
            }
            key
        }
        None => {
            let key = NodeSecretKey::from_bytes(&random_32()?);
            if !quiet {
                println!(
                    "Generated new node key (endpoint_id={}...)",
                    &key.endpoint_id()[..16]
                );
            }
            key
        }
    };
    let endpoint_id = node_key.endpoint_id();
    identity.node = NodeSection::new(node_key);

    // The credential, bound to this node.
    let expires_at = match &args.expires {
        None => now_secs() + DEFAULT_VALIDITY_SECS,
        Some(text) => parse_expiry(text)?,
    };
    let mut attributes = args
        .attributes
        .as_deref()
        .map(parse_pairs)
        .unwrap_or_default();
    if let Some(capabilities) = args.capabilities.as_deref().filter(|c| !c.is_empty()) {
        attributes.insert(ATTR_ROLE, capabilities);
    }
    let role_name = match args.role {
        Role::Producer => "producer",
        Role::Consumer => "consumer",
    };
    if !attributes.contains_key(ATTR_ROLE) {
        attributes.insert(ATTR_ROLE, role_name);
    }
    let credential: Credential = match args.role {
        Role::Producer => EnrollmentCredential::new(
            endpoint_id.clone(),
            root_pubkey,
            expires_at,
            attributes.clone(),
        )
        .signed(&root)
        .into(),
        Role::Consumer => {
            let kind = if args.kind == Kind::Ott {
                ConsumerKind::Ott
            } else {
                ConsumerKind::Policy
            };
            let mut credential =
                ConsumerCredential::new(kind, root_pubkey, expires_at, attributes.clone())
                    .with_endpoint_id(endpoint_id.clone());
            if kind == ConsumerKind::Ott {
                credential = credential.with_nonce(random_32()?);
            }
            credential.signed(&root).into()
        }
    };
    let entry = PeerEntry::from_credential(args.name.clone(), &credential);
    let kind_name = entry.kind.as_str();
    identity.add_peer(entry);

    create_dirs_for(&path)?;
    write_file_replacing(&path, identity.to_toml().as_bytes(), 0o600)?;
    ensure_gitignored(&path, quiet);

    let expires = format_utc(expires_at);
    if quiet {
        println!("{} {endpoint_id} {expires}", path.display());
        return Ok(());
    }
    let shown = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
    let capabilities = attributes.get(ATTR_ROLE).unwrap_or("(none)");
    println!();
    println!("✓ Enrollment credential created");
    println!();
    println!("  File:         {}", shown.display());
    println!("  Format:       TOML (.aster-identity) with [node] + [[peers]] sections");
    println!();
    println!("  Peer:         {}", args.name);
    println!("  Role:         {role_name} ({kind_name})");
    println!("  Capabilities: {capabilities}");
    println!("  Endpoint ID:  {}...", &endpoint_id[..16]);
    println!("  Trust root:   {}...", &root_pubkey.to_hex()[..16]);
    println!("  Expires:      {expires}");
    println!();
    match args.role {
        Role::Producer => {
            println!("  This file lets you run a server signed by your root key.");
            println!("  When this server starts, it presents this credential and the");
            println!("  Aster mesh recognises it as part of your trust domain.");
            println!();
            println!("  Use it:");
            println!(
                "  Set ASTER_IDENTITY_FILE={} when starting your server,",
                path.display()
            );
            println!("  or place .aster-identity in the working directory.");
        }
        Role::Consumer => {
            println!("  This file lets a consumer connect to your trusted-mode servers.");
            println!("  It contains a node identity (secret key) AND a signed enrollment");
            println!("  credential. The server validates the credential and grants the");
            println!("  capabilities listed below.");
            println!();
            println!("  Use it:");
            println!(
                "  aster call <peer-addr> Service.method '<json>' --rcan {}",
                path.display()
            );
        }
    }
    println!();
    println!("  ⚠  Keep this file secret -- it is both an identity AND a credential.");
    println!(
        "  Anyone with this file can act as '{}' until {}.",
        args.name,
        format_utc_date(expires_at)
    );
    println!();
    Ok(())
}

/// As the reference: inside a git work tree, makes sure `.aster-identity` is
/// in the top-level `.gitignore` (best effort; no git, no change).
fn ensure_gitignored(identity: &Path, quiet: bool) {
    const ENTRY: &str = ".aster-identity";
    let dir = std::fs::canonicalize(identity)
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("."));
    let Ok(out) = std::process::Command::new("git")
        .args(["rev-parse", "--show-toplevel"])
        .current_dir(&dir)
        .stderr(std::process::Stdio::null())
        .output()
    else {
        return;
    };
    if !out.status.success() {
        return;
    }
    let top = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let gitignore = top.join(".gitignore");
    let text = std::fs::read_to_string(&gitignore).unwrap_or_default();
    if text.lines().any(|l| l == ENTRY || l == format!("/{ENTRY}")) {
        return;
    }
    let mut new_text = text.clone();
    if !new_text.is_empty() {
        if !new_text.ends_with('\n') {
            new_text.push('\n');
        }
        new_text.push('\n');
    }
    new_text.push_str(&format!("# Aster node secret -- do not commit\n{ENTRY}\n"));
    if std::fs::write(&gitignore, new_text).is_ok() {
        let message = format!("Added {ENTRY} to {}", gitignore.display());
        if quiet {
            eprintln!("{message}")
        } else {
            println!("{message}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_as_the_reference_reads_them() {
        let a = parse_pairs(" a = 1 ,novalue, b=x=y,a=2,,");
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![("a", "2"), ("b", "x=y")]);
        assert!(parse_pairs("").is_empty());
    }
}
