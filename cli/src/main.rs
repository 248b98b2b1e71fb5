//! `aster`: call services, make node keys, run a local demo.

mod call;
mod contract;
mod demo;
mod enroll;
mod keygen;
mod registry;
mod trust;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "aster",
    version,
    about = "Aster RPC: services addressed by public key"
)]
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
    /// Offline trust management: the root key pair and signed credentials
    /// (the reference's `aster trust keygen|sign`).
    Trust(trust::TrustArgs),
    /// Enrolls a node: node identity plus a signed credential in one
    /// `.aster-identity` file (the reference's `aster enroll node`).
    Enroll(enroll::EnrollArgs),
    /// Shared registries: host one, list one, resolve a service in one.
    #[command(subcommand)]
    Registry(registry::RegistryCommand),
    /// Contract manifests and generated clients (the reference's `aster
    /// contract gen | gen-client`).
    #[command(subcommand)]
    Contract(contract::ContractCommand),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ASTER_LOG")
                .unwrap_or_else(|_| "error".into()),
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
            Command::Trust(args) => trust::run(args),
            Command::Enroll(args) => enroll::run(args),
            Command::Registry(command) => registry::run(command).await,
            Command::Contract(command) => contract::run(command).await,
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
