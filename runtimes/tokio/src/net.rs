//! Endpoint setup: identity, network mode, and addresses in every form the
//! ecosystem uses (`aster1…` tickets, hex endpoint ids, base64 NodeAddr
//! text, iroh `EndpointAddr`).

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aster_proto::ticket::{AsterTicket, NodeAddrText, PeerAddress, parse_peer_address};
use iroh::address_lookup::MemoryLookup;
use iroh::endpoint::{PortmapperConfig, QuicTransportConfig, presets};
use iroh::{Endpoint, EndpointAddr, EndpointId, RelayMode, SecretKey, TransportAddr};

/// Current time as Unix epoch milliseconds (the protocol's clock).
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// How an endpoint reaches the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMode {
    /// iroh's defaults: n0 relays and address lookup (pkarr/DNS), all interfaces.
    Default,
    /// No relay, no address lookup, no port mapping; bound to one address
    /// (loopback by default). Peers are dialled by explicit addresses.
    Offline { bind: SocketAddr },
}

impl NetworkMode {
    /// Offline on 127.0.0.1 with an OS-chosen port.
    pub fn loopback() -> NetworkMode {
        NetworkMode::Offline {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// An endpoint's identity and network settings.
#[derive(Debug, Clone)]
pub struct EndpointOptions {
    pub secret_key: Option<SecretKey>,
    pub network: NetworkMode,
    /// How long a silent peer is kept (also the time to notice a crashed one).
    pub idle_timeout: Duration,
}

impl Default for EndpointOptions {
    fn default() -> Self {
        EndpointOptions {
            secret_key: None,
            network: NetworkMode::Default,
            idle_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot bind the endpoint: {0}")]
    Bind(String),
    #[error("secret key file {path}: {reason}")]
    KeyFile { path: String, reason: String },
    #[error("address: {0}")]
    Address(String),
}

/// Binds an endpoint. Never waits for a relay: `bind` returns as soon as the
/// sockets are open (the reference's node waits for a relay with no timeout).
pub async fn bind_endpoint(
    opts: &EndpointOptions,
    lookup: &MemoryLookup,
) -> Result<Endpoint, NetError> {
    bind_endpoint_with(opts, lookup, None::<NoHooks>).await
}

/// Stands in for "no hooks" in [`bind_endpoint_with`].
#[derive(Debug)]
struct NoHooks;

impl iroh::endpoint::EndpointHooks for NoHooks {}

/// Like [`bind_endpoint`], with connection hooks (Gate 0) installed.
pub(crate) async fn bind_endpoint_hooked(
    opts: &EndpointOptions,
    lookup: &MemoryLookup,
    hooks: impl iroh::endpoint::EndpointHooks + 'static,
) -> Result<Endpoint, NetError> {
    bind_endpoint_with(opts, lookup, Some(hooks)).await
}

async fn bind_endpoint_with<H: iroh::endpoint::EndpointHooks + 'static>(
    opts: &EndpointOptions,
    lookup: &MemoryLookup,
    hooks: Option<H>,
) -> Result<Endpoint, NetError> {
    // Keep-alives well inside the idle timeout, so only a dead peer times out.
    let keep_alive = (opts.idle_timeout / 3).min(Duration::from_secs(5));
    let transport = QuicTransportConfig::builder()
        .max_idle_timeout(Some(
            opts.idle_timeout
                .try_into()
                .map_err(|e| NetError::Bind(format!("{e:?}")))?,
        ))
        .keep_alive_interval(keep_alive)
        .build();
    let builder = match &opts.network {
        NetworkMode::Default => Endpoint::builder(presets::N0),
        NetworkMode::Offline { bind } => Endpoint::builder(presets::Minimal)
            .relay_mode(RelayMode::Disabled)
            .portmapper_config(PortmapperConfig::Disabled)
            .clear_ip_transports()
            .bind_addr(*bind)
            .map_err(|e| NetError::Bind(format!("{e:?}")))?,
    };
    let builder = builder
        .transport_config(transport)
        .address_lookup(lookup.clone());
    let builder = match &opts.secret_key {
        Some(k) => builder.secret_key(k.clone()),
        None => builder,
    };
    let builder = match hooks {
        Some(h) => builder.hooks(h),
        None => builder,
    };
    builder
        .bind()
        .await
        .map_err(|e| NetError::Bind(e.to_string()))
}

/// Reads a secret key file: the reference's key JSON (`{"secret_key": hex,
/// ...}`), 64 hex chars, or 32 raw bytes.
pub fn read_secret_key(path: &Path) -> Result<SecretKey, NetError> {
    let err = |reason: String| NetError::KeyFile {
        path: path.display().to_string(),
        reason,
    };
    let data = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    if data.len() == 32 {
        let bytes: [u8; 32] = data
            .as_slice()
            .try_into()
            .map_err(|_| err("not 32 bytes".into()))?;
        return Ok(SecretKey::from_bytes(&bytes));
    }
    let text = String::from_utf8_lossy(&data);
    let hex_text = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => v
            .get("secret_key")
            .and_then(|k| k.as_str())
            .map(str::to_string)
            .ok_or_else(|| err("JSON without `secret_key`".into()))?,
        Err(_) => text.trim().to_string(),
    };
    let bytes = hex::decode(hex_text.trim())
        .map_err(|_| err("expected key JSON, 64 hex characters or 32 raw bytes".into()))?;
    let bytes: [u8; 32] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| err("expected a 32-byte key".into()))?;
    Ok(SecretKey::from_bytes(&bytes))
}

/// Parses any address form a user or an admission answer gives: `aster1…`,
/// 64-hex endpoint id, or base64 NodeAddr text.
pub fn parse_address(text: &str) -> Result<EndpointAddr, NetError> {
    let parsed = parse_peer_address(text.trim()).map_err(|e| NetError::Address(e.to_string()))?;
    let (id, relay, direct) = match parsed {
        PeerAddress::Ticket(t) => (t.endpoint_id, None, t.direct_addrs),
        PeerAddress::EndpointId(id) => (id, None, vec![]),
        PeerAddress::NodeAddr(n) => (n.endpoint_id, n.relay_url, n.direct_addrs),
    };
    let id = EndpointId::from_bytes(&id)
        .map_err(|e| NetError::Address(format!("invalid endpoint id: {e}")))?;
    let mut addr = EndpointAddr::new(id);
    for a in direct {
        addr = addr.with_ip_addr(a);
    }
    if let Some(url) = relay.filter(|u| !u.is_empty()) {
        if let Ok(url) = url.parse() {
            addr = addr.with_relay_url(url);
        }
    }
    Ok(addr)
}

/// The `aster1…` form of an address: endpoint id and direct addresses (the
/// reference also packs a DNS-resolved relay address, which its own client
/// ignores; we leave it out).
pub fn ticket_of(addr: &EndpointAddr) -> String {
    let mut ticket = AsterTicket::new(*addr.id.as_bytes());
    ticket.direct_addrs = addr
        .ip_addrs()
        .copied()
        .take(aster_proto::ticket::MAX_TICKET_DIRECT_ADDRS)
        .collect();
    ticket.to_aster_string().unwrap_or_default()
}

/// The base64 NodeAddr text of `channels.rpc` in admission answers.
pub fn node_addr_of(addr: &EndpointAddr) -> String {
    let text = NodeAddrText {
        endpoint_id: *addr.id.as_bytes(),
        relay_url: addr.relay_urls().next().map(|u| u.to_string()),
        direct_addrs: addr.ip_addrs().copied().collect(),
    };
    text.to_base64().unwrap_or_default()
}

/// Remembers a peer's addresses so that iroh can dial it by id.
pub fn remember(lookup: &MemoryLookup, addr: &EndpointAddr) {
    if addr
        .addrs
        .iter()
        .any(|a| matches!(a, TransportAddr::Ip(_) | TransportAddr::Relay(_)))
    {
        lookup.add_endpoint_info(addr.clone());
    }
}
