//! `#[aster::service]`: a trait of async methods becomes a service.
//!
//! From the trait the macro emits, next to the (Send-bounded) trait itself:
//! - a static `ServiceDescriptor` (name, version, scope, modes, methods with
//!   patterns and message types, requirements): the source of routing, the
//!   contract id and the manifest;
//! - `<Trait>Server`, a `Service` the runtime can serve (one shared instance,
//!   or a factory called once per session for `scope = "session"`);
//! - `<Trait>Client<C>`, a typed stub over any `Caller`.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::{
    Attribute, Error, Expr, ExprCall, ExprLit, FnArg, GenericArgument, Ident, ItemTrait, Lit,
    LitStr, Pat, Path, PathArguments, Result, ReturnType, TraitItem, TraitItemFn, Type,
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unary,
    ServerStream,
    ClientStream,
    Bidi,
}

impl Kind {
    fn from_attr(attr: &Attribute) -> Option<Kind> {
        let p = attr.path();
        if p.is_ident("rpc") || p.is_ident("unary") {
            Some(Kind::Unary)
        } else if p.is_ident("server_stream") {
            Some(Kind::ServerStream)
        } else if p.is_ident("client_stream") {
            Some(Kind::ClientStream)
        } else if p.is_ident("bidi_stream") {
            Some(Kind::Bidi)
        } else {
            None
        }
    }

    fn streams_in(self) -> bool {
        matches!(self, Kind::ClientStream | Kind::Bidi)
    }

    fn streams_out(self) -> bool {
        matches!(self, Kind::ServerStream | Kind::Bidi)
    }

    fn pattern(self) -> Ident {
        let name = match self {
            Kind::Unary => "Unary",
            Kind::ServerStream => "ServerStream",
            Kind::ClientStream => "ClientStream",
            Kind::Bidi => "Bidi",
        };
        Ident::new(name, Span::call_site())
    }
}

/// A capability requirement as written: `"role"`, `any_of("a", "b")`, `all_of(..)`.
enum Requires {
    Role(LitStr),
    AnyOf(Vec<LitStr>),
    AllOf(Vec<LitStr>),
}

impl Requires {
    fn parse(expr: &Expr) -> Result<Requires> {
        match expr {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => Ok(Requires::Role(s.clone())),
            Expr::Call(ExprCall { func, args, .. }) => {
                let roles = args
                    .iter()
                    .map(|a| match a {
                        Expr::Lit(ExprLit {
                            lit: Lit::Str(s), ..
                        }) => Ok(s.clone()),
                        other => Err(Error::new(other.span(), "roles are string literals")),
                    })
                    .collect::<Result<Vec<_>>>()?;
                let name = match &**func {
                    Expr::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                    _ => None,
                };
                match name.as_deref() {
                    Some("any_of") => Ok(Requires::AnyOf(roles)),
                    Some("all_of") => Ok(Requires::AllOf(roles)),
                    _ => Err(Error::new(
                        func.span(),
                        "expected `any_of(..)` or `all_of(..)`",
                    )),
                }
            }
            other => Err(Error::new(
                other.span(),
                "`requires` takes a role (\"ops.admin\"), any_of(\"a\", \"b\") or all_of(\"a\", \"b\")",
            )),
        }
    }

