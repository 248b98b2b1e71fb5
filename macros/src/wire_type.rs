//! `#[derive(WireType)]`: a Rust struct or fieldless enum as a named XLANG
//! type. The derive only gathers names and delegates to the proto crate's
//! `wire_struct!` / `wire_enum!`, so the encoding rules live in one place.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Error, Fields, LitStr, Path, Result};

/// How Rust field names become wire names.
#[derive(Clone, Copy)]
enum RenameAll {
    AsIs,
    Camel,
    Pascal,
}

impl RenameAll {
    fn parse(lit: &LitStr) -> Result<RenameAll> {
        match lit.value().as_str() {
            "camelCase" => Ok(RenameAll::Camel),
            "PascalCase" => Ok(RenameAll::Pascal),
            "snake_case" | "none" => Ok(RenameAll::AsIs),
            other => Err(Error::new(
                lit.span(),
                format!(
                    "unknown rename_all `{other}`: expected \"camelCase\", \"PascalCase\" or \"snake_case\""
                ),
            )),
        }
    }

    fn apply(self, name: &str) -> String {
        let name = name.strip_prefix("r#").unwrap_or(name);
        match self {
            RenameAll::AsIs => name.to_string(),
            RenameAll::Camel | RenameAll::Pascal => {
                let mut out = String::new();
                let mut upper = matches!(self, RenameAll::Pascal);
                for c in name.chars() {
                    if c == '_' {
                        upper = true;
                    } else if upper {
                        out.extend(c.to_uppercase());
                        upper = false;
                    } else {
                        out.push(c);
                    }
                }
                out
            }
        }
    }
}

struct ContainerAttrs {
    tag: Option<LitStr>,
    rename_all: RenameAll,
    krate: Option<Path>,
}

fn container_attrs(input: &DeriveInput) -> Result<ContainerAttrs> {
    let mut out = ContainerAttrs {
        tag: None,
        rename_all: RenameAll::AsIs,
        krate: None,
    };
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("wire")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("tag") {
                let lit: LitStr = meta.value()?.parse()?;
                if lit.value().is_empty() || lit.value().ends_with('/') {
                    return Err(Error::new(
                        lit.span(),
                        "a wire tag is \"namespace/TypeName\" (or \"TypeName\")",
                    ));
                }
                out.tag = Some(lit);
            } else if meta.path.is_ident("rename_all") {
                out.rename_all = RenameAll::parse(&meta.value()?.parse()?)?;
            } else if meta.path.is_ident("crate") {
                let lit: LitStr = meta.value()?.parse()?;
                out.krate = Some(lit.parse()?);
            } else {
                return Err(
                    meta.error("unknown wire attribute: expected `tag`, `rename_all` or `crate`")
                );
            }
            Ok(())
        })?;
    }
    Ok(out)
}

fn field_name(field: &syn::Field, rename_all: RenameAll) -> Result<String> {
    let mut name = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("wire")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") || meta.path.is_ident("rename") {
                let lit: LitStr = meta.value()?.parse()?;
                if lit.value().is_empty() {
                    return Err(Error::new(lit.span(), "a wire field name cannot be empty"));
                }
                name = Some(lit.value());
                Ok(())
            } else {
                Err(meta.error("unknown wire field attribute: expected `name = \"...\"`"))
            }
        })?;
    }
    let ident = field
        .ident
        .as_ref()
        .ok_or_else(|| Error::new(field.span(), "wire types need named fields"))?;
    Ok(name.unwrap_or_else(|| rename_all.apply(&ident.to_string())))
}

pub fn expand(input: DeriveInput) -> Result<TokenStream> {
    let attrs = container_attrs(&input)?;
    let Some(tag) = attrs.tag else {
        return Err(Error::new(
            input.ident.span(),
            "a wire type needs a stable tag: add #[wire(tag = \"namespace/TypeName\")]",
        ));
    };
    if !input.generics.params.is_empty() {
        return Err(Error::new(
            input.generics.span(),
            "wire types cannot be generic: the tag names one concrete type",
        ));
    }
    let krate = attrs
        .krate
        .unwrap_or_else(|| syn::parse_quote!(::aster::proto));
    let ident = &input.ident;
    match &input.data {
        Data::Struct(s) => {
            let Fields::Named(named) = &s.fields else {
                return Err(Error::new(
                    s.fields.span(),
                    "wire structs need named fields (the names go on the wire)",
                ));
            };
            let mut entries = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for f in &named.named {
                let name = field_name(f, attrs.rename_all)?;
                if !seen.insert(name.clone()) {
                    return Err(Error::new(
                        f.span(),
                        format!("two fields have the wire name `{name}`"),
                    ));
                }
                let fident = f
                    .ident
                    .as_ref()
                    .ok_or_else(|| Error::new(f.span(), "unnamed field"))?;
                let ty = &f.ty;
                let lit = LitStr::new(&name, Span::call_site());
                entries.push(quote! { #fident : #ty => #lit });
            }
            Ok(quote! { #krate::wire_struct!(#ident, #tag, { #(#entries),* }); })
        }
        Data::Enum(e) => {
            if e.variants.is_empty() {
                return Err(Error::new(
                    ident.span(),
                    "a wire enum needs at least one variant",
                ));
            }
            let mut variants = Vec::new();
            for v in &e.variants {
                if !matches!(v.fields, Fields::Unit) {
                    return Err(Error::new(
                        v.span(),
                        "wire enums are fieldless (sent as the variant's ordinal); use a struct for data",
                    ));
                }
                if v.attrs.iter().any(|a| a.path().is_ident("wire")) {
                    return Err(Error::new(
                        v.span(),
                        "enum variants keep their Rust names on the wire",
                    ));
                }
                variants.push(&v.ident);
            }
            Ok(quote! { #krate::wire_enum!(#ident, #tag, { #(#variants),* }); })
        }
        Data::Union(u) => Err(Error::new(
            u.union_token.span,
            "unions cannot be wire types",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::RenameAll;

    #[test]
    fn renames() {
        assert_eq!(RenameAll::Camel.apply("agent_id"), "agentId");
        assert_eq!(
            RenameAll::Camel.apply("deadline_epoch_ms"),
            "deadlineEpochMs"
        );
        assert_eq!(RenameAll::Pascal.apply("agent_id"), "AgentId");
        assert_eq!(RenameAll::AsIs.apply("r#type"), "type");
    }
}
