//! Peer addresses as they travel between Aster nodes: the compact `aster1…` ticket and the
//! newline-separated `NodeAddr` text form.
//!
//! Both forms arrive from outside the process (pasted by a user, carried in a
//! `ServiceSummary.channels` map received over the network), so every decoder here is total:
//! it either returns a value or a typed error, never panics, and bounds its work and memory
//! by a small constant before it looks at the content.
//!
//! Byte layouts and limits follow the reference fact sheet, `wire.md` §7 (ticket), §1.2
//! (`NodeAddr` text) and §9.4 (vectors produced by aster-rpc 0.1.2), and `trust-registry.md`
//! §1.14 (credential TLV types). Where the reference is silent or lenient, the choice made here
//! is documented on the item that makes it.
//!
//! # Acceptance policy
//!
//! The ticket decoder accepts exactly the byte strings that aster-rpc 0.1.2 accepts, so that a
//! ticket printed by any reference node works here and a ticket refused here is also refused
//! there. In particular, like the reference, it ignores (and re-encodes as zero) the reserved
//! header bits, the reserved low nibble of the address-count byte, the unused tail bits of the
//! address-type bitfield and any payload attached to an `open` credential, and it rejects
//! credential types it does not know.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::str::FromStr;

use base64::Engine as _;

// ---------------------------------------------------------------------------------------------
// Constants (wire.md §7)
// ---------------------------------------------------------------------------------------------

/// Text prefix of every ticket string. The `1` doubles as a visual separator from the base58
/// body, in the style of bech32 human-readable parts (wire.md §7).
pub const TICKET_PREFIX: &str = "aster1";

/// Only ticket format version defined; carried in the high nibble of the header byte (wire.md §7).
pub const TICKET_VERSION: u8 = 1;

/// Largest binary ticket, in bytes, that is produced or accepted (wire.md §7). Keeps tickets
/// short enough to paste, print as a QR code, or put in a URL.
pub const MAX_TICKET_LEN: usize = 256;

/// Smallest binary ticket: 32-byte endpoint id, header byte, address-count byte (wire.md §7).
pub const MIN_TICKET_LEN: usize = 34;

/// Largest direct-address count: the count lives in a 4-bit field (wire.md §7).
pub const MAX_TICKET_DIRECT_ADDRS: usize = 15;

/// Largest credential payload the TLV length may announce (wire.md §7).
///
/// Note that together with [`MAX_TICKET_LEN`] the usable maximum is 219 bytes: the smallest
/// ticket (34 bytes) plus the 3-byte TLV header plus 220 bytes is 257. The reference has the
/// same two limits and therefore the same effective ceiling (verified against 0.1.2: 219 bytes
/// encode to exactly 256, 220 bytes are refused as an oversize ticket).
pub const MAX_CREDENTIAL_PAYLOAD: usize = 220;

/// Longest base58 body (after the prefix) that can decode to at most [`MAX_TICKET_LEN`] bytes.
///
/// Each leading `1` stands for one zero byte and every other base58 digit carries
/// log2(58)/8 ≈ 0.732 bytes, so any body longer than 350 characters decodes to more than 256
/// bytes. Refusing it before decoding keeps the quadratic base58 conversion bounded; the
/// reference decodes first and refuses afterwards, so the outcome (rejection) is the same.
pub const MAX_TICKET_BASE58_LEN: usize = 350;

/// Credential TLV type bytes (wire.md §7, trust-registry.md §1.14).
const CRED_OPEN: u8 = 0x00;
const CRED_CONSUMER_RCAN: u8 = 0x01;
const CRED_ENROLLMENT: u8 = 0x02;
const CRED_REGISTRY_READ: u8 = 0x03;

/// Two-bit address type codes used in the header (relay) and in the direct-address bitfield.
/// The relay field reserves `00` for "no relay", so the two fields number IPv4/IPv6
/// differently (wire.md §7).
const RELAY_NONE: u8 = 0b00;
const RELAY_V4: u8 = 0b01;
const RELAY_V6: u8 = 0b10;
const ADDR_V4: u8 = 0b00;
const ADDR_V6: u8 = 0b01;

