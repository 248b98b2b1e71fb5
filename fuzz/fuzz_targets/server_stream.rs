//! A server stream fed arbitrary bytes after a valid header, in chunks sized
//! by the first input byte: never panics, and chunking changes nothing.
#![no_main]

use std::sync::{Arc, OnceLock};

use aster_proto::call::{MethodSpec, Pattern, Scope, ServerStream, ServiceSpec, ServiceTable};
use aster_proto::codec::SerializationMode;
use libfuzzer_sys::fuzz_target;

fn table() -> Arc<ServiceTable> {
    static TABLE: OnceLock<Arc<ServiceTable>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            let m = |name: &str, pattern| MethodSpec { name: name.into(), pattern };
            let methods = vec![
                m("u", Pattern::Unary),
                m("s", Pattern::ServerStream),
                m("c", Pattern::ClientStream),
                m("b", Pattern::Bidi),
            ];
            Arc::new(
                ServiceTable::new(vec![
                    ServiceSpec {
                        name: "E".into(),
                        version: 1,
                        scope: Scope::Shared,
                        modes: vec![SerializationMode::Xlang],
                        methods: methods.clone(),
                    },
                    ServiceSpec {
                        name: "S".into(),
                        version: 1,
                        scope: Scope::Session,
                        modes: vec![SerializationMode::Xlang],
                        methods,
                    },
                ])
                .expect("valid table"),
            )
        })
        .clone()
}

fn run(data: &[u8], chunk: usize) -> (Vec<String>, Vec<u8>) {
    let mut s = ServerStream::new(table());
    let mut events = vec![];
    let mut out = vec![];
    for piece in data.chunks(chunk.max(1)) {
        s.handle_data(piece, 1_000);
        while let Some(e) = s.poll_event() {
            events.push(format!("{e:?}"));
        }
    }
    s.handle_fin(1_000);
    s.handle_timeout(u64::MAX);
    while let Some(e) = s.poll_event() {
        events.push(format!("{e:?}"));
    }
    while let Some(t) = s.poll_transmit() {
        out.extend_from_slice(&t.data);
    }
    (events, out)
}

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, rest)) = data.split_first() else { return };
    assert_eq!(run(rest, rest.len().max(1)), run(rest, usize::from(chunk)));
});
