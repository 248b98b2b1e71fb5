//! Protocol limits (spec §2.3, §3.8, §4.5). The values are the reference's;
//! where we enforce one more strictly than the reference does, the spec says so.

/// Largest frame body: flags byte plus payload.
pub const MAX_FRAME_SIZE: u32 = 16 * 1024 * 1024;
/// Largest payload after zstd decompression.
pub const MAX_DECOMPRESSED_SIZE: usize = 16 * 1024 * 1024;
/// Payloads strictly larger than this are compressed when sending.
pub const COMPRESSION_THRESHOLD: usize = 4096;
/// Items a client-stream call may send (bidi input is not capped: it is
/// handed to the handler as it arrives, never buffered whole).
pub const MAX_CLIENT_STREAM_ITEMS: u64 = 100_000;
/// Metadata pairs accepted in a header.
pub const MAX_METADATA_ENTRIES: usize = 64;
/// Sum of UTF-8 bytes of all metadata keys and values.
pub const MAX_METADATA_TOTAL_BYTES: usize = 8192;
/// Longest metadata key, in characters.
pub const MAX_METADATA_KEY_LEN: usize = 256;
/// Longest metadata value, in characters.
pub const MAX_METADATA_VALUE_LEN: usize = 4096;
/// Status messages longer than this (in characters) are truncated with "...".
pub const MAX_STATUS_MESSAGE_LEN: usize = 4096;
/// Detail pairs kept from a received status.
pub const MAX_STATUS_DETAIL_ENTRIES: usize = 32;
/// Server-side cap on a handler's run time, and its time when no deadline came.
pub const MAX_HANDLER_TIMEOUT_MS: u64 = 300_000;
/// A deadline is refused on receipt only when it passed more than this long ago.
pub const DEADLINE_SKEW_TOLERANCE_MS: u64 = 5_000;
/// Admission request or response JSON.
pub const MAX_ADMISSION_PAYLOAD_SIZE: usize = 64 * 1024;
/// Services kept from an admission response.
pub const MAX_SERVICES_IN_ADMISSION: usize = 10_000;