/// Size of an IPv4 address plus big-endian port.
const V4_LEN: usize = 4 + 2;
/// Size of an IPv6 address plus big-endian port (scope id and flow label are not carried).
const V6_LEN: usize = 16 + 2;

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a ticket could not be encoded or decoded.
///
/// Every message names what the format expects and what was found, because tickets are pasted
/// by people who need to tell a truncated copy from a ticket of a newer format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TicketError {
    /// The string does not start with [`TICKET_PREFIX`].
    #[error("ticket must start with \"aster1\", found {found:?}")]
    MissingPrefix {
        /// The first few characters of the input (at most 8), for the message.
        found: String,
    },

    /// The base58 body is longer than any valid ticket can be.
    #[error("ticket text after \"aster1\" must be at most {max} characters, found {found}")]
    StringTooLong {
        /// [`MAX_TICKET_BASE58_LEN`].
        max: usize,
        /// Length of the body in bytes.
        found: usize,
    },

    /// The body contains a character outside the Bitcoin base58 alphabet.
    #[error(
        "ticket must be base58 (Bitcoin alphabet) after \"aster1\", found {found:?} at character offset {index}"
    )]
    InvalidBase58Char {
        /// Byte offset of the character in the whole string (prefix included).
        index: usize,
        /// The offending character.
        found: char,
    },

    /// The base58 decoder failed for a reason other than a bad character.
    #[error("ticket must be base58 (Bitcoin alphabet) after \"aster1\": {detail}")]
    InvalidBase58 {
        /// The decoder's description.
        detail: String,
    },

    /// The binary ticket is larger than [`MAX_TICKET_LEN`].
    #[error("ticket must be at most {max} bytes, found {found}")]
    TooLong {
        /// [`MAX_TICKET_LEN`].
        max: usize,
        /// Size of the input.
        found: usize,
    },

    /// The binary ticket is smaller than [`MIN_TICKET_LEN`].
    #[error(
        "ticket must be at least {min} bytes (endpoint id, header, address count), found {found}"
    )]
    TooShort {
        /// [`MIN_TICKET_LEN`].
        min: usize,
        /// Size of the input.
        found: usize,
    },

    /// The header's version nibble is not [`TICKET_VERSION`].
    #[error("ticket version must be {expected}, found {found}")]
    UnsupportedVersion {
        /// [`TICKET_VERSION`].
        expected: u8,
        /// The version nibble of the header.
        found: u8,
    },

    /// The header announces relay type `11`, which is reserved.
    #[error("ticket relay type must be 0 (none), 1 (IPv4) or 2 (IPv6), found reserved type 3")]
    ReservedRelayType,

    /// A direct address has reserved type `10` or `11` in the type bitfield.
    #[error(
        "direct address {index} type must be 0 (IPv4) or 1 (IPv6), found reserved type {found}"
    )]
    ReservedAddressType {
        /// Position of the address in the list (0-based).
        index: usize,
        /// The two type bits.
        found: u8,
    },

    /// The ticket ends inside a field.
    #[error(
        "ticket truncated in {field} at byte {offset}: expected {expected} more bytes, found {found}"
    )]
    Truncated {
        /// Which field was being read.
        field: &'static str,
        /// Offset of the field in the binary ticket.
        offset: usize,
        /// Bytes the field needs.
        expected: usize,
        /// Bytes that were left.
        found: usize,
    },

    /// The credential TLV carries a type this implementation (and the reference) does not know.
    #[error("ticket credential type must be 0x00..=0x03, found 0x{found:02x}")]
    UnknownCredentialType {
        /// The TLV type byte.
        found: u8,
    },

    /// The credential payload is longer than [`MAX_CREDENTIAL_PAYLOAD`].
    #[error("ticket credential payload must be at most {max} bytes, found {found}")]
    CredentialTooLong {
        /// [`MAX_CREDENTIAL_PAYLOAD`].
        max: usize,
        /// Announced (decode) or actual (encode) payload length.
        found: usize,
    },

    /// A registry-read credential whose payload is not a 32-byte namespace id.
    #[error("registry-read credential must be exactly 32 bytes, found {found}")]
    RegistryReadLength {
        /// Payload length.
        found: usize,
    },

    /// Bytes remain after the last field.
    #[error("ticket must end after its last field at byte {offset}, found {found} trailing bytes")]
    TrailingBytes {
        /// Offset where the ticket should have ended.
        offset: usize,
        /// Number of extra bytes.
        found: usize,
    },

    /// Encoding: more direct addresses than the 4-bit count can express.
    #[error("ticket can carry at most {max} direct addresses, found {found}")]
    TooManyDirectAddrs {
        /// [`MAX_TICKET_DIRECT_ADDRS`].
        max: usize,
        /// Number of addresses given.
        found: usize,
    },
}

// ---------------------------------------------------------------------------------------------
// Credential
// ---------------------------------------------------------------------------------------------

/// Credential optionally appended to a ticket as a TLV (wire.md §7, trust-registry.md §1.14).
///
/// The set is closed on purpose: the reference decoder rejects unknown types, and a ticket whose
/// credential cannot be understood cannot be honoured (silently dropping a credential would turn
/// a ticket meant to grant access into one that fails admission for an unclear reason). Keeping
/// the same acceptance set as the reference also means both sides agree on which tickets are
/// valid. A future credential type therefore needs a new variant, not a catch-all.
///
/// `Debug` does not print the JSON payloads: they are bearer credentials and must not end up in
/// logs.
#[derive(Clone, PartialEq, Eq, Hash)]
pub enum TicketCredential {
    /// Type 0x00: the endpoint is open; no payload. On decode, a payload attached to this type
    /// is ignored, as the reference does.
    Open,
    /// Type 0x01: consumer RCAN credential, JSON bytes. Not parsed here; the trust layer owns it.
    ConsumerRcan(Vec<u8>),
    /// Type 0x02: enrollment credential, JSON bytes. Not parsed here; the trust layer owns it.
    Enrollment(Vec<u8>),
    /// Type 0x03: read access to a registry document, given as its 32-byte namespace id.
    RegistryRead([u8; 32]),
}

