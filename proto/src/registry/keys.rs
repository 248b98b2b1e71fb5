//! Registry keys (trust-registry.md §2.2): builders and a strict parser.
//!
//! The reference formats keys with f-strings and never checks the pieces, so
//! `version_key("a/b", 1)` and `version_key("a", 1)` under a service called
//! `a/b/versions/v1/..` can collide, and any key is accepted on read. Here
//! every piece is checked before a key is built or after it is split:
//!
//! * a *name* (service, channel, tag, config key, endpoint id) is 1..=N bytes
//!   of UTF-8 with no `/` and no control character, so `/` is always a
//!   separator and a key parses back to exactly the pieces that built it;
//! * a *contract id* is exactly 64 lowercase hex digits (BLAKE3, spec §6),
//!   the only form the reference ever writes;
//! * a version is an `i32` written the way Python's `str(int)` writes it
//!   (`v7`, `v-1`; no `+`, no leading zeros), so that parse ∘ build = id;
//! * a whole key is at most [`MAX_KEY_LEN`] bytes, checked before splitting.
//!
//! The byte layout of every key is the reference's (checked against
//! `aster.registry.keys` by `conformance/vectors/registry.json`).

use std::fmt;

/// Longest key accepted by [`RegistryKey::parse`], in bytes. The longest key
/// the builders can make (a lease key with maximal pieces) is shorter.
pub const MAX_KEY_LEN: usize = 1024;
/// Longest service, channel, tag or config name, in bytes.
pub const MAX_NAME_LEN: usize = 256;
/// Longest endpoint id, in bytes (an iroh EndpointId is 64 hex digits; other
/// encodings are allowed but bounded).
pub const MAX_ENDPOINT_ID_LEN: usize = 128;
/// Length of a contract id: BLAKE3 as lowercase hex.
pub const CONTRACT_ID_LEN: usize = 64;

/// `_aster/config/` names the reference documents (§2.2). Other names are
/// accepted too: the layout is open, only these three have a meaning.
pub const CONFIG_GOSSIP_TOPIC: &str = "gossip_topic";
/// See [`CONFIG_GOSSIP_TOPIC`].
pub const CONFIG_LEASE_DURATION_S: &str = "lease_duration_s";
/// See [`CONFIG_GOSSIP_TOPIC`].
pub const CONFIG_LEASE_REFRESH_INTERVAL_S: &str = "lease_refresh_interval_s";

/// The reference's download-policy prefixes (`REGISTRY_PREFIXES`), in its
/// order. It lacks `manifests/` (gap R4); use [`DOWNLOAD_PREFIXES`].
pub const REFERENCE_DOWNLOAD_PREFIXES: [&str; 5] = [
    "contracts/",
    "services/",
    "endpoints/",
    "compatibility/",
    "_aster/",
];

/// Prefixes a registry reader should sync ("nothing except" these): the
/// reference's list plus `manifests/`, which the reference runtime writes but
/// forgot to sync (gap R4).
pub const DOWNLOAD_PREFIXES: [&str; 6] = [
    "contracts/",
    "manifests/",
    "services/",
    "endpoints/",
    "compatibility/",
    "_aster/",
];

