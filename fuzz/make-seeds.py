#!/usr/bin/env python3
"""Builds seed corpora for the fuzz targets from the committed golden vectors.

Usage: fuzz/make-seeds.py [OUT_DIR]   (default: fuzz/corpus)
Writes OUT_DIR/<target>/<n>.bin. Standard library only.
"""
import json
import pathlib
import struct
import sys

root = pathlib.Path(__file__).resolve().parent.parent
vectors = root / "conformance" / "vectors"
out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root / "fuzz" / "corpus"


def load(name):
    return json.loads((vectors / name).read_text())


def frame(flags, payload):
    return struct.pack("<IB", len(payload) + 1, flags) + payload


seeds = {t: [] for t in ["frame_decoder", "protocol_messages", "ticket", "server_stream", "xlang_payload", "contract_bundle"]}

framing = load("framing.json")
for v in framing["encode_vectors"]:
    wire = bytes.fromhex(v["expected_wire_hex"])
    for chunk in (1, 3, 255):
        seeds["frame_decoder"].append(bytes([chunk]) + wire)
for v in framing["decode_vectors"] + [v for v in framing["error_vectors"] if "wire_hex" in v]:
    seeds["frame_decoder"].append(b"\x07" + bytes.fromhex(v["wire_hex"]))

payloads = load("protocol-payloads.json")
headers = []
for v in payloads["vectors"]:
    x = bytes.fromhex(v["xlang_hex"])
    j = v["json_utf8"].encode()
    seeds["protocol_messages"] += [x, j]
    if v["type"] == "StreamHeader":
        headers.append(x)

types = load("xlang-types.json")
bodies = [bytes.fromhex(v["xlang_hex"]) for v in types["vectors"]]
seeds["xlang_payload"] += bodies

call = [bytes.fromhex(v["xlang_hex"]) for v in payloads["vectors"] if v["type"] == "CallHeader"]
trailers = [bytes.fromhex(v["xlang_hex"]) for v in payloads["vectors"] if v["type"] == "RpcStatus"]
for i, h in enumerate(headers):
    body = bodies[i % len(bodies)]
    stream = frame(0x04, h) + frame(0x00, body) + frame(0x02, trailers[i % len(trailers)])
    if call:
        stream += frame(0x10, call[i % len(call)]) + frame(0x20, b"")
    seeds["server_stream"] += [b"\x01" + stream, b"\x40" + stream]

# Ticket examples from the reference's documentation and fact sheet.
seeds["ticket"] += [
    b"aster14TudWqdmQLgjyczpq19BnP8f4FNF68bp8YBvGa51GFEqi5rnPWYAfhbTVA3SvNXfNeoaQJVTC",
    b"aster11JNArUumxYJcSQpbuxuroRZtcSMVLcy5WbYGt14SRkz2j",
    bytes(range(32)) + bytes.fromhex("100003 0020") + b"\xaa" * 32,
    bytes(range(32)) + bytes.fromhex("1457fe008801bb2010c0a8010a1388") + bytes(15) + bytes.fromhex("011b58"),
]

# Contract bundles: `flags · (u16 LE length · bytes)*` = contract, types..., payload.
def segments(*parts):
    return b"".join(struct.pack("<H", len(p)) + p for p in parts)


identity = load("contract-identity.json")
typedefs = [bytes.fromhex(v["expected_canonical_hex"]) for v in identity["type_vectors"]]
for i, v in enumerate(identity["golden_vectors"]):
    contract = bytes.fromhex(v["expected_canonical_hex"])
    payload = bodies[i % len(bodies)]
    seeds["contract_bundle"] += [
        b"\x00" + segments(contract, *typedefs[:4], payload),
        b"\x01" + segments(contract, *typedefs[i % len(typedefs):][:2], payload),
    ]

for target, items in seeds.items():
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    for n, data in enumerate(items):
        (d / f"seed-{n:04}.bin").write_bytes(data)
    print(f"{target}: {len(items)} seeds")