impl TicketCredential {
    /// The TLV type byte of this credential.
    #[must_use]
    pub const fn type_byte(&self) -> u8 {
        match self {
            Self::Open => CRED_OPEN,
            Self::ConsumerRcan(_) => CRED_CONSUMER_RCAN,
            Self::Enrollment(_) => CRED_ENROLLMENT,
            Self::RegistryRead(_) => CRED_REGISTRY_READ,
        }
    }

    /// The TLV payload bytes of this credential.
    #[must_use]
    pub fn payload(&self) -> &[u8] {
        match self {
            Self::Open => &[],
            Self::ConsumerRcan(json) | Self::Enrollment(json) => json,
            Self::RegistryRead(namespace) => namespace,
        }
    }

    /// Builds a credential from a TLV type and payload, with the reference's rules: unknown
    /// types are refused, `open` ignores its payload, registry-read needs exactly 32 bytes.
    fn from_tlv(kind: u8, payload: &[u8]) -> Result<Self, TicketError> {
        match kind {
            CRED_OPEN => Ok(Self::Open),
            CRED_CONSUMER_RCAN => Ok(Self::ConsumerRcan(payload.to_vec())),
            CRED_ENROLLMENT => Ok(Self::Enrollment(payload.to_vec())),
            CRED_REGISTRY_READ => <[u8; 32]>::try_from(payload)
                .map(Self::RegistryRead)
                .map_err(|_| TicketError::RegistryReadLength {
                    found: payload.len(),
                }),
            found => Err(TicketError::UnknownCredentialType { found }),
        }
    }
}

impl fmt::Debug for TicketCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Open => f.write_str("Open"),
            Self::ConsumerRcan(json) => write!(f, "ConsumerRcan(<{} bytes>)", json.len()),
            Self::Enrollment(json) => write!(f, "Enrollment(<{} bytes>)", json.len()),
            Self::RegistryRead(namespace) => {
                write!(f, "RegistryRead({})", endpoint_id_to_hex(namespace))
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Ticket
// ---------------------------------------------------------------------------------------------

/// The compact `aster1…` address of an Aster endpoint (wire.md §7).
///
/// Binary layout, all integers big-endian:
///
/// ```text
/// [32]        endpoint id (ed25519 public key)
/// [1]         version << 4 | relay type << 2 | 2 reserved bits
/// [0|6|18]    relay: IPv4 + port or IPv6 + port
/// [1]         direct-address count << 4 | 4 reserved bits
/// [ceil(n/4)] 2 type bits per direct address, first address in the most significant bits
/// [6|18 each] direct addresses
/// [optional]  credential TLV: type u8, length u16, payload
/// ```
///
/// The relay is an IP socket address, not a URL: the reference resolves its relay URL before
/// printing a ticket, and its own client ignores the field when connecting (wire.md §7).
///
/// The endpoint id is kept as raw bytes; checking that it is a valid ed25519 point is the
/// transport's job, as in the reference ticket decoder.
///
/// There is deliberately no `Display` impl: encoding can fail (too many addresses, oversize
/// credential), and `ToString` panics when `Display` fails. Use [`AsterTicket::to_aster_string`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AsterTicket {
    /// Ed25519 public key of the endpoint.
    pub endpoint_id: [u8; 32],
    /// Resolved relay server address, if any.
    pub relay: Option<SocketAddr>,
    /// Directly dialable addresses, at most [`MAX_TICKET_DIRECT_ADDRS`]. IPv6 scope ids and flow
    /// labels are not carried: they are dropped on encode, as in the reference.
    pub direct_addrs: Vec<SocketAddr>,
    /// Optional credential.
    pub credential: Option<TicketCredential>,
}

impl AsterTicket {
    /// A ticket with only an endpoint id.
    #[must_use]
    pub const fn new(endpoint_id: [u8; 32]) -> Self {
        Self {
            endpoint_id,
            relay: None,
            direct_addrs: Vec::new(),
            credential: None,
        }
    }

    /// Size of the binary form, whether or not it is within limits.
    #[must_use]
    pub fn encoded_len(&self) -> usize {
        let relay = self.relay.map_or(0, addr_len);
        let n = self.direct_addrs.len();
        let directs: usize = self.direct_addrs.iter().copied().map(addr_len).sum();
        let credential = self
            .credential
            .as_ref()
            .map_or(0, |c| c.payload().len().saturating_add(3));
        // Saturating: the fields are public, and an absurd value must still compare as too big.
        [relay, bitfield_len(n), directs, credential]
            .into_iter()
            .fold(32 + 1 + 1, usize::saturating_add)
    }

