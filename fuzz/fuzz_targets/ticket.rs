//! `aster1…` tickets (text and binary) and the NodeAddr text form.
#![no_main]

use aster_proto::ticket::{AsterTicket, NodeAddrText, parse_peer_address};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = AsterTicket::decode_bytes(data) {
        if let Ok(bytes) = t.encode() {
            assert_eq!(AsterTicket::decode_bytes(&bytes).as_ref(), Ok(&t));
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = AsterTicket::decode(text);
        let _ = NodeAddrText::from_base64(text);
        let _ = parse_peer_address(text);
    }
    let _ = NodeAddrText::parse_bytes(data);
});
