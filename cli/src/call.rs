//! `aster call ADDRESS SERVICE.METHOD [JSON]`.

use std::time::Duration;

use anyhow::{Context, bail};
use aster::proto::call::Pattern;
use aster::{CallOptions, Client, JsonInput, JsonOutput, NetworkMode, StatusCode};
use futures_util::StreamExt;
use tokio::io::AsyncBufReadExt;

#[derive(Clone, Copy, clap::ValueEnum)]
enum PatternArg {
    Unary,
    ServerStream,
    ClientStream,
    Bidi,
}

#[derive(clap::Args)]
pub struct CallArgs {
    /// `aster1…` address, 64-hex endpoint id, or base64 NodeAddr.
    address: String,
    /// `Service.method`.
    method: String,
    /// The request as JSON (default `{}`); for client-stream and bidi calls
    /// the requests are read from stdin, one JSON object per line.
    json: Option<String>,
    /// The method's pattern: server streams print one JSON line per message.
    #[arg(long, value_enum, default_value = "unary")]
    pattern: PatternArg,
    /// Deadline in seconds.
    #[arg(long)]
    timeout: Option<f64>,
    /// Metadata `key=value` (repeatable).
    #[arg(short = 'm', long = "meta")]
    meta: Vec<String>,
    /// No relay or address lookup; bind 127.0.0.1 (for peers on this host).
    #[arg(long)]
    loopback: bool,
    /// A node secret key file to call as (default: a fresh identity).
    #[arg(long)]
    key: Option<std::path::PathBuf>,
    /// The credential to present at admission: a credential JSON file
    /// (`aster trust sign`) or an `.aster-identity` file (`aster enroll
    /// node`), whose node key the call then uses (the credential is bound
    /// to it), so it does not combine with --key.
    #[arg(long, value_name = "PATH")]
    rcan: Option<std::path::PathBuf>,
}

/// Whether `path` is an `.aster-identity` file with a `[node]` key (a JSON
/// credential file has none).
fn carries_node_key(path: &std::path::Path) -> bool {
    std::fs::read_to_string(path)
        .ok()
        .filter(|text| !text.trim_start().starts_with('{'))
        .and_then(|text| aster::proto::trust::IdentityFile::parse(&text).ok())
        .is_some_and(|identity| identity.node.secret_key.is_some())
}

/// Requests read from stdin, one JSON value per line.
fn stdin_requests() -> aster::BoxStream<serde_json::Value> {
    let lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    Box::pin(futures_util::stream::unfold(
        lines,
        |mut lines| async move {
            loop {
                match lines.next_line().await {
                    Ok(Some(line)) if line.trim().is_empty() => continue,
                    Ok(Some(line)) => match serde_json::from_str(&line) {
                        Ok(v) => return Some((v, lines)),
                        Err(e) => {
                            eprintln!("error: stdin line is not JSON ({e}); ending input");
                            return None;
                        }
                    },
                    _ => return None,
                }
            }
        },
    ))
}

pub async fn run(args: CallArgs) -> anyhow::Result<u8> {
    let Some((service, method)) = args.method.rsplit_once('.') else {
        bail!("the method is Service.method (got `{}`)", args.method);
    };
    let pattern = match args.pattern {
        PatternArg::Unary => Pattern::Unary,
        PatternArg::ServerStream => Pattern::ServerStream,
        PatternArg::ClientStream => Pattern::ClientStream,
        PatternArg::Bidi => Pattern::Bidi,
    };
    let mut options = CallOptions::new();
    if let Some(t) = args.timeout {
        options = options
            .timeout(Duration::try_from_secs_f64(t).context("--timeout is a number of seconds")?);
    }
    for m in &args.meta {
        let (k, v) = m
            .split_once('=')
            .with_context(|| format!("metadata is key=value (got `{m}`)"))?;
        options = options.metadata(k, v);
    }
    let input = if pattern.client_streams() {
        if args.json.is_some() {
            bail!("client-stream and bidi requests come from stdin, one JSON object per line");
        }
        JsonInput::Stream(stdin_requests())
    } else {
        let text = args.json.as_deref().unwrap_or("{}");
        JsonInput::One(
            serde_json::from_str(text)
                .with_context(|| format!("the request is not JSON: {text}"))?,
        )
    };

    let mut builder = Client::builder();
    if args.loopback {
        builder = builder.network(NetworkMode::loopback());
    }
    if let Some(path) = &args.key {
        builder = builder.secret_key(aster::net::read_secret_key(path)?);
    }
    if let Some(path) = &args.rcan {
        if args.key.is_some() && carries_node_key(path) {
            bail!(
                "{} carries its own node key (its credential is bound to it): drop --key",
                path.display()
            );
        }
        builder = builder.credential_file(path)?;
    }
    let client = match builder.connect(&args.address).await {
        Ok(c) => c,
        Err(aster::ClientError::Denied { peer }) => {
            match &args.rcan {
                None => eprintln!(
                    "error: admission denied by {peer} (no credential: pass one with --rcan)"
                ),
                Some(path) => eprintln!(
                    "error: admission denied by {peer}: it does not accept the credential in {} \
                     (another root key, expired, bound to another endpoint, a used one-time credential, \
                     or altered)",
                    path.display()
                ),
            }
            return Ok(StatusCode::PermissionDenied as u8);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(StatusCode::Unavailable as u8);
        }
    };
    let code = match client
        .call_json_with(service, method, pattern, input, options)
        .await
    {
        Ok(JsonOutput::One(v)) => {
            println!("{}", serde_json::to_string_pretty(&v)?);
            0
        }
        Ok(JsonOutput::Stream(mut s)) => {
            let mut code = 0;
            while let Some(item) = s.next().await {
                match item {
                    Ok(v) => println!("{v}"),
                    Err(status) => {
                        eprintln!("error: {status}");
                        code = status.code as i32;
                        break;
                    }
                }
            }
            code
        }
        Err(status) => {
            eprintln!("error: {status}");
            status.code as i32
        }
    };
    client.close().await;
    Ok(u8::try_from(code).unwrap_or(2))
}