    /// Binary form (wire.md §7).
    ///
    /// Fails instead of producing a ticket the reference would refuse: more than
    /// [`MAX_TICKET_DIRECT_ADDRS`] addresses, a credential payload over
    /// [`MAX_CREDENTIAL_PAYLOAD`], or a total over [`MAX_TICKET_LEN`].
    ///
    /// # Errors
    ///
    /// [`TicketError::TooManyDirectAddrs`], [`TicketError::CredentialTooLong`] or
    /// [`TicketError::TooLong`] when the ticket would break a limit of wire.md §7.
    pub fn encode(&self) -> Result<Vec<u8>, TicketError> {
        let count = self.direct_addrs.len();
        let count_nibble = u8::try_from(count)
            .ok()
            .filter(|&n| usize::from(n) <= MAX_TICKET_DIRECT_ADDRS)
            .ok_or(TicketError::TooManyDirectAddrs {
                max: MAX_TICKET_DIRECT_ADDRS,
                found: count,
            })?;
        let credential_len = match &self.credential {
            None => None,
            Some(credential) => {
                let len = credential.payload().len();
                let fits = u16::try_from(len)
                    .ok()
                    .filter(|&n| usize::from(n) <= MAX_CREDENTIAL_PAYLOAD);
                Some(fits.ok_or(TicketError::CredentialTooLong {
                    max: MAX_CREDENTIAL_PAYLOAD,
                    found: len,
                })?)
            }
        };
        let total = self.encoded_len();
        if total > MAX_TICKET_LEN {
            return Err(TicketError::TooLong {
                max: MAX_TICKET_LEN,
                found: total,
            });
        }

        let mut out = Vec::with_capacity(total);
        out.extend_from_slice(&self.endpoint_id);

        let relay_type = match self.relay {
            None => RELAY_NONE,
            Some(SocketAddr::V4(_)) => RELAY_V4,
            Some(SocketAddr::V6(_)) => RELAY_V6,
        };
        out.push((TICKET_VERSION << 4) | (relay_type << 2));
        if let Some(relay) = self.relay {
            put_addr(&mut out, relay);
        }

        out.push(count_nibble << 4);
        let mut bitfield = vec![0u8; bitfield_len(count)];
        for (i, addr) in self.direct_addrs.iter().enumerate() {
            let bits = match addr {
                SocketAddr::V4(_) => ADDR_V4,
                SocketAddr::V6(_) => ADDR_V6,
            };
            if let Some(byte) = bitfield.get_mut(i / 4) {
                *byte |= bits << (6 - 2 * (i % 4));
            }
        }
        out.extend_from_slice(&bitfield);
        for addr in &self.direct_addrs {
            put_addr(&mut out, *addr);
        }

        if let (Some(credential), Some(len)) = (&self.credential, credential_len) {
            out.push(credential.type_byte());
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(credential.payload());
        }
        debug_assert_eq!(out.len(), total);
        Ok(out)
    }

    /// Text form: `aster1` followed by the Bitcoin-alphabet base58 of [`encode`](Self::encode),
    /// without checksum (wire.md §7).
    ///
    /// # Errors
    ///
    /// As [`encode`](Self::encode).
    pub fn to_aster_string(&self) -> Result<String, TicketError> {
        let binary = self.encode()?;
        let mut text = String::with_capacity(TICKET_PREFIX.len() + MAX_TICKET_BASE58_LEN);
        text.push_str(TICKET_PREFIX);
        text.push_str(&bs58::encode(binary).into_string());
        Ok(text)
    }

    /// Parses the text form, applying every check of [`decode_bytes`](Self::decode_bytes).
    ///
    /// # Errors
    ///
    /// A [`TicketError`] naming the first check that failed: prefix, body length, base58
    /// alphabet, then the binary checks.
    pub fn decode(text: &str) -> Result<Self, TicketError> {
        let Some(body) = text.strip_prefix(TICKET_PREFIX) else {
            return Err(TicketError::MissingPrefix {
                found: text.chars().take(8).collect(),
            });
        };
        if body.len() > MAX_TICKET_BASE58_LEN {
            return Err(TicketError::StringTooLong {
                max: MAX_TICKET_BASE58_LEN,
                found: body.len(),
            });
        }
        let binary = bs58::decode(body)
            .into_vec()
            .map_err(|e| base58_error(body, e))?;
        Self::decode_bytes(&binary)
    }