    fn tokens(&self, krate: &Path) -> TokenStream {
        let req = quote!(#krate::proto::service::Requirement);
        match self {
            Requires::Role(r) => quote!(::core::option::Option::Some(#req::Role(#r))),
            Requires::AnyOf(rs) => quote!(::core::option::Option::Some(#req::AnyOf(&[#(#rs),*]))),
            Requires::AllOf(rs) => quote!(::core::option::Option::Some(#req::AllOf(&[#(#rs),*]))),
        }
    }
}

fn requires_tokens(r: &Option<Requires>, krate: &Path) -> TokenStream {
    match r {
        Some(r) => r.tokens(krate),
        None => quote!(::core::option::Option::None),
    }
}

struct ServiceArgs {
    name: Option<LitStr>,
    version: i32,
    session: bool,
    modes: Vec<(Ident, String)>,
    requires: Option<Requires>,
    krate: Path,
    camel_case: bool,
}

fn parse_service_args(attr: TokenStream) -> Result<ServiceArgs> {
    let mut args = ServiceArgs {
        name: None,
        version: 1,
        session: false,
        modes: Vec::new(),
        requires: None,
        krate: syn::parse_quote!(::aster),
        camel_case: false,
    };
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("name") {
            args.name = Some(meta.value()?.parse()?);
        } else if meta.path.is_ident("version") {
            let lit: syn::LitInt = meta.value()?.parse()?;
            args.version = lit.base10_parse()?;
        } else if meta.path.is_ident("scope") || meta.path.is_ident("scoped") {
            let lit: LitStr = meta.value()?.parse()?;
            args.session = match lit.value().as_str() {
                "shared" => false,
                // "stream" is the reference's legacy spelling.
                "session" | "stream" => true,
                other => {
                    return Err(Error::new(
                        lit.span(),
                        format!("unknown scope `{other}`: expected \"shared\" or \"session\""),
                    ));
                }
            };
        } else if meta.path.is_ident("modes") || meta.path.is_ident("serialization") {
            let expr: Expr = meta.value()?.parse()?;
            let items: Vec<Expr> = match expr {
                Expr::Array(a) => a.elems.into_iter().collect(),
                other => vec![other],
            };
            for item in items {
                let Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) = &item
                else {
                    return Err(Error::new(
                        item.span(),
                        "modes are strings: \"xlang\", \"native\", \"row\", \"json\"",
                    ));
                };
                let ident = match s.value().as_str() {
                    "xlang" => "Xlang",
                    "native" => "Native",
                    "row" => "Row",
                    "json" => "Json",
                    other => {
                        return Err(Error::new(
                            s.span(),
                            format!(
                                "unknown mode `{other}`: expected \"xlang\", \"native\", \"row\" or \"json\""
                            ),
                        ));
                    }
                };
                args.modes.push((Ident::new(ident, s.span()), s.value()));
            }
        } else if meta.path.is_ident("requires") {
            args.requires = Some(Requires::parse(&meta.value()?.parse()?)?);
        } else if meta.path.is_ident("crate") {
            let lit: LitStr = meta.value()?.parse()?;
            args.krate = lit.parse()?;
        } else if meta.path.is_ident("rename_all") {
            let lit: LitStr = meta.value()?.parse()?;
            args.camel_case = match lit.value().as_str() {
                "camelCase" => true,
                "snake_case" | "none" => false,
                other => {
                    return Err(Error::new(
                        lit.span(),
                        format!(
                            "unknown rename_all `{other}`: expected \"camelCase\" or \"snake_case\""
                        ),
                    ));
                }
            };
        } else {
            return Err(meta.error(
                "unknown service option: expected name, version, scope, modes, requires, rename_all or crate",
            ));
        }
        Ok(())
    });
    syn::parse::Parser::parse2(parser, attr)?;
    Ok(args)
}

struct Method {
    ident: Ident,
    wire_name: String,
    kind: Kind,
    has_ctx: bool,
    request: Type,
    response: Type,
    idempotent: bool,
    timeout: f64,
    requires: Option<Requires>,
    doc: String,
    /// The trait method as re-emitted (Send future, our attributes removed).
    item: TokenStream,
}

fn doc_of(attrs: &[Attribute]) -> String {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => Some(s.value().trim().to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn camel(name: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
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

/// The single generic argument of a type whose last path segment is `wrapper`.
fn unwrap_generic<'a>(ty: &'a Type, wrapper: &str) -> Option<&'a Type> {
    let Type::Path(p) = ty else { return None };
    let seg = p.path.segments.last()?;
    if seg.ident != wrapper {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    match args.args.first()? {
        GenericArgument::Type(t) => Some(t),
        _ => None,
    }
}

fn last_ident_is(ty: &Type, name: &str) -> bool {
    matches!(ty, Type::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == name))
}

fn parse_method(f: &TraitItemFn, camel_case: bool, krate: &Path) -> Result<Method> {
    let sig = &f.sig;
    let kinds: Vec<(Kind, &Attribute)> = f
        .attrs
        .iter()
        .filter_map(|a| Kind::from_attr(a).map(|k| (k, a)))
        .collect();
    let (kind, kind_attr) = match kinds.as_slice() {
        [one] => *one,
        [] => {
            return Err(Error::new(
                sig.ident.span(),
                "mark the method #[rpc], #[server_stream], #[client_stream] or #[bidi_stream]",
            ));
        }
        [_, second, ..] => {
            return Err(Error::new(
                second.1.span(),
                "a method has exactly one pattern attribute",
            ));
        }
    };
    if sig.asyncness.is_none() {
        return Err(Error::new(
            sig.fn_token.span(),
            "service methods are `async fn`",
        ));
    }
    if f.default.is_some() {
        return Err(Error::new(
            sig.ident.span(),
            "service methods have no default body",
        ));
    }
    if !sig.generics.params.is_empty() {
        return Err(Error::new(
            sig.generics.span(),
            "service methods cannot be generic",
        ));
    }

    let mut wire_name = if camel_case {
        camel(&sig.ident.to_string())
    } else {
        sig.ident.to_string()
    };
    let mut idempotent = false;
    let mut timeout = 0.0f64;
    let mut requires = None;
    if !matches!(kind_attr.meta, syn::Meta::Path(_)) {
        kind_attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("name") {
                let lit: LitStr = meta.value()?.parse()?;
                wire_name = lit.value();
            } else if meta.path.is_ident("idempotent") {
                idempotent = if meta.input.peek(syn::Token![=]) {
                    let lit: syn::LitBool = meta.value()?.parse()?;
                    lit.value
                } else {
                    true
                };
            } else if meta.path.is_ident("timeout") {
                let lit: Lit = meta.value()?.parse()?;
                timeout = match &lit {
                    Lit::Int(i) => i.base10_parse::<u32>()?.into(),
                    Lit::Float(f) => f.base10_parse()?,
                    _ => {
                        return Err(Error::new(
                            lit.span(),
                            "timeout is in seconds: `timeout = 30` or `timeout = 2.5`",
                        ));
                    }
                };
                if !(timeout.is_finite() && timeout >= 0.0) {
                    return Err(Error::new(
                        lit.span(),
                        "timeout must be a non-negative number of seconds",
                    ));
                }
            } else if meta.path.is_ident("requires") {
                requires = Some(Requires::parse(&meta.value()?.parse()?)?);
            } else {
                return Err(meta.error(
                    "unknown method option: expected name, timeout, idempotent or requires",
                ));
            }
            Ok(())
        })?;
    }

    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(FnArg::Receiver(r)) if r.reference.is_some() && r.mutability.is_none() => {}
        _ => {
            return Err(Error::new(
                sig.inputs.span(),
                "service methods take `&self` first",
            ));
        }
    }
    let typed: Vec<&syn::PatType> = inputs
        .map(|a| match a {
            FnArg::Typed(t) => Ok(t),
            FnArg::Receiver(r) => Err(Error::new(r.span(), "unexpected receiver")),
        })
        .collect::<Result<_>>()?;
    let (has_ctx, req_arg) = match typed.as_slice() {
        [req] => (false, *req),
        [ctx, req] => {
            if !last_ident_is(&ctx.ty, "CallContext") {
                return Err(Error::new(
                    ctx.ty.span(),
                    "the first argument after &self is `ctx: CallContext`",
                ));
            }
            (true, *req)
        }
        _ => {
            return Err(Error::new(
                sig.inputs.span(),
                "service methods are `(&self, [ctx: CallContext,] request)`",
            ));
        }
    };
    if !matches!(&*req_arg.pat, Pat::Ident(_)) {
        return Err(Error::new(
            req_arg.pat.span(),
            "name the request argument with a plain identifier",
        ));
    }
    let request = if kind.streams_in() {
        unwrap_generic(&req_arg.ty, "RequestStream")
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    req_arg.ty.span(),
                    "client-stream and bidi methods take `RequestStream<Request>`",
                )
            })?
    } else {
        if last_ident_is(&req_arg.ty, "RequestStream") {
            return Err(Error::new(
                req_arg.ty.span(),
                "a RequestStream is only for #[client_stream] and #[bidi_stream] methods",
            ));
        }
        (*req_arg.ty).clone()
    };
    let ReturnType::Type(_, ret) = &sig.output else {
        return Err(Error::new(
            sig.ident.span(),
            "service methods return `Result<Response, Status>`",
        ));
    };
    let ok = unwrap_generic(ret, "Result").ok_or_else(|| {
        Error::new(
            ret.span(),
            "service methods return `Result<Response, Status>`",
        )
    })?;
    let response = if kind.streams_out() {
        unwrap_generic(ok, "ResponseStream").cloned().ok_or_else(|| {
            Error::new(ok.span(), "server-stream and bidi methods return `Result<ResponseStream<Response>, Status>`")
        })?
    } else {
        if last_ident_is(ok, "ResponseStream") {
            return Err(Error::new(
                ok.span(),
                "a ResponseStream is only for #[server_stream] and #[bidi_stream] methods",
            ));
        }
        ok.clone()
    };

    // Re-emit the method with a Send future and without our attributes.
    let attrs: Vec<&Attribute> = f
        .attrs
        .iter()
        .filter(|a| Kind::from_attr(a).is_none())
        .collect();
    let ident = &sig.ident;
    let params = sig.inputs.iter().skip(1);
    let item = quote! {
        #(#attrs)*
        fn #ident(&self, #(#params),*) -> impl ::core::future::Future<Output = #ret> + ::core::marker::Send;
    };
    let _ = krate;
    Ok(Method {
        ident: ident.clone(),
        wire_name,
        kind,
        has_ctx,
        request,
        response,
        idempotent,
        timeout,
        requires,
        doc: doc_of(&f.attrs),
        item,
    })
}