/// Why a key, or a piece of one, was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// A key longer than [`MAX_KEY_LEN`].
    #[error("registry key is {len} bytes, over the {max}-byte limit")]
    TooLong { len: usize, max: usize },
    /// A key that is not UTF-8 (iroh-docs keys are bytes; registry keys are text).
    #[error("registry key is not valid UTF-8")]
    NotUtf8,
    /// A key that matches none of the layouts of §2.2.
    #[error("registry key {key:?} matches no known layout")]
    UnknownLayout { key: String },
    /// An empty piece.
    #[error("{what} is empty")]
    Empty { what: &'static str },
    /// A piece over its length limit.
    #[error("{what} is {len} bytes, over the {max}-byte limit")]
    PieceTooLong {
        what: &'static str,
        len: usize,
        max: usize,
    },
    /// A piece containing `/` (which would split the key differently).
    #[error("{what} {value:?} contains '/'")]
    ContainsSlash { what: &'static str, value: String },
    /// A piece containing a control character.
    #[error("{what} {value:?} contains a control character")]
    ControlChar { what: &'static str, value: String },
    /// A contract id that is not 64 lowercase hex digits.
    #[error("contract id {value:?} is not {CONTRACT_ID_LEN} lowercase hex digits")]
    BadContractId { value: String },
    /// A version piece that is not `v` + a canonical `i32`.
    #[error("version piece {value:?} is not 'v' followed by a canonical 32-bit integer")]
    BadVersion { value: String },
}

/// The four ACL keys under `_aster/acl/` (§2.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AclKind {
    /// Trusted writers: the only list that changes what readers see.
    Writers,
    /// Readers (stored, not enforced by the reference).
    Readers,
    /// Admins (stored, not enforced by the reference).
    Admins,
    /// Policy (documented, unused).
    Policy,
}

impl AclKind {
    /// The key's last piece.
    pub fn as_str(self) -> &'static str {
        match self {
            AclKind::Writers => "writers",
            AclKind::Readers => "readers",
            AclKind::Admins => "admins",
            AclKind::Policy => "policy",
        }
    }

    fn from_str(s: &str) -> Option<AclKind> {
        Some(match s {
            "writers" => AclKind::Writers,
            "readers" => AclKind::Readers,
            "admins" => AclKind::Admins,
            "policy" => AclKind::Policy,
            _ => return None,
        })
    }
}

/// One registry key, taken apart (§2.2). `Display` writes the key text;
/// [`RegistryKey::parse`] reads it back.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RegistryKey {
    /// `contracts/{contract_id}` → ArtifactRef JSON.
    Contract { contract_id: String },
    /// `manifests/{contract_id}` → manifest.json bytes (runtime shortcut).
    Manifest { contract_id: String },
    /// `services/{service}/versions/v{version}` → contract id (immutable by convention).
    Version { service: String, version: i32 },
    /// `services/{service}/channels/{channel}` → contract id (mutable pointer).
    Channel { service: String, channel: String },
    /// `services/{service}/tags/{tag}` → contract id.
    Tag { service: String, tag: String },
    /// `services/{service}/contracts/{contract_id}/endpoints/{endpoint_id}`
    /// → EndpointLease JSON or the `null` tombstone.
    Lease {
        service: String,
        contract_id: String,
        endpoint_id: String,
    },
    /// `_aster/acl/{writers|readers|admins|policy}` → JSON list of AuthorIds.
    Acl(AclKind),
    /// `_aster/config/{name}` → a config value.
    Config { name: String },
}

impl RegistryKey {
    /// `contracts/{contract_id}`.
    pub fn contract(contract_id: &str) -> Result<RegistryKey, KeyError> {
        Ok(RegistryKey::Contract {
            contract_id: check_contract_id(contract_id)?,
        })
    }

    /// `manifests/{contract_id}`.
    pub fn manifest(contract_id: &str) -> Result<RegistryKey, KeyError> {
        Ok(RegistryKey::Manifest {
            contract_id: check_contract_id(contract_id)?,
        })
    }

    /// `services/{service}/versions/v{version}`.
    pub fn version(service: &str, version: i32) -> Result<RegistryKey, KeyError> {
        Ok(RegistryKey::Version {
            service: check_name("service name", service, MAX_NAME_LEN)?,
            version,
        })
    }

    /// `services/{service}/channels/{channel}`.
    pub fn channel(service: &str, channel: &str) -> Result<RegistryKey, KeyError> {
        Ok(RegistryKey::Channel {
            service: check_name("service name", service, MAX_NAME_LEN)?,
            channel: check_name("channel name", channel, MAX_NAME_LEN)?,
        })
    }