    /// Parses the binary form (wire.md §7).
    ///
    /// Checks, in the reference's order: size ≤ 256 then ≥ 34; version nibble 1; relay type not
    /// `11`; every field present; address types not `10`/`11`; credential length ≤ 220 and
    /// present; credential type known; registry-read payload exactly 32 bytes; nothing after
    /// the last field.
    ///
    /// # Errors
    ///
    /// A [`TicketError`] naming the first check that failed.
    pub fn decode_bytes(bytes: &[u8]) -> Result<Self, TicketError> {
        if bytes.len() > MAX_TICKET_LEN {
            return Err(TicketError::TooLong {
                max: MAX_TICKET_LEN,
                found: bytes.len(),
            });
        }
        if bytes.len() < MIN_TICKET_LEN {
            return Err(TicketError::TooShort {
                min: MIN_TICKET_LEN,
                found: bytes.len(),
            });
        }
        let mut r = Reader::new(bytes);

        let endpoint_id = r.array::<32>("endpoint id")?;

        let header = r.byte("header")?;
        let version = header >> 4;
        if version != TICKET_VERSION {
            return Err(TicketError::UnsupportedVersion {
                expected: TICKET_VERSION,
                found: version,
            });
        }
        // The low two bits are reserved; the reference neither checks nor preserves them.
        let relay = match (header >> 2) & 0b11 {
            RELAY_NONE => None,
            RELAY_V4 => Some(r.v4("IPv4 relay address")?),
            RELAY_V6 => Some(r.v6("IPv6 relay address")?),
            _ => return Err(TicketError::ReservedRelayType),
        };

        // Low nibble reserved, ignored like the reference does.
        let count = usize::from(r.byte("direct address count")? >> 4);
        let bitfield = r.take(bitfield_len(count), "address type bitfield")?;
        let mut direct_addrs = Vec::with_capacity(count);
        for index in 0..count {
            // Unused bits after the last address are ignored, as in the reference.
            let byte = bitfield.get(index / 4).copied().unwrap_or_default();
            let bits = (byte >> (6 - 2 * (index % 4))) & 0b11;
            let addr = match bits {
                ADDR_V4 => r.v4("IPv4 direct address")?,
                ADDR_V6 => r.v6("IPv6 direct address")?,
                found => return Err(TicketError::ReservedAddressType { index, found }),
            };
            direct_addrs.push(addr);
        }

        let credential = if r.is_empty() {
            None
        } else {
            let [kind, hi, lo] = r.array::<3>("credential header")?;
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            if len > MAX_CREDENTIAL_PAYLOAD {
                return Err(TicketError::CredentialTooLong {
                    max: MAX_CREDENTIAL_PAYLOAD,
                    found: len,
                });
            }
            let payload = r.take(len, "credential payload")?;
            Some(TicketCredential::from_tlv(kind, payload)?)
        };

        if !r.is_empty() {
            return Err(TicketError::TrailingBytes {
                offset: r.offset,
                found: r.rest.len(),
            });
        }

        Ok(Self {
            endpoint_id,
            relay,
            direct_addrs,
            credential,
        })
    }

    /// The `NodeAddr` the reference client derives from a ticket: endpoint id and direct
    /// addresses, no relay URL (the ticket holds a resolved IP, not a URL; wire.md §7).
    #[must_use]
    pub fn to_node_addr(&self) -> NodeAddrText {
        NodeAddrText {
            endpoint_id: self.endpoint_id,
            relay_url: None,
            direct_addrs: self.direct_addrs.clone(),
        }
    }
}

impl FromStr for AsterTicket {
    type Err = TicketError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::decode(s)
    }
}

/// Bytes of the type bitfield for `n` direct addresses (2 bits each).
const fn bitfield_len(n: usize) -> usize {
    n.div_ceil(4)
}

/// Bytes an address takes in the ticket.
const fn addr_len(addr: SocketAddr) -> usize {
    match addr {
        SocketAddr::V4(_) => V4_LEN,
        SocketAddr::V6(_) => V6_LEN,
    }
}

fn put_addr(out: &mut Vec<u8>, addr: SocketAddr) {
    match addr.ip() {
        IpAddr::V4(ip) => out.extend_from_slice(&ip.octets()),
        IpAddr::V6(ip) => out.extend_from_slice(&ip.octets()),
    }
    out.extend_from_slice(&addr.port().to_be_bytes());
}

/// Maps a base58 failure to an error that points at the offending character.
fn base58_error(body: &str, error: bs58::decode::Error) -> TicketError {
    let at = |index: usize| {
        body.get(index..)
            .and_then(|rest| rest.chars().next())
            .map(|found| TicketError::InvalidBase58Char {
                index: index + TICKET_PREFIX.len(),
                found,
            })
    };
    let mapped = match error {
        bs58::decode::Error::InvalidCharacter { index, .. }
        | bs58::decode::Error::NonAsciiCharacter { index } => at(index),
        _ => None,
    };
    mapped.unwrap_or_else(|| TicketError::InvalidBase58 {
        detail: error.to_string(),
    })
}

/// Bounds-checked cursor over a binary ticket; every read reports which field was short.
struct Reader<'a> {
    rest: &'a [u8],
    offset: usize,
}

impl<'a> Reader<'a> {
    const fn new(bytes: &'a [u8]) -> Self {
        Self {
            rest: bytes,
            offset: 0,
        }
    }

    const fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], TicketError> {
        let Some((head, tail)) = self.rest.split_at_checked(n) else {
            return Err(TicketError::Truncated {
                field,
                offset: self.offset,
                expected: n,
                found: self.rest.len(),
            });
        };
        self.rest = tail;
        self.offset += n;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], TicketError> {
        let slice = self.take(N, field)?;
        let mut out = [0u8; N];
        out.copy_from_slice(slice);
        Ok(out)
    }

    fn byte(&mut self, field: &'static str) -> Result<u8, TicketError> {
        let [b] = self.array::<1>(field)?;
        Ok(b)
    }

    fn v4(&mut self, field: &'static str) -> Result<SocketAddr, TicketError> {
        let [a, b, c, d, p0, p1] = self.array::<V4_LEN>(field)?;
        let ip = Ipv4Addr::new(a, b, c, d);
        Ok(SocketAddr::V4(SocketAddrV4::new(
            ip,
            u16::from_be_bytes([p0, p1]),
        )))
    }

    fn v6(&mut self, field: &'static str) -> Result<SocketAddr, TicketError> {
        let raw = self.array::<V6_LEN>(field)?;
        let mut octets = [0u8; 16];
        octets.copy_from_slice(&raw[..16]);
        let port = u16::from_be_bytes([raw[16], raw[17]]);
        Ok(SocketAddr::V6(SocketAddrV6::new(
            Ipv6Addr::from(octets),
            port,
            0,
            0,
        )))
    }
}

