//! Rust identifiers for names that come off the wire.
//!
//! Wire names are anything a producer wrote (Python identifiers, camelCase,
//! `in-progress`, `größe`, `type`). The generated code keeps every wire name
//! exactly (in `#[wire(tag/name)]`, `#[rpc(name)]`, `#[aster::service(name)]`)
//! and gives each item a Rust identifier by these rules:
//!
//! - identifiers are ASCII: a non-ASCII character becomes its own word
//!   `uXXXX` (its code point in hex), any other non-alphanumeric ASCII
//!   character separates words. ASCII keeps the output free of confusables
//!   and of the `non_ascii_idents` / `uncommon_codepoints` lints, and needs no
//!   Unicode tables; the wire name stays in the attribute, so nothing is lost;
//! - words split at case changes (`getStatus` → `get`, `Status`;
//!   `HTTPServer` → `HTTP`, `Server`), then join as snake_case (fields,
//!   methods) or PascalCase (types, traits);
//! - a keyword becomes a raw identifier (`r#type`), except the ones that
//!   cannot be raw (`self`, `Self`, `super`, `crate`), which get a `_` suffix;
//! - a leading digit gets a prefix (`_` for snake_case, `T`/`V` for types and
//!   variants); an empty result gets a fallback word.
//!
//! Uniqueness is the caller's business ([`Taken`]).

use std::collections::HashSet;

/// Strict and reserved keywords of every edition up to 2024 (`gen` is
/// reserved from 2024; `try`, `async`, `await`, `dyn` from 2018).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield",
];

/// Keywords that `r#` cannot escape.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate"];

fn is_keyword(s: &str) -> bool {
    KEYWORDS.contains(&s)
}

/// `s` as an identifier that can stand anywhere: raw for keywords, `_`
/// suffixed for the four that cannot be raw.
fn escape_keyword(s: String) -> String {
    if NOT_RAW.contains(&s.as_str()) {
        format!("{s}_")
    } else if is_keyword(&s) {
        format!("r#{s}")
    } else {
        s
    }
}

/// Whether `s` is already a plain (non-raw, non-keyword) ASCII identifier.
pub fn is_plain_ident(s: &str) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && s != "_"
        && !is_keyword(s)
}