    /// `services/{service}/tags/{tag}`.
    pub fn tag(service: &str, tag: &str) -> Result<RegistryKey, KeyError> {
        Ok(RegistryKey::Tag {
            service: check_name("service name", service, MAX_NAME_LEN)?,
            tag: check_name("tag name", tag, MAX_NAME_LEN)?,
        })
    }

    /// `services/{service}/contracts/{contract_id}/endpoints/{endpoint_id}`.
    pub fn lease(
        service: &str,
        contract_id: &str,
        endpoint_id: &str,
    ) -> Result<RegistryKey, KeyError> {
        Ok(RegistryKey::Lease {
            service: check_name("service name", service, MAX_NAME_LEN)?,
            contract_id: check_contract_id(contract_id)?,
            endpoint_id: check_name("endpoint id", endpoint_id, MAX_ENDPOINT_ID_LEN)?,
        })
    }

    /// `_aster/acl/{kind}`.
    pub fn acl(kind: AclKind) -> RegistryKey {
        RegistryKey::Acl(kind)
    }

    /// `_aster/config/{name}`.
    pub fn config(name: &str) -> Result<RegistryKey, KeyError> {
        Ok(RegistryKey::Config {
            name: check_name("config name", name, MAX_NAME_LEN)?,
        })
    }

    /// The key as the bytes written to iroh-docs.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }

    /// Reads a key. Strict: the result's `Display` gives back exactly `key`.
    pub fn parse(key: &[u8]) -> Result<RegistryKey, KeyError> {
        if key.len() > MAX_KEY_LEN {
            return Err(KeyError::TooLong {
                len: key.len(),
                max: MAX_KEY_LEN,
            });
        }
        let text = std::str::from_utf8(key).map_err(|_| KeyError::NotUtf8)?;
        let unknown = || KeyError::UnknownLayout {
            key: text.to_owned(),
        };
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            ["contracts", cid] => RegistryKey::contract(cid),
            ["manifests", cid] => RegistryKey::manifest(cid),
            ["services", service, "versions", v] => {
                RegistryKey::version(service, parse_version(v)?)
            }
            ["services", service, "channels", channel] => RegistryKey::channel(service, channel),
            ["services", service, "tags", tag] => RegistryKey::tag(service, tag),
            ["services", service, "contracts", cid, "endpoints", eid] => {
                RegistryKey::lease(service, cid, eid)
            }
            ["_aster", "acl", kind] => AclKind::from_str(kind)
                .map(RegistryKey::Acl)
                .ok_or_else(unknown),
            ["_aster", "config", name] => RegistryKey::config(name),
            _ => Err(unknown()),
        }
    }
}

impl fmt::Display for RegistryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryKey::Contract { contract_id } => write!(f, "contracts/{contract_id}"),
            RegistryKey::Manifest { contract_id } => write!(f, "manifests/{contract_id}"),
            RegistryKey::Version { service, version } => {
                write!(f, "services/{service}/versions/v{version}")
            }
            RegistryKey::Channel { service, channel } => {
                write!(f, "services/{service}/channels/{channel}")
            }
            RegistryKey::Tag { service, tag } => write!(f, "services/{service}/tags/{tag}"),
            RegistryKey::Lease {
                service,
                contract_id,
                endpoint_id,
            } => {
                write!(
                    f,
                    "services/{service}/contracts/{contract_id}/endpoints/{endpoint_id}"
                )
            }
            RegistryKey::Acl(kind) => write!(f, "_aster/acl/{}", kind.as_str()),
            RegistryKey::Config { name } => write!(f, "_aster/config/{name}"),
        }
    }
}

/// `contracts/{contract_id}` as text.
pub fn contract_key(contract_id: &str) -> Result<String, KeyError> {
    RegistryKey::contract(contract_id).map(|k| k.to_string())
}

