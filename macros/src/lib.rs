//! Procedural macros of Aster, used through the `aster` crate's re-exports.
//!
//! - `#[derive(WireType)]` with `#[wire(tag = "ns/Name")]`: a struct (or a
//!   fieldless enum) as a named XLANG type with a JSON form; field names go on
//!   the wire as declared, or as renamed (`#[wire(name = "agentId")]`,
//!   `#[wire(rename_all = "camelCase")]`).
//! - `#[service(name = "...", version = 1, scope = "shared" | "session",
//!   modes = ["xlang", "json"], requires = ..)]` on a trait of `async fn`
//!   methods marked `#[rpc]`, `#[server_stream]`, `#[client_stream]` or
//!   `#[bidi_stream]`.

use proc_macro::TokenStream;

mod service;
mod wire_type;

#[proc_macro_derive(WireType, attributes(wire))]
pub fn derive_wire_type(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    wire_type::expand(input)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

#[proc_macro_attribute]
pub fn service(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = syn::parse_macro_input!(item as syn::ItemTrait);
    service::expand(attr.into(), item)
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}
