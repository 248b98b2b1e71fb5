//! StreamHeader / CallHeader / RpcStatus decoding (XLANG and JSON, chosen by
//! the first byte as on the wire); what decodes must re-encode and decode equal.
#![no_main]

use aster_proto::message::{CallHeader, ProtocolMessage, RpcStatus, StreamHeader};
use libfuzzer_sys::fuzz_target;

fn check<M: ProtocolMessage + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok((m, form)) = M::decode(data) {
        let again = m.encode(form);
        assert_eq!(M::decode(&again).map(|(x, _)| x), Ok(m));
    }
}

fuzz_target!(|data: &[u8]| {
    check::<StreamHeader>(data);
    check::<CallHeader>(data);
    check::<RpcStatus>(data);
});
