//! Status codes (spec §3.4) and the error value a call ends with.

use std::fmt;

use crate::limits::{MAX_STATUS_DETAIL_ENTRIES, MAX_STATUS_MESSAGE_LEN};

/// The outcome of a call: gRPC's codes 0–16 plus Aster's 101.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum StatusCode {
    Ok = 0,
    Cancelled = 1,
    Unknown = 2,
    InvalidArgument = 3,
    DeadlineExceeded = 4,
    NotFound = 5,
    AlreadyExists = 6,
    PermissionDenied = 7,
    ResourceExhausted = 8,
    FailedPrecondition = 9,
    Aborted = 10,
    OutOfRange = 11,
    Unimplemented = 12,
    Internal = 13,
    Unavailable = 14,
    DataLoss = 15,
    Unauthenticated = 16,
    /// A payload did not match the producer's contract (e.g. an unknown JSON field).
    ContractViolation = 101,
}

impl StatusCode {
    pub const ALL: [StatusCode; 18] = [
        StatusCode::Ok,
        StatusCode::Cancelled,
        StatusCode::Unknown,
        StatusCode::InvalidArgument,
        StatusCode::DeadlineExceeded,
        StatusCode::NotFound,
        StatusCode::AlreadyExists,
        StatusCode::PermissionDenied,
        StatusCode::ResourceExhausted,
        StatusCode::FailedPrecondition,
        StatusCode::Aborted,
        StatusCode::OutOfRange,
        StatusCode::Unimplemented,
        StatusCode::Internal,
        StatusCode::Unavailable,
        StatusCode::DataLoss,
        StatusCode::Unauthenticated,
        StatusCode::ContractViolation,
    ];

    /// The code for a wire number; `None` for numbers outside 0–16 and 101.
    pub fn from_i64(code: i64) -> Option<StatusCode> {
        StatusCode::ALL.into_iter().find(|c| *c as i64 == code)
    }

    pub fn as_i64(self) -> i64 {
        self as i64
    }

    /// The upper-case name the reference uses (`PERMISSION_DENIED`).
    pub fn name(self) -> &'static str {
        match self {
            StatusCode::Ok => "OK",
            StatusCode::Cancelled => "CANCELLED",
            StatusCode::Unknown => "UNKNOWN",
            StatusCode::InvalidArgument => "INVALID_ARGUMENT",
            StatusCode::DeadlineExceeded => "DEADLINE_EXCEEDED",
            StatusCode::NotFound => "NOT_FOUND",
            StatusCode::AlreadyExists => "ALREADY_EXISTS",
            StatusCode::PermissionDenied => "PERMISSION_DENIED",
            StatusCode::ResourceExhausted => "RESOURCE_EXHAUSTED",
            StatusCode::FailedPrecondition => "FAILED_PRECONDITION",
            StatusCode::Aborted => "ABORTED",
            StatusCode::OutOfRange => "OUT_OF_RANGE",
            StatusCode::Unimplemented => "UNIMPLEMENTED",
            StatusCode::Internal => "INTERNAL",
            StatusCode::Unavailable => "UNAVAILABLE",
            StatusCode::DataLoss => "DATA_LOSS",
            StatusCode::Unauthenticated => "UNAUTHENTICATED",
            StatusCode::ContractViolation => "CONTRACT_VIOLATION",
        }
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), *self as i32)
    }
}

/// How a call ended: a code, a message and optional string details.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Status {
    pub code: StatusCode,
    pub message: String,
    pub details: Vec<(String, String)>,
}

impl Status {
    pub fn new(code: StatusCode, message: impl Into<String>) -> Status {
        Status {
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn ok() -> Status {
        Status::new(StatusCode::Ok, "")
    }

    pub fn is_ok(&self) -> bool {
        self.code == StatusCode::Ok
    }

    /// OK with no message and no details: what `Status::ok()` makes.
    pub fn is_plain_ok(&self) -> bool {
        self.is_ok() && self.message.is_empty() && self.details.is_empty()
    }

    pub fn with_details(mut self, details: Vec<(String, String)>) -> Status {
        self.details = details;
        self
    }

    pub fn cancelled(message: impl Into<String>) -> Status {
        Status::new(StatusCode::Cancelled, message)
    }
    pub fn invalid_argument(message: impl Into<String>) -> Status {
        Status::new(StatusCode::InvalidArgument, message)
    }
    pub fn deadline_exceeded(message: impl Into<String>) -> Status {
        Status::new(StatusCode::DeadlineExceeded, message)
    }
    pub fn not_found(message: impl Into<String>) -> Status {
        Status::new(StatusCode::NotFound, message)
    }
    pub fn permission_denied(message: impl Into<String>) -> Status {
        Status::new(StatusCode::PermissionDenied, message)
    }
    pub fn resource_exhausted(message: impl Into<String>) -> Status {
        Status::new(StatusCode::ResourceExhausted, message)
    }
    pub fn failed_precondition(message: impl Into<String>) -> Status {
        Status::new(StatusCode::FailedPrecondition, message)
    }
    pub fn unimplemented(message: impl Into<String>) -> Status {
        Status::new(StatusCode::Unimplemented, message)
    }
    pub fn internal(message: impl Into<String>) -> Status {
        Status::new(StatusCode::Internal, message)
    }
    pub fn unavailable(message: impl Into<String>) -> Status {
        Status::new(StatusCode::Unavailable, message)
    }
    pub fn unauthenticated(message: impl Into<String>) -> Status {
        Status::new(StatusCode::Unauthenticated, message)
    }
    pub fn contract_violation(message: impl Into<String>) -> Status {
        Status::new(StatusCode::ContractViolation, message)
    }

    /// The status as received from a peer: unknown codes become UNKNOWN (the
    /// number is kept in the message), the message is truncated to 4096
    /// characters with "..." and at most 32 details are kept.
    pub fn from_wire(code: i64, message: String, details: Vec<(String, String)>) -> Status {
        let (code, message) = match StatusCode::from_i64(code) {
            Some(c) => (c, message),
            None => (
                StatusCode::Unknown,
                format!("(status code {code}) {message}"),
            ),
        };
        let mut details = details;
        details.truncate(MAX_STATUS_DETAIL_ENTRIES);
        Status {
            code,
            message: truncate_message(message),
            details,
        }
    }
}

/// Caps a status message at [`MAX_STATUS_MESSAGE_LEN`] characters.
pub fn truncate_message(message: String) -> String {
    match message.char_indices().nth(MAX_STATUS_MESSAGE_LEN) {
        None => message,
        Some((cut, _)) => {
            let keep = message[..cut]
                .char_indices()
                .nth_back(2)
                .map_or(0, |(i, _)| i);
            format!("{}...", &message[..keep])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for c in StatusCode::ALL {
            assert_eq!(StatusCode::from_i64(c.as_i64()), Some(c));
        }
        assert_eq!(StatusCode::from_i64(17), None);
        assert_eq!(StatusCode::from_i64(-1), None);
    }

    #[test]
    fn long_messages_are_truncated_to_the_limit() {
        let m = truncate_message("é".repeat(5000));
        assert_eq!(m.chars().count(), MAX_STATUS_MESSAGE_LEN);
        assert!(m.ends_with("..."));
        assert_eq!(truncate_message("short".into()), "short");
    }

    #[test]
    fn unknown_wire_code_becomes_unknown() {
        let s = Status::from_wire(42, "x".into(), vec![]);
        assert_eq!(s.code, StatusCode::Unknown);
        assert!(s.message.contains("42"));
    }
}