// ---------------------------------------------------------------------------------------------
// Endpoint id as hex
// ---------------------------------------------------------------------------------------------

/// Lower-case 64-character hex of an endpoint id, the form used by the `NodeAddr` text
/// (wire.md §1.2) and accepted as a bare address by the reference client (wire.md §7).
#[must_use]
pub fn endpoint_id_to_hex(id: &[u8; 32]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    let digit = |nibble: u8| char::from(DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'));
    for b in id {
        out.push(digit(b >> 4));
        out.push(digit(b & 0x0f));
    }
    out
}

/// Parses a 64-character hex endpoint id. Upper- and lower-case digits are accepted, as the
/// reference client's address detection lower-cases before testing (wire.md §7).
///
/// # Errors
///
/// [`NodeAddrError::EndpointIdLength`] or [`NodeAddrError::EndpointIdDigit`].
pub fn parse_endpoint_id_hex(text: &str) -> Result<[u8; 32], NodeAddrError> {
    let bytes = text.as_bytes();
    if bytes.len() != 64 {
        return Err(NodeAddrError::EndpointIdLength { found: bytes.len() });
    }
    if let Some((index, found)) = text.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(NodeAddrError::EndpointIdDigit { index, found });
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
        if let [hi, lo] = *pair {
            *slot = (hex_value(hi) << 4) | hex_value(lo);
        }
    }
    Ok(out)
}

/// Value of an ASCII hex digit; callers have already checked that `c` is one.
const fn hex_value(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => 0,
    }
}

// ---------------------------------------------------------------------------------------------
// NodeAddr text form
// ---------------------------------------------------------------------------------------------

/// Most direct addresses accepted in (or written to) a `NodeAddr` text. The reference has no
/// limit; a node rarely has more than a handful of interfaces, and the text comes from the
/// network, so a generous fixed cap bounds the work.
pub const MAX_NODE_ADDR_DIRECT_ADDRS: usize = 64;

/// Longest relay URL accepted. Relay URLs are short host names; the cap bounds the input.
pub const MAX_RELAY_URL_LEN: usize = 512;

/// Longest direct-address line. The longest socket address `std` prints,
/// `[ffff:…:ffff%4294967295]:65535`, is 58 characters.
pub const MAX_DIRECT_ADDR_LINE_LEN: usize = 64;

/// Largest `NodeAddr` text accepted, in bytes; above what the other caps allow, so only
/// pathological inputs hit it, and they are refused before being scanned.
pub const MAX_NODE_ADDR_TEXT_LEN: usize = 8192;

/// Largest base64 `NodeAddr` string accepted (the padded base64 length of
/// [`MAX_NODE_ADDR_TEXT_LEN`] bytes).
pub const MAX_NODE_ADDR_BASE64_LEN: usize = 4 * MAX_NODE_ADDR_TEXT_LEN.div_ceil(3);

/// Why a `NodeAddr` text, its base64 wrapping, or a hex endpoint id could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NodeAddrError {
    /// The endpoint id is not 64 characters long.
    #[error("endpoint id must be 64 hex characters, found {found} bytes")]
    EndpointIdLength {
        /// Length in bytes.
        found: usize,
    },

    /// The endpoint id contains a non-hex character.
    #[error("endpoint id must be hex, found {found:?} at offset {index}")]
    EndpointIdDigit {
        /// Byte offset in the id.
        index: usize,
        /// The offending byte, as a character.
        found: char,
    },

    /// The text is larger than [`MAX_NODE_ADDR_TEXT_LEN`].
    #[error("NodeAddr text must be at most {max} bytes, found {found}")]
    TextTooLong {
        /// [`MAX_NODE_ADDR_TEXT_LEN`].
        max: usize,
        /// Size of the input.
        found: usize,
    },

    /// The base64 string is longer than [`MAX_NODE_ADDR_BASE64_LEN`].
    #[error("base64 NodeAddr must be at most {max} characters, found {found}")]
    Base64TooLong {
        /// [`MAX_NODE_ADDR_BASE64_LEN`].
        max: usize,
        /// Size of the input.
        found: usize,
    },

    /// The string is not standard, padded base64.
    #[error("NodeAddr must be standard base64 with padding: {detail}")]
    InvalidBase64 {
        /// The decoder's description.
        detail: String,
    },

    /// The text is not UTF-8.
    #[error("NodeAddr text must be UTF-8, found an invalid sequence at byte {valid_up_to}")]
    NotUtf8 {
        /// Length of the valid prefix.
        valid_up_to: usize,
    },

    /// The relay URL line is not acceptable.
    #[error(
        "relay URL must be 1..={max} printable ASCII characters of the form scheme://…, found {found:?}"
    )]
    InvalidRelayUrl {
        /// Maximum length ([`MAX_RELAY_URL_LEN`]).
        max: usize,
        /// The line (cut to 64 characters).
        found: String,
    },

    /// A direct-address line is longer than [`MAX_DIRECT_ADDR_LINE_LEN`].
    #[error("direct address {index} must be at most {max} bytes, found {found}")]
    DirectAddrTooLong {
        /// Position among the direct addresses (0-based).
        index: usize,
        /// [`MAX_DIRECT_ADDR_LINE_LEN`].
        max: usize,
        /// Length of the line.
        found: usize,
    },

    /// A direct-address line is not `ip:port` / `[ipv6]:port`.
    #[error("direct address {index} must be ip:port or [ipv6]:port, found {found:?}")]
    InvalidDirectAddr {
        /// Position among the direct addresses (0-based).
        index: usize,
        /// The line.
        found: String,
    },

    /// More direct addresses than [`MAX_NODE_ADDR_DIRECT_ADDRS`].
    #[error("NodeAddr may carry at most {max} direct addresses, found more")]
    TooManyDirectAddrs {
        /// [`MAX_NODE_ADDR_DIRECT_ADDRS`].
        max: usize,
    },
}

