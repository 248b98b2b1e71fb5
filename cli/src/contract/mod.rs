//! `aster contract gen | gen-client`: contract manifests, and typed Rust
//! clients generated from a live peer or a manifest file.
//!
//! - [`gen_manifest`]: the reference's `aster contract gen` (manifest file,
//!   `contract gen` form, publication facts).
//! - [`gen_client`]: sources and output file; [`peer`] reads a live peer's
//!   registry; [`model`] turns a verified bundle or a manifest into a
//!   [`model::ServiceModel`] through `ContractSchema` (spec/dynamic.md);
//!   [`rust`] writes the module; [`names`] makes identifiers.
//!
//! # What a generated client cannot express
//!
//! The generated descriptor's contract id equals the source's when every
//! method is generated and the source's facts have a Rust spelling. Where
//! not, the method or type is left out (or the difference noted), the header
//! of the file and stderr say so, and the rest still works:
//!
//! - a map keyed by a float, a struct, a list of floats or another map
//!   (`BTreeMap` keys need `Ord`): the struct and the methods that reach it
//!   are left out;
//! - a struct that holds itself with no `Option` in between (no finite
//!   value); a wire tag that is empty or ends in `/`; a field with an empty
//!   name; an enum with no variants: the same;
//! - what [`aster::proto::contract::ContractSchema`] marks unavailable
//!   (spec/dynamic.md §4.7.1: ANY nested in containers without a manifest
//!   hint, nested structs known only from a manifest, references G1 cannot
//!   name): those methods are left out;
//! - a method timeout that is negative, `-0.0` or not finite, a version
//!   outside `0..=i32::MAX`: the method (the service) is left out;
//! - serialization modes other than xlang/native/row/json, or none at all:
//!   the known ones are declared and the id differs;
//! - enum variants whose spelling is not a plain identifier (`in-progress`,
//!   `1` for a Python `IntEnum`, `type`) get an identifier (`InProgress`,
//!   `V1`, `Type`): XLANG sends ordinals, so calls work, but JSON mode
//!   spells such variants by their Rust name (the derive cannot rename
//!   variants). Variants do not enter contract ids;
//! - manifest-only sources cannot be verified, and a Python type tagged
//!   without `/` (package = its module in G1) or a recursive type
//!   (SELF_REF names) hashes differently from the Rust one
//!   (proto/src/contract/graph.rs): the id differs although every method is
//!   generated; calls still route by service and method name;
//! - first guesses stay guesses (spec/dynamic.md §4.7.3): a G1 ANY field
//!   without manifest hints is generated as `i32`, and a producer whose field
//!   is really `i16` refuses the encoded request.

mod gen_client;
mod gen_manifest;
mod model;
mod names;
mod peer;
mod rust;

use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum ContractCommand {
    /// Writes the contract manifest(s) of compiled-in services or of a live
    /// peer's services, as the reference's `aster contract gen` does.
    Gen(gen_manifest::GenArgs),
    /// Writes a typed client module (`--lang rust`) from a live peer or a
    /// manifest file.
    GenClient(gen_client::GenClientArgs),
}

pub async fn run(command: ContractCommand) -> anyhow::Result<u8> {
    match command {
        ContractCommand::Gen(args) => gen_manifest::run(args).await,
        ContractCommand::GenClient(args) => gen_client::run(args).await,
    }
}
