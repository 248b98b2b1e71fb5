//! Micro benchmarks of the proto crate (single thread, in memory).

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aster_proto::call::{
    CallRequest, ClientCall, ClientEvent, MethodSpec, Pattern, Scope, ServerEvent, ServerStream,
    ServiceSpec, ServiceTable,
};
use aster_proto::codec::SerializationMode;
use aster_proto::frame::{Flags, FrameDecoder, encode_frame};
use aster_proto::message::{MessageForm, ProtocolMessage, RpcStatus, StreamHeader};
use aster_proto::{wire_struct, xlang};
use bytes::BytesMut;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct MetricPoint {
    name: String,
    value: f64,
    timestamp: f64,
    tags: BTreeMap<String, String>,
}
wire_struct!(MetricPoint, "mission/MetricPoint", {
    name: String => "name",
    value: f64 => "value",
    timestamp: f64 => "timestamp",
    tags: BTreeMap<String, String> => "tags",
});

/// Runs `f` repeatedly for about `budget`; returns nanoseconds per iteration.
fn time(label: &str, budget: Duration, mut f: impl FnMut()) -> f64 {
    for _ in 0..1000 {
        f();
    }
    let mut iters: u64 = 0;
    let start = Instant::now();
    while start.elapsed() < budget {
        for _ in 0..1000 {
            f();
        }
        iters += 1000;
    }
    let ns = start.elapsed().as_nanos() as f64 / iters as f64;
    println!("{label:<40} {ns:>10.1} ns/op {:>12.0} op/s", 1e9 / ns);
    ns
}

fn table() -> Arc<ServiceTable> {
    Arc::new(
        ServiceTable::new(vec![ServiceSpec {
            name: "MissionControl".into(),
            version: 1,
            scope: Scope::Shared,
            modes: vec![SerializationMode::Xlang],
            methods: vec![MethodSpec {
                name: "ingest".into(),
                pattern: Pattern::Unary,
            }],
        }])
        .expect("valid table"),
    )
}

pub fn run() -> serde_json::Value {
    let budget = Duration::from_millis(700);
    let point = MetricPoint {
        name: "cpu.load".into(),
        value: 0.75,
        timestamp: 1_712_764_800.5,
        tags: [("host".to_string(), "edge-7".to_string())].into(),
    };
    let header = StreamHeader {
        service: "MissionControl".into(),
        method: "ingest".into(),
        version: 1,
        ..Default::default()
    };
    let header_bytes = header.encode(MessageForm::Xlang);
    let payload = xlang::to_bytes(&point);
    let mut frame = BytesMut::new();
    encode_frame(Flags::NONE, &payload, &mut frame).expect("frame");
    let table = table();

    let mut out = BytesMut::with_capacity(4096);
    let frame_encode = time("frame encode (64 B payload)", budget, || {
        out.clear();
        encode_frame(Flags::NONE, black_box(&payload), &mut out).expect("frame");
    });
    let frame_decode = time("frame decode", budget, || {
        let mut d = FrameDecoder::new();
        d.push(black_box(&frame)).expect("push");
        black_box(d.next_frame().expect("frame"));
    });
    let header_encode = time("StreamHeader encode (XLANG)", budget, || {
        out.clear();
        header.encode_into(MessageForm::Xlang, &mut out);
    });
    let header_decode = time("StreamHeader decode (XLANG)", budget, || {
        black_box(StreamHeader::decode(black_box(&header_bytes)).expect("header"));
    });
    let trailer_encode = time("RpcStatus OK encode", budget, || {
        out.clear();
        RpcStatus::ok().encode_into(MessageForm::Xlang, &mut out);
    });
    let payload_encode = time("MetricPoint encode (XLANG)", budget, || {
        out.clear();
        xlang::encode_into(black_box(&point), &mut out);
    });
    let payload_decode = time("MetricPoint decode (XLANG)", budget, || {
        black_box(xlang::decode::<MetricPoint>(black_box(&payload)).expect("payload"));
    });
    let req = CallRequest {
        service: "MissionControl".into(),
        method: "ingest".into(),
        version: 1,
        pattern: Pattern::Unary,
        mode: SerializationMode::Xlang,
        call_id: String::new(),
        deadline_epoch_ms: None,
        metadata: vec![],
    };
    let unary = time("unary call, both sides, in memory", budget, || {
        let mut client = ClientCall::new(&req);
        client.send_message(&point).expect("send");
        let mut server = ServerStream::new(table.clone());
        while let Some(t) = client.poll_transmit() {
            server.handle_data(&t.data, 0);
        }
        while let Some(ev) = server.poll_event() {
            if let ServerEvent::Request { id, payload } = ev {
                let p: MetricPoint = xlang::decode(&payload).expect("request");
                server.send_message(id, &p).expect("respond");
                server.complete(id, Ok(())).expect("complete");
            }
        }
        while let Some(t) = server.poll_transmit() {
            client.handle_data(&t.data);
        }
        while let Some(ev) = client.poll_event() {
            if let ClientEvent::Response(p) = ev {
                black_box(xlang::decode::<MetricPoint>(&p).expect("response"));
            }
        }
    });
    serde_json::json!({
        "proto_frame_encode_ns": frame_encode,
        "proto_frame_decode_ns": frame_decode,
        "proto_header_encode_ns": header_encode,
        "proto_header_decode_ns": header_decode,
        "proto_trailer_encode_ns": trailer_encode,
        "proto_payload_encode_ns": payload_encode,
        "proto_payload_decode_ns": payload_decode,
        "proto_unary_call_ns": unary,
    })
}