/// The `NodeAddr` text form (wire.md §1.2): the address a server advertises in
/// `ServiceSummary.channels["rpc"]`, base64-wrapped.
///
/// Layout, lines joined by `\n`, no final newline:
///
/// ```text
/// <endpoint id, 64 lower-case hex>
/// <relay URL, or empty>
/// <direct address 1>        e.g. 1.2.3.4:5 or [::1]:6
/// …
/// ```
///
/// With no direct addresses the text still has the (empty) third line, i.e. it ends with
/// `\n` — what the reference writes, and what the reference client uses as a connection-cache
/// key, so [`to_text`](Self::to_text) reproduces it byte for byte.
///
/// Parsing accepts what the reference's reader accepts structurally — a missing relay line,
/// empty lines among the direct addresses — but, unlike the reference, validates every line and
/// bounds the input, since the text comes from a peer: the endpoint id must be 64 hex digits,
/// the relay URL printable ASCII shaped `scheme://…`, every address a socket address.
/// IPv6 flow labels are not carried by the text; scope ids are (`[fe80::1%3]:6`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeAddrText {
    /// Ed25519 public key of the endpoint.
    pub endpoint_id: [u8; 32],
    /// Home relay URL, e.g. `https://relay.example/`.
    pub relay_url: Option<String>,
    /// Directly dialable addresses, at most [`MAX_NODE_ADDR_DIRECT_ADDRS`].
    pub direct_addrs: Vec<SocketAddr>,
}

impl NodeAddrText {
    /// A `NodeAddr` with only an endpoint id.
    #[must_use]
    pub const fn new(endpoint_id: [u8; 32]) -> Self {
        Self {
            endpoint_id,
            relay_url: None,
            direct_addrs: Vec::new(),
        }
    }

    /// The text form. Fails if the relay URL or the address count would make text that
    /// [`parse`](Self::parse) refuses (a newline inside the URL would shift every line).
    ///
    /// # Errors
    ///
    /// [`NodeAddrError::InvalidRelayUrl`] or [`NodeAddrError::TooManyDirectAddrs`].
    pub fn to_text(&self) -> Result<String, NodeAddrError> {
        if let Some(url) = &self.relay_url {
            check_relay_url(url)?;
        }
        if self.direct_addrs.len() > MAX_NODE_ADDR_DIRECT_ADDRS {
            return Err(NodeAddrError::TooManyDirectAddrs {
                max: MAX_NODE_ADDR_DIRECT_ADDRS,
            });
        }
        let mut text = endpoint_id_to_hex(&self.endpoint_id);
        text.push('\n');
        text.push_str(self.relay_url.as_deref().unwrap_or_default());
        text.push('\n');
        for (i, addr) in self.direct_addrs.iter().enumerate() {
            if i > 0 {
                text.push('\n');
            }
            // `SocketAddr`'s Display is the form the reference writes (`[::1]:6` for IPv6).
            text.push_str(&addr.to_string());
        }
        Ok(text)
    }

    /// The text form wrapped in standard base64 with padding, as carried in
    /// `ServiceSummary.channels` (wire.md §1.2; the reference uses Python's `b64encode`).
    ///
    /// # Errors
    ///
    /// As [`to_text`](Self::to_text).
    pub fn to_base64(&self) -> Result<String, NodeAddrError> {
        Ok(base64::engine::general_purpose::STANDARD.encode(self.to_text()?))
    }

    /// Parses the text form.
    ///
    /// # Errors
    ///
    /// As [`parse_bytes`](Self::parse_bytes).
    pub fn parse(text: &str) -> Result<Self, NodeAddrError> {
        Self::parse_bytes(text.as_bytes())
    }

