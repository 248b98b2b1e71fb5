//! `aster`: call services, make node keys, run a local demo.

mod call;
mod demo;
mod keygen;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "aster", version, about = "Aster RPC: services addressed by public key")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Calls a method; prints the response as JSON. Exit code: 0 on OK,
    /// else the status code (e.g. 5 NOT_FOUND, 7 PERMISSION_DENIED, 101
    /// CONTRACT_VIOLATION); 14 when the peer cannot be reached.
    Call(call::CallArgs),
    /// Writes a new node secret key (the reference's `keygen producer` format).
    Keygen(keygen::KeygenArgs),
    /// Starts a Mission Control server on loopback and calls every method.
    Demo,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ASTER_LOG").unwrap_or_else(|_| "error".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Call(args) => call::run(args).await,
            Command::Keygen(args) => keygen::run(args).map(|()| 0),
            Command::Demo => demo::run().await.map(|()| 0),
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
