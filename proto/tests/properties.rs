//! Properties over arbitrary input: round trips, no panics, and "split the
//! input anywhere, get the same result as feeding it whole".

use std::collections::BTreeMap;
use std::sync::Arc;

use aster_proto::call::{
    CallRequest, ClientCall, ClientSession, MethodSpec, Pattern, Scope, ServerStream, ServiceSpec,
    ServiceTable,
};
use aster_proto::codec::SerializationMode;
use aster_proto::frame::{Flags, FrameDecoder, encode_frame};
use aster_proto::message::{CallHeader, MessageForm, ProtocolMessage, RpcStatus, StreamHeader};
use aster_proto::wire_struct;
use aster_proto::xlang;
use bytes::BytesMut;
use proptest::prelude::*;

fn split_points(len: usize, cuts: &[usize]) -> Vec<usize> {
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|c| if len == 0 { 0 } else { c % (len + 1) })
        .collect();
    points.push(0);
    points.push(len);
    points.sort_unstable();
    points.dedup();
    points
}

/// Feeds `data` to a frame decoder in pieces; returns frames and the error, if any.
fn decode_frames(data: &[u8], points: &[usize]) -> (Vec<(u8, Vec<u8>)>, Option<String>) {
    decode_frames_as(data, points, |_| false)
}

/// As [`decode_frames`], each piece passed as an owned chunk
/// (`push_bytes`, zero-copy) when `owned(piece index)`, else as a slice.
fn decode_frames_as(
    data: &[u8],
    points: &[usize],
    owned: impl Fn(usize) -> bool,
) -> (Vec<(u8, Vec<u8>)>, Option<String>) {
    let mut d = FrameDecoder::new();
    let mut frames = vec![];
    for (i, w) in points.windows(2).enumerate() {
        let piece = &data[w[0]..w[1]];
        let pushed = if owned(i) {
            d.push_bytes(bytes::Bytes::copy_from_slice(piece))
        } else {
            d.push(piece)
        };
        if let Err(e) = pushed {
            return (frames, Some(e.to_string()));
        }
        loop {
            match d.next_frame() {
                Ok(Some(f)) => frames.push((f.flags.bits(), f.payload.to_vec())),
                Ok(None) => break,
                Err(e) => return (frames, Some(e.to_string())),
            }
        }
    }
    let err = d.finish().err().map(|e| format!("{e:?}"));
    (frames, err)
}

#[derive(Debug, Clone, Default, PartialEq)]
struct Blobs {
    small: bytes::Bytes,
    big: bytes::Bytes,
    rest: Vec<bytes::Bytes>,
}
wire_struct!(Blobs, "p/Blobs", {
    small: bytes::Bytes => "small",
    big: bytes::Bytes => "big",
    rest: Vec<bytes::Bytes> => "rest",
});

#[derive(Debug, Clone, Default, PartialEq)]
struct Leaf {
    n: i32,
    s: String,
}
wire_struct!(Leaf, "p/Leaf", { n: i32 => "n", s: String => "s" });

#[derive(Debug, Clone, Default, PartialEq)]
struct Tree {
    id: i64,
    ratio: f64,
    ok: bool,
    small: i8,
    mid: i16,
    blob: Vec<u8>,
    name: Option<String>,
    leaves: Vec<Leaf>,
    tags: BTreeMap<String, String>,
    opt_tags: BTreeMap<String, Option<String>>,
    nested: Vec<Vec<String>>,
    maybe: Option<Leaf>,
    child: Option<Box<Tree>>,
}
wire_struct!(Tree, "p/Tree", {
    id: i64 => "id",
    ratio: f64 => "ratio",
    ok: bool => "ok",
    small: i8 => "small",
    mid: i16 => "mid",
    blob: Vec<u8> => "blob",
    name: Option<String> => "name",
    leaves: Vec<Leaf> => "leaves",
    tags: BTreeMap<String, String> => "tags",
    opt_tags: BTreeMap<String, Option<String>> => "optTags",
    nested: Vec<Vec<String>> => "nested",
    maybe: Option<Leaf> => "maybe",
    child: Option<Box<Tree>> => "child",
});

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,12}",
        "[a-z]{0,40}",
        "\\PC{0,6}",
        Just("😀é".to_string())
    ]
}