    /// Parses the text form from raw bytes (what the reference's `NodeAddr.from_bytes` takes).
    ///
    /// # Errors
    ///
    /// A [`NodeAddrError`] for the first line that is not acceptable, or for an input over
    /// [`MAX_NODE_ADDR_TEXT_LEN`] bytes or not UTF-8.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, NodeAddrError> {
        if bytes.len() > MAX_NODE_ADDR_TEXT_LEN {
            return Err(NodeAddrError::TextTooLong {
                max: MAX_NODE_ADDR_TEXT_LEN,
                found: bytes.len(),
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| NodeAddrError::NotUtf8 {
            valid_up_to: e.valid_up_to(),
        })?;
        let mut lines = text.split('\n');
        // `split` always yields at least one item, so an empty text reports a bad id length.
        let endpoint_id = parse_endpoint_id_hex(lines.next().unwrap_or_default())?;
        let relay_url = match lines.next() {
            None | Some("") => None,
            Some(url) => {
                check_relay_url(url)?;
                Some(url.to_owned())
            }
        };
        let mut direct_addrs = Vec::new();
        for line in lines.filter(|line| !line.is_empty()) {
            let index = direct_addrs.len();
            if index == MAX_NODE_ADDR_DIRECT_ADDRS {
                return Err(NodeAddrError::TooManyDirectAddrs {
                    max: MAX_NODE_ADDR_DIRECT_ADDRS,
                });
            }
            if line.len() > MAX_DIRECT_ADDR_LINE_LEN {
                return Err(NodeAddrError::DirectAddrTooLong {
                    index,
                    max: MAX_DIRECT_ADDR_LINE_LEN,
                    found: line.len(),
                });
            }
            let addr =
                line.parse::<SocketAddr>()
                    .map_err(|_| NodeAddrError::InvalidDirectAddr {
                        index,
                        found: line.to_owned(),
                    })?;
            direct_addrs.push(addr);
        }
        Ok(Self {
            endpoint_id,
            relay_url,
            direct_addrs,
        })
    }

    /// Parses the base64-wrapped text form (standard alphabet, padding required, no whitespace).
    ///
    /// # Errors
    ///
    /// [`NodeAddrError::Base64TooLong`], [`NodeAddrError::InvalidBase64`], or any error of
    /// [`parse_bytes`](Self::parse_bytes).
    pub fn from_base64(text: &str) -> Result<Self, NodeAddrError> {
        if text.len() > MAX_NODE_ADDR_BASE64_LEN {
            return Err(NodeAddrError::Base64TooLong {
                max: MAX_NODE_ADDR_BASE64_LEN,
                found: text.len(),
            });
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| NodeAddrError::InvalidBase64 {
                detail: e.to_string(),
            })?;
        Self::parse_bytes(&bytes)
    }
}

impl FromStr for NodeAddrText {
    type Err = NodeAddrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Relay URL sanity check: bounded, printable ASCII without spaces (so it cannot break the
/// line structure or smuggle control characters into logs), and shaped `scheme://…` as every
/// relay URL the reference prints is. Full URL validation is the transport's job.
fn check_relay_url(url: &str) -> Result<(), NodeAddrError> {
    let printable = url.bytes().all(|b| b.is_ascii_graphic());
    let shaped = url.split_once("://").is_some_and(|(scheme, rest)| {
        scheme
            .bytes()
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
            && !rest.is_empty()
    });
    if !url.is_empty() && url.len() <= MAX_RELAY_URL_LEN && printable && shaped {
        Ok(())
    } else {
        Err(NodeAddrError::InvalidRelayUrl {
            max: MAX_RELAY_URL_LEN,
            found: url.chars().take(64).collect(),
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Address dispatch
// ---------------------------------------------------------------------------------------------

/// One of the address forms a user or config may give for a peer (wire.md §7, last paragraph).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PeerAddress {
    /// `aster1…` ticket.
    Ticket(AsterTicket),
    /// Bare 64-hex endpoint id (no addresses; discovery must find the peer).
    EndpointId([u8; 32]),
    /// Base64 `NodeAddr` text.
    NodeAddr(NodeAddrText),
}

/// Why [`parse_peer_address`] refused its input; says which form was tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PeerAddressError {
    /// The input starts with `aster1` but is not a valid ticket.
    #[error("invalid aster1 ticket: {0}")]
    Ticket(#[from] TicketError),
    /// The input is neither a ticket nor a hex id, and not a valid base64 `NodeAddr`.
    #[error("invalid base64 NodeAddr: {0}")]
    NodeAddr(#[from] NodeAddrError),
}

/// Classifies and parses a peer address the way the reference client does: `aster1` prefix ⇒
/// ticket (no fallback); exactly 64 hex characters ⇒ endpoint id; anything else ⇒ base64
/// `NodeAddr`. Unlike the reference (Python's lenient `b64decode`), the base64 must be strict.
///
/// # Errors
///
/// The error of the form the input was classified as.
pub fn parse_peer_address(text: &str) -> Result<PeerAddress, PeerAddressError> {
    if text.starts_with(TICKET_PREFIX) {
        return Ok(PeerAddress::Ticket(AsterTicket::decode(text)?));
    }
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(PeerAddress::EndpointId(parse_endpoint_id_hex(text)?));
    }
    Ok(PeerAddress::NodeAddr(NodeAddrText::from_base64(text)?))
}