/// `manifests/{contract_id}` as text.
pub fn manifest_key(contract_id: &str) -> Result<String, KeyError> {
    RegistryKey::manifest(contract_id).map(|k| k.to_string())
}

/// `services/{service}/versions/v{version}` as text.
pub fn version_key(service: &str, version: i32) -> Result<String, KeyError> {
    RegistryKey::version(service, version).map(|k| k.to_string())
}

/// `services/{service}/channels/{channel}` as text.
pub fn channel_key(service: &str, channel: &str) -> Result<String, KeyError> {
    RegistryKey::channel(service, channel).map(|k| k.to_string())
}

/// `services/{service}/tags/{tag}` as text.
pub fn tag_key(service: &str, tag: &str) -> Result<String, KeyError> {
    RegistryKey::tag(service, tag).map(|k| k.to_string())
}

/// `services/{service}/contracts/{contract_id}/endpoints/{endpoint_id}` as text.
pub fn lease_key(service: &str, contract_id: &str, endpoint_id: &str) -> Result<String, KeyError> {
    RegistryKey::lease(service, contract_id, endpoint_id).map(|k| k.to_string())
}

/// `services/{service}/contracts/{contract_id}/endpoints/`: every lease of
/// one contract of one service starts with this.
pub fn lease_prefix(service: &str, contract_id: &str) -> Result<String, KeyError> {
    let service = check_name("service name", service, MAX_NAME_LEN)?;
    let contract_id = check_contract_id(contract_id)?;
    Ok(format!(
        "services/{service}/contracts/{contract_id}/endpoints/"
    ))
}

/// `_aster/acl/{kind}` as text.
pub fn acl_key(kind: AclKind) -> String {
    RegistryKey::acl(kind).to_string()
}

/// `_aster/config/{name}` as text.
pub fn config_key(name: &str) -> Result<String, KeyError> {
    RegistryKey::config(name).map(|k| k.to_string())
}

/// Checks a name piece: non-empty, bounded, no `/`, no control character.
pub(crate) fn check_name(what: &'static str, value: &str, max: usize) -> Result<String, KeyError> {
    if value.is_empty() {
        return Err(KeyError::Empty { what });
    }
    if value.len() > max {
        return Err(KeyError::PieceTooLong {
            what,
            len: value.len(),
            max,
        });
    }
    if value.contains('/') {
        return Err(KeyError::ContainsSlash {
            what,
            value: value.to_owned(),
        });
    }
    if value.chars().any(char::is_control) {
        return Err(KeyError::ControlChar {
            what,
            value: value.to_owned(),
        });
    }
    Ok(value.to_owned())
}

/// Checks a contract id: exactly 64 lowercase hex digits.
pub fn check_contract_id(value: &str) -> Result<String, KeyError> {
    if is_contract_id(value) {
        Ok(value.to_owned())
    } else {
        // Bound what an error carries: the value may be untrusted and large.
        let shown: String = value.chars().take(80).collect();
        Err(KeyError::BadContractId { value: shown })
    }
}

/// True for 64 lowercase hex digits.
pub fn is_contract_id(value: &str) -> bool {
    value.len() == CONTRACT_ID_LEN
        && value
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `v{n}` with `n` as Python's `str(int)` writes an `i32`.
fn parse_version(piece: &str) -> Result<i32, KeyError> {
    let bad = || KeyError::BadVersion {
        value: piece.chars().take(40).collect(),
    };
    let digits = piece.strip_prefix('v').ok_or_else(bad)?;
    let magnitude = digits.strip_prefix('-').unwrap_or(digits);
    let canonical = !magnitude.is_empty()
        && magnitude.bytes().all(|b| b.is_ascii_digit())
        && (magnitude == "0" || !magnitude.starts_with('0'))
        && digits != "-0";
    if !canonical {
        return Err(bad());
    }
    digits.parse::<i32>().map_err(|_| bad())
}