fn leaf() -> impl Strategy<Value = Leaf> {
    (any::<i32>(), text()).prop_map(|(n, s)| Leaf { n, s })
}

fn tree() -> impl Strategy<Value = Tree> {
    let base = (
        any::<i64>(),
        any::<f64>().prop_filter("NaN never equals itself", |f| !f.is_nan()),
        any::<bool>(),
        any::<i8>(),
        any::<i16>(),
        proptest::collection::vec(any::<u8>(), 0..20),
        proptest::option::of(text()),
        proptest::collection::vec(leaf(), 0..4),
        proptest::collection::btree_map(text(), text(), 0..4),
        proptest::collection::btree_map(text(), proptest::option::of(text()), 0..300),
        proptest::collection::vec(proptest::collection::vec(text(), 0..3), 0..3),
        proptest::option::of(leaf()),
    )
        .prop_map(
            |(id, ratio, ok, small, mid, blob, name, leaves, tags, opt_tags, nested, maybe)| Tree {
                id,
                ratio,
                ok,
                small,
                mid,
                blob,
                name,
                leaves,
                tags,
                opt_tags,
                nested,
                maybe,
                child: None,
            },
        );
    base.prop_recursive(3, 8, 1, |inner| {
        (inner.clone(), proptest::option::of(inner)).prop_map(|(mut t, c)| {
            t.child = c.map(Box::new);
            t
        })
    })
}

fn header() -> impl Strategy<Value = StreamHeader> {
    (
        text(),
        text(),
        any::<i64>(),
        text(),
        any::<i64>(),
        0i64..4,
        proptest::collection::vec((text(), text()), 0..5),
    )
        .prop_map(|(service, method, version, call_id, deadline, mode, md)| {
            let (metadata_keys, metadata_values) = md.into_iter().unzip();
            StreamHeader {
                service: service.into(),
                method: method.into(),
                version,
                call_id,
                deadline_epoch_ms: deadline,
                serialization_mode: mode,
                metadata_keys,
                metadata_values,
            }
        })
}

fn table() -> Arc<ServiceTable> {
    let m = |name: &str, pattern| MethodSpec {
        name: name.into(),
        pattern,
    };
    Arc::new(
        ServiceTable::new(vec![
            ServiceSpec {
                name: "E".into(),
                version: 1,
                scope: Scope::Shared,
                modes: vec![SerializationMode::Xlang],
                methods: vec![
                    m("u", Pattern::Unary),
                    m("c", Pattern::ClientStream),
                    m("b", Pattern::Bidi),
                ],
            },
            ServiceSpec {
                name: "S".into(),
                version: 1,
                scope: Scope::Session,
                modes: vec![SerializationMode::Xlang],
                methods: vec![m("u", Pattern::Unary), m("b", Pattern::Bidi)],
            },
        ])
        .unwrap(),
    )
}

/// Plausible streams: a real header followed by arbitrary frames, so the
/// state machines get past routing.
fn stream_bytes() -> impl Strategy<Value = Vec<u8>> {
    let frames = proptest::collection::vec(
        (
            prop_oneof![
                Just(0u8),
                Just(1),
                Just(2),
                Just(4),
                Just(8),
                Just(0x10),
                Just(0x20),
                any::<u8>()
            ],
            proptest::collection::vec(any::<u8>(), 0..30),
        ),
        0..8,
    );
    (
        prop_oneof![Just("E"), Just("S")],
        prop_oneof![Just("u"), Just("c"), Just("b"), Just("")],
        frames,
        any::<bool>(),
    )
        .prop_map(|(service, method, frames, garbage_tail)| {
            let mut buf = BytesMut::new();
            let h = StreamHeader {
                service: service.into(),
                method: method.into(),
                version: 1,
                ..Default::default()
            };
            encode_frame(Flags::HEADER, &h.encode(MessageForm::Xlang), &mut buf).unwrap();
            for (flags, payload) in frames {
                let payload = if flags & 0x10 != 0 && payload.len() % 2 == 0 {
                    CallHeader {
                        method: "u".into(),
                        ..Default::default()
                    }
                    .encode(MessageForm::Xlang)
                    .to_vec()
                } else if flags & 0x02 != 0 && payload.len() % 3 == 0 {
                    RpcStatus::ok().encode(MessageForm::Xlang).to_vec()
                } else {
                    payload
                };
                let _ = encode_frame(Flags(flags), &payload, &mut buf);
            }
            if garbage_tail {
                buf.extend_from_slice(&[3, 0, 0]);
            }
            buf.to_vec()
        })
}

