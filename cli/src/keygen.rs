//! `aster keygen [--out PATH]`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use aster::SecretKey;

#[derive(clap::Args)]
pub struct KeygenArgs {
    /// Where to write the key (refuses to overwrite).
    #[arg(long, default_value = "~/.aster/node.key")]
    out: String,
}

fn expand(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(path),
    }
}

/// Writes `{"secret_key": hex, "node_id": hex}` with mode 0600, like the
/// reference's `aster keygen producer`, so keys move between the tools.
pub fn run(args: KeygenArgs) -> anyhow::Result<()> {
    let path = expand(&args.out);
    if path.exists() {
        bail!(
            "key file already exists: {} (use another path or remove it)",
            path.display()
        );
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let key = SecretKey::generate();
    let node_id = key.public().to_string();
    let body = serde_json::json!({"secret_key": hex::encode(key.to_bytes()), "node_id": node_id});
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(file, "{}", serde_json::to_string_pretty(&body)?)?;
    println!("Node key written to: {}", path.display());
    println!("  node_id : {node_id}");
    Ok(())
}