/// The words of a wire name (see the module doc).
fn words(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut out = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            if c.is_ascii_uppercase()
                && let Some(prev) = cur.chars().last()
            {
                let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
                if prev.is_ascii_lowercase()
                    || prev.is_ascii_digit()
                    || (prev.is_ascii_uppercase() && next_lower)
                {
                    out.push(std::mem::take(&mut cur));
                }
            }
            cur.push(c);
        } else {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            if !c.is_ascii() {
                out.push(format!("u{:04x}", c as u32));
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// snake_case identifier for a field or method (`getStatus` → `get_status`).
pub fn snake(wire: &str, fallback: &str) -> String {
    let mut s = words(wire)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    if s.is_empty() {
        s = fallback.to_owned();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    escape_keyword(s)
}

/// PascalCase identifier for a type or trait (`status_request` →
/// `StatusRequest`; `HTTPServer` stays). `prefix` goes before a leading digit.
pub fn pascal(wire: &str, prefix: &str, fallback: &str) -> String {
    let mut s: String = words(wire)
        .iter()
        .map(|w| {
            let mut cs = w.chars();
            match cs.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect();
    if s.is_empty() {
        s = fallback.to_owned();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, prefix);
    }
    escape_keyword(s)
}

/// An enum variant: the spelling itself when it is a plain identifier (so
/// JSON mode spells it as the producer does), else a PascalCase identifier.
pub fn variant(spelling: &str) -> String {
    if is_plain_ident(spelling) {
        spelling.to_owned()
    } else {
        pascal(spelling, "V", "Variant")
    }
}

/// The identifier without its `r#` prefix: what macros compare and print.
pub fn unraw(ident: &str) -> &str {
    ident.strip_prefix("r#").unwrap_or(ident)
}

/// `#[derive(WireType)]`'s `rename_all = "camelCase"` (macros/src/wire_type.rs):
/// strips `r#`, drops each `_` and upper-cases the letter after it.
pub fn derive_camel(ident: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in unraw(ident).chars() {
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

/// `#[aster::service(rename_all = "camelCase")]` (macros/src/service.rs):
/// the same, but on the identifier as printed (a raw `r#x` keeps its `r#`,
/// so raw method identifiers always get an explicit `name`).
pub fn service_camel(ident: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in ident.chars() {
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

/// Names in use in one scope; hands out unique ones.
#[derive(Debug, Default)]
pub struct Taken {
    names: HashSet<String>,
    /// Compare case-insensitively (trait names become `__ASTER_SERVICE_<UPPER>`).
    fold_case: bool,
}

impl Taken {
    pub fn new() -> Taken {
        Taken::default()
    }

    pub fn case_insensitive() -> Taken {
        Taken {
            names: HashSet::new(),
            fold_case: true,
        }
    }

    fn key(&self, name: &str) -> String {
        let name = unraw(name);
        if self.fold_case {
            name.to_ascii_uppercase()
        } else {
            name.to_owned()
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names.contains(&self.key(name))
    }

    pub fn insert(&mut self, name: &str) {
        let key = self.key(name);
        self.names.insert(key);
    }

    /// The first of `candidates` not taken, else the last with the smallest
    /// free numeric suffix (`sep` between them: `_` for snake_case, `` for
    /// PascalCase). `also` are companion names that must be free too (a
    /// method `foo` also takes `foo_with`); `also(name)` maps a candidate to
    /// them. The chosen name and its companions are taken.
    pub fn claim(
        &mut self,
        candidates: &[String],
        sep: &str,
        also: &dyn Fn(&str) -> Vec<String>,
    ) -> String {
        let free = |this: &Taken, name: &str| {
            !this.contains(name) && also(name).iter().all(|a| !this.contains(a))
        };
        let chosen = candidates
            .iter()
            .find(|c| free(self, c))
            .cloned()
            .unwrap_or_else(|| {
                let base = candidates
                    .last()
                    .cloned()
                    .unwrap_or_else(|| "Item".to_owned());
                let base = unraw(&base).to_owned();
                (2u64..)
                    .map(|n| format!("{base}{sep}{n}"))
                    .find(|c| free(self, c))
                    .unwrap_or(base)
            });
        self.insert(&chosen);
        for a in also(&chosen) {
            self.insert(&a);
        }
        chosen
    }
}

/// Text for a `//` comment line: no line breaks or other control characters
/// can end the comment early.
pub fn comment_text(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_debug().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// A Rust string literal for `s` (`str`'s `Debug` form is valid Rust source).
pub fn literal(s: &str) -> String {
    format!("{s:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_conversions() {
        assert_eq!(snake("getStatus", "m"), "get_status");
        assert_eq!(snake("agent_id", "f"), "agent_id");
        assert_eq!(snake("HTTPServer", "f"), "http_server");
        assert_eq!(snake("utf8Name", "f"), "utf8_name");
        assert_eq!(snake("in-progress", "f"), "in_progress");
        assert_eq!(snake("type", "f"), "r#type");
        assert_eq!(snake("self", "f"), "self_");
        assert_eq!(snake("2fa", "f"), "_2fa");
        assert_eq!(snake("größe", "f"), "gr_u00f6_u00df_e");
        assert_eq!(snake("---", "field"), "field");
        assert_eq!(pascal("status_request", "T", "Type"), "StatusRequest");
        assert_eq!(pascal("StatusRequest", "T", "Type"), "StatusRequest");
        assert_eq!(pascal("HTTPServer", "T", "Type"), "HTTPServer");
        assert_eq!(pascal("3d", "T", "Type"), "T3d");
        assert_eq!(pascal("Self", "T", "Type"), "Self_");
        assert_eq!(variant("RED"), "RED");
        assert_eq!(variant("in-progress"), "InProgress");
        assert_eq!(variant("1"), "V1");
        assert_eq!(variant("type"), "Type");
        assert_eq!(derive_camel("agent_id"), "agentId");
        assert_eq!(derive_camel("r#type"), "type");
        assert_eq!(service_camel("r#type"), "r#type");
    }

    #[test]
    fn claims_are_unique_with_companions() {
        let mut t = Taken::new();
        for reserved in ["new", "descriptor"] {
            t.insert(reserved);
        }
        let with = |n: &str| vec![format!("{}_with", unraw(n))];
        assert_eq!(t.claim(&["new".into()], "_", &with), "new_2");
        assert_eq!(t.claim(&["foo".into()], "_", &with), "foo");
        // `foo_with` is taken by `foo`'s companion.
        assert_eq!(t.claim(&["foo_with".into()], "_", &with), "foo_with_2");
        let mut types = Taken::case_insensitive();
        assert_eq!(types.claim(&["Foo".into()], "", &|_| vec![]), "Foo");
        assert_eq!(types.claim(&["FOO".into()], "", &|_| vec![]), "FOO2");
    }

    #[test]
    fn comments_and_literals_cannot_break_out() {
        assert_eq!(comment_text("a\nb"), "a\\nb");
        assert_eq!(literal("a\"b\\"), "\"a\\\"b\\\\\"");
    }
}