/// Drives a server stream with `data` cut at `points`; returns its events and output.
fn drive_server(data: &[u8], points: &[usize], fin: bool) -> (Vec<String>, Vec<u8>) {
    let mut s = ServerStream::new(table());
    let mut events = vec![];
    let mut out = vec![];
    for w in points.windows(2) {
        s.handle_data(&data[w[0]..w[1]], 1_000);
        while let Some(e) = s.poll_event() {
            events.push(format!("{e:?}"));
        }
    }
    if fin {
        s.handle_fin(1_000);
    }
    s.handle_timeout(u64::MAX);
    while let Some(e) = s.poll_event() {
        events.push(format!("{e:?}"));
    }
    while let Some(t) = s.poll_transmit() {
        out.extend_from_slice(&t.data);
    }
    (events, out)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn frames_round_trip(flags in any::<u8>(), payload in proptest::collection::vec(any::<u8>(), 1..300)) {
        let mut out = BytesMut::new();
        encode_frame(Flags(flags), &payload, &mut out).unwrap();
        let (frames, err) = decode_frames(&out, &[0, out.len()]);
        prop_assert!(err.is_none());
        prop_assert_eq!(frames, vec![(flags, payload)]);
    }

    #[test]
    fn frame_decoding_is_split_invariant(data in proptest::collection::vec(any::<u8>(), 0..200), cuts in proptest::collection::vec(any::<usize>(), 0..10)) {
        let whole = decode_frames(&data, &[0, data.len()]);
        let split = decode_frames(&data, &split_points(data.len(), &cuts));
        prop_assert_eq!(&whole, &split);
        let owned = decode_frames_as(&data, &split_points(data.len(), &cuts), |i| i % 2 == 0);
        prop_assert_eq!(&whole, &owned);
    }

    /// Valid frame sequences (plus trailing junk), split anywhere and fed as
    /// any mix of owned chunks and slices, decode as when fed whole.
    #[test]
    fn zero_copy_decoding_matches_copying(
        frames in proptest::collection::vec((any::<u8>(), proptest::collection::vec(any::<u8>(), 1..64)), 0..8),
        junk in proptest::collection::vec(any::<u8>(), 0..6),
        cuts in proptest::collection::vec(any::<usize>(), 0..12),
        mask in any::<u32>(),
    ) {
        let mut out = BytesMut::new();
        for (flags, payload) in &frames {
            encode_frame(Flags(*flags), payload, &mut out).unwrap();
        }
        out.extend_from_slice(&junk);
        let points = split_points(out.len(), &cuts);
        let whole = decode_frames(&out, &[0, out.len()]);
        let mixed = decode_frames_as(&out, &points, |i| mask >> (i % 32) & 1 == 1);
        prop_assert_eq!(&whole, &mixed);
        let all_owned = decode_frames_as(&out, &points, |_| true);
        prop_assert_eq!(&whole, &all_owned);
        if junk.is_empty() {
            let decoded: Vec<(u8, Vec<u8>)> = frames.clone();
            prop_assert_eq!(&whole.0, &decoded);
            prop_assert!(whole.1.is_none());
        }
    }

    /// Shared decoding (large `Bytes` fields sliced from the payload) gives
    /// the values encoded, and on any bytes what slice decoding gives.
    #[test]
    fn shared_decoding_matches_copying(
        small in proptest::collection::vec(any::<u8>(), 0..64),
        big_len in 0usize..20_000,
        rest in proptest::collection::vec(0usize..6000, 0..4),
        noise in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let value = Blobs {
            small: bytes::Bytes::from(small),
            big: bytes::Bytes::from(vec![7u8; big_len]),
            rest: rest.iter().map(|&n| bytes::Bytes::from(vec![1u8; n])).collect(),
        };
        let payload = bytes::Bytes::from(xlang::to_bytes(&value));
        prop_assert_eq!(xlang::decode_shared::<Blobs>(&payload).unwrap(), value.clone());
        prop_assert_eq!(xlang::decode::<Blobs>(&payload).unwrap(), value);
        let junk = bytes::Bytes::from(noise);
        prop_assert_eq!(xlang::decode_shared::<Blobs>(&junk).ok(), xlang::decode::<Blobs>(&junk).ok());
    }

    #[test]
    fn xlang_round_trips(t in tree()) {
        let bytes = xlang::to_bytes(&t);
        prop_assert_eq!(xlang::decode::<Tree>(&bytes).unwrap(), t);
    }

    #[test]
    fn xlang_decoding_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = xlang::decode::<Tree>(&data);
        let _ = xlang::decode::<StreamHeader>(&data);
        let _ = xlang::peek_tag(&data);
    }

    #[test]
    fn xlang_mutations_never_panic(t in tree(), at in any::<usize>(), byte in any::<u8>()) {
        let mut bytes = xlang::to_bytes(&t).to_vec();
        let i = at % bytes.len();
        bytes[i] = byte;
        let _ = xlang::decode::<Tree>(&bytes);
        bytes.truncate(i);
        prop_assert!(xlang::decode::<Tree>(&bytes).is_err());
    }

    #[test]
    fn headers_round_trip_in_both_forms(h in header()) {
        for form in [MessageForm::Xlang, MessageForm::Json] {
            let bytes = h.encode(form);
            prop_assert_eq!(StreamHeader::decode(&bytes).unwrap(), (h.clone(), form));
        }
    }

    #[test]
    fn message_decoding_never_panics(data in proptest::collection::vec(any::<u8>(), 0..120)) {
        let _ = StreamHeader::decode(&data);
        let _ = CallHeader::decode(&data);
        let _ = RpcStatus::decode(&data);
        let mut json = b"{".to_vec();
        json.extend_from_slice(&data);
        let _ = StreamHeader::decode(&json);
    }

    #[test]
    fn server_stream_is_split_invariant(data in stream_bytes(), cuts in proptest::collection::vec(any::<usize>(), 0..12), fin in any::<bool>()) {
        let whole = drive_server(&data, &[0, data.len()], fin);
        let split = drive_server(&data, &split_points(data.len(), &cuts), fin);
        prop_assert_eq!(&whole, &split);
        // Every call that started reached at most one end.
        let aborted = whole.0.iter().filter(|e| e.starts_with("Aborted")).count();
        let calls = whole.0.iter().filter(|e| e.starts_with("Call(")).count();
        prop_assert!(aborted <= calls);
    }

    #[test]
    fn server_stream_never_panics_on_garbage(data in proptest::collection::vec(any::<u8>(), 0..300), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let whole = drive_server(&data, &[0, data.len()], true);
        let split = drive_server(&data, &split_points(data.len(), &cuts), true);
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn clients_never_panic(data in stream_bytes(), cuts in proptest::collection::vec(any::<usize>(), 0..8)) {
        let req = CallRequest {
            service: "E".into(),
            method: "u".into(),
            version: 1,
            pattern: Pattern::Bidi,
            mode: SerializationMode::Xlang,
            call_id: String::new(),
            deadline_epoch_ms: None,
            metadata: vec![],
        };
        let points = split_points(data.len(), &cuts);
        let mut call = ClientCall::new(&req);
        let mut session = ClientSession::new(&req);
        for w in points.windows(2) {
            call.handle_data(&data[w[0]..w[1]]);
            session.handle_data(&data[w[0]..w[1]]);
        }
        call.handle_fin();
        session.handle_fin();
        let dones = std::iter::from_fn(|| call.poll_event())
            .filter(|e| matches!(e, aster_proto::call::ClientEvent::Done(_)))
            .count();
        prop_assert_eq!(dones, 1);
    }
}