pub fn expand(attr: TokenStream, item: ItemTrait) -> Result<TokenStream> {
    let args = parse_service_args(attr)?;
    let krate = &args.krate;
    if !item.generics.params.is_empty() {
        return Err(Error::new(
            item.generics.span(),
            "service traits cannot be generic",
        ));
    }
    let mut methods = Vec::new();
    let mut names = std::collections::HashSet::new();
    for ti in &item.items {
        match ti {
            TraitItem::Fn(f) => {
                let m = parse_method(f, args.camel_case, krate)?;
                if !names.insert(m.wire_name.clone()) {
                    return Err(Error::new(
                        f.sig.ident.span(),
                        format!("two methods have the wire name `{}`", m.wire_name),
                    ));
                }
                methods.push(m);
            }
            other => {
                return Err(Error::new(
                    other.span(),
                    "service traits contain only methods",
                ));
            }
        }
    }

    let trait_ident = &item.ident;
    let vis = &item.vis;
    let service_name = args
        .name
        .clone()
        .unwrap_or_else(|| LitStr::new(&trait_ident.to_string(), trait_ident.span()));
    let version = args.version;
    let server_ident = format_ident!("{}Server", trait_ident);
    let client_ident = format_ident!("{}Client", trait_ident);
    let dispatch_ident = format_ident!("__{}Dispatch", trait_ident);
    let desc_ident = format_ident!("__ASTER_SERVICE_{}", trait_ident.to_string().to_uppercase());
    let proto = quote!(#krate::proto);
    let scope = if args.session {
        quote!(#proto::call::Scope::Session)
    } else {
        quote!(#proto::call::Scope::Shared)
    };
    let modes = args
        .modes
        .iter()
        .map(|(m, _)| quote!(#proto::codec::SerializationMode::#m));
    let service_requires = requires_tokens(&args.requires, krate);
    let service_doc = doc_of(&item.attrs);
    let trait_attrs = &item.attrs;
    let supertraits = &item.supertraits;
    let plus = if supertraits.is_empty() {
        quote!()
    } else {
        quote!(+)
    };

    let method_items = methods.iter().map(|m| &m.item);
    let close_hook = if args.session {
        quote! {
            /// Called once when the session ends (the client closed its stream).
            fn on_session_close(&self) -> impl ::core::future::Future<Output = ()> + ::core::marker::Send {
                async {}
            }
        }
    } else {
        quote!()
    };

    let descs = methods.iter().map(|m| {
        let name = LitStr::new(&m.wire_name, m.ident.span());
        let pattern = m.kind.pattern();
        let (req, resp) = (&m.request, &m.response);
        let idem = m.idempotent;
        let timeout = m.timeout;
        let requires = requires_tokens(&m.requires, krate);
        let doc = &m.doc;
        quote! {
            #proto::service::MethodDescriptor {
                name: #name,
                pattern: #proto::call::Pattern::#pattern,
                request: #proto::contract::struct_type::<#req>(),
                response: #proto::contract::struct_type::<#resp>(),
                idempotent: #idem,
                timeout_secs: #timeout,
                requires: #requires,
                doc: #doc,
            }
        }
    });

    let arms = methods.iter().enumerate().map(|(i, m)| {
        let ident = &m.ident;
        let req = &m.request;
        let input = if m.kind.streams_in() {
            quote!(#krate::__private::handler::request_stream::<#req>(&ctx, input)?)
        } else {
            quote!(#krate::__private::handler::unary_request::<#req>(&ctx, input)?)
        };
        let call = if m.has_ctx {
            quote!(this.#ident(ctx, request).await?)
        } else {
            quote!(this.#ident(request).await?)
        };
        let output = if m.kind.streams_out() {
            quote!(#krate::__private::handler::stream_response(out))
        } else {
            quote!(#krate::__private::handler::unary_response(out))
        };
        quote! {
            #i => ::std::boxed::Box::pin(async move {
                let request = #input;
                let out = #call;
                ::core::result::Result::Ok(#output)
            }),
        }
    });

    let close_impl = if args.session {
        quote! {
            fn close(&self) -> #krate::BoxFuture<()> {
                let this = self.0.clone();
                ::std::boxed::Box::pin(async move { this.on_session_close().await })
            }
        }
    } else {
        quote!()
    };

    let default_types = methods.iter().map(|m| {
        let (req, resp) = (&m.request, &m.response);
        quote!(.with::<#req>().with::<#resp>())
    });
    let manifest_impl = quote! {
        fn manifest(&self) -> #proto::contract::manifest::Manifest {
            let defaults = #proto::contract::manifest::FieldDefaults::new() #(#default_types)*;
            #proto::contract::manifest::ManifestBuilder::new(&#desc_ident).defaults(&defaults).build()
        }
    };

    let server = if args.session {
        quote! {
            /// Serves the session-scoped service: `factory` makes one instance per session.
            #vis struct #server_ident<F> {
                factory: F,
            }

            impl<F, T> #server_ident<F>
            where
                F: Fn(&#krate::SessionContext) -> T + ::core::marker::Send + ::core::marker::Sync + 'static,
                T: #trait_ident,
            {
                pub fn new(factory: F) -> Self {
                    #server_ident { factory }
                }

                pub fn descriptor() -> &'static #proto::service::ServiceDescriptor {
                    &#desc_ident
                }
            }

            impl<F, T> #krate::Service for #server_ident<F>
            where
                F: Fn(&#krate::SessionContext) -> T + ::core::marker::Send + ::core::marker::Sync + 'static,
                T: #trait_ident,
            {
                fn descriptor(&self) -> &'static #proto::service::ServiceDescriptor {
                    &#desc_ident
                }

                fn open(&self, session: &#krate::SessionContext) -> ::std::sync::Arc<dyn #krate::Dispatch> {
                    ::std::sync::Arc::new(#dispatch_ident(::std::sync::Arc::new((self.factory)(session))))
                }

                #manifest_impl
            }
        }
    } else {
        quote! {
            /// Serves the shared service: one instance answers every caller.
            #vis struct #server_ident<T> {
                dispatch: ::std::sync::Arc<#dispatch_ident<T>>,
            }

            impl<T: #trait_ident> #server_ident<T> {
                pub fn new(service: T) -> Self {
                    Self::from_arc(::std::sync::Arc::new(service))
                }

                pub fn from_arc(service: ::std::sync::Arc<T>) -> Self {
                    #server_ident { dispatch: ::std::sync::Arc::new(#dispatch_ident(service)) }
                }

                pub fn descriptor() -> &'static #proto::service::ServiceDescriptor {
                    &#desc_ident
                }
            }

            impl<T: #trait_ident> #krate::Service for #server_ident<T> {
                fn descriptor(&self) -> &'static #proto::service::ServiceDescriptor {
                    &#desc_ident
                }

                fn open(&self, _session: &#krate::SessionContext) -> ::std::sync::Arc<dyn #krate::Dispatch> {
                    self.dispatch.clone()
                }

                #manifest_impl
            }
        }
    };

    let client_methods = methods.iter().enumerate().map(|(i, m)| {
        let ident = &m.ident;
        let with = format_ident!("{}_with", ident);
        let (req, resp) = (&m.request, &m.response);
        let doc = if m.doc.is_empty() { format!("Calls `{}`.", m.wire_name) } else { m.doc.clone() };
        let (arg, input) = if m.kind.streams_in() {
            (
                quote!(requests: impl #krate::__private::Stream<Item = #req> + ::core::marker::Send + 'static),
                quote!(#krate::__private::caller::many(requests)),
            )
        } else {
            (quote!(request: #req), quote!(#krate::__private::caller::one(request)))
        };
        let arg_name = if m.kind.streams_in() { quote!(requests) } else { quote!(request) };
        let (out, finish) = if m.kind.streams_out() {
            (quote!(#krate::ResponseStream<#resp>), quote!(#krate::__private::caller::expect_stream::<#resp>(reply)))
        } else {
            (quote!(#resp), quote!(#krate::__private::caller::expect_one::<#resp>(reply)))
        };
        quote! {
            #[doc = #doc]
            pub async fn #ident(&self, #arg) -> ::core::result::Result<#out, #krate::Status> {
                self.#with(#arg_name, #krate::CallOptions::default()).await
            }

            #[doc = #doc]
            #[doc = ""]
            #[doc = "With per-call options (metadata, timeout, mode)."]
            pub async fn #with(&self, #arg, options: #krate::CallOptions) -> ::core::result::Result<#out, #krate::Status> {
                let reply = #krate::Caller::call(
                    &self.caller,
                    &#desc_ident,
                    &#desc_ident.methods[#i],
                    options,
                    #input,
                )
                .await?;
                #finish
            }
        }
    });

    Ok(quote! {
        #(#trait_attrs)*
        #vis trait #trait_ident: #supertraits #plus ::core::marker::Send + ::core::marker::Sync + 'static {
            #(#method_items)*
            #close_hook
        }

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #vis static #desc_ident: #proto::service::ServiceDescriptor = #proto::service::ServiceDescriptor {
            name: #service_name,
            version: #version,
            scope: #scope,
            modes: &[#(#modes),*],
            requires: #service_requires,
            methods: &[#(#descs),*],
            doc: #service_doc,
        };

        #[doc(hidden)]
        #vis struct #dispatch_ident<T>(::std::sync::Arc<T>);

        impl<T: #trait_ident> #krate::Dispatch for #dispatch_ident<T> {
            fn call(
                &self,
                method: usize,
                ctx: #krate::CallContext,
                input: #krate::Incoming,
            ) -> #krate::BoxFuture<::core::result::Result<#krate::Outgoing, #krate::Status>> {
                let this = self.0.clone();
                match method {
                    #(#arms)*
                    other => #krate::__private::handler::unknown_method(#service_name, other),
                }
            }
            #close_impl
        }

        #server

        /// Typed client of the service over any `Caller` (a connected client or a session).
        #[derive(Clone, Debug)]
        #vis struct #client_ident<C> {
            caller: C,
        }

        impl<C: #krate::Caller> #client_ident<C> {
            pub fn new(caller: C) -> Self {
                #client_ident { caller }
            }

            pub fn descriptor() -> &'static #proto::service::ServiceDescriptor {
                &#desc_ident
            }

            pub fn caller(&self) -> &C {
                &self.caller
            }

            #(#client_methods)*
        }
    })
}
