#!/usr/bin/env python3
"""Generate the golden conformance vectors from the Python reference.

Usage (from the repository root):

    $(scripts/reference-venv.sh | tail -1) conformance/generate/generate.py [OUT_DIR]

OUT_DIR defaults to conformance/vectors. Every byte written to the vector
files is produced by the reference package itself (aster-rpc 0.1.2 with
pyfory 0.16.0): frames by ``aster.framing.write_frame``/``read_frame``,
protocol payloads by ``aster.codec.ForyCodec`` (XLANG) and
``aster.json_codec.json_encode``, contract bytes by
``aster.contract.identity.canonical_xlang_bytes`` (which hands the contract to
the native core) and hashes by ``aster.contract.identity.compute_type_hash``.
Nothing here writes hex by hand. Every vector is decoded back with the
reference and compared; any mismatch or exception aborts the run.

The output is deterministic: no clocks, no random ids, fixed input order.
"""

import sys

sys.dont_write_bytecode = True  # keep conformance/generate/ free of __pycache__

import asyncio
import dataclasses
import enum
import json
import math
import re
import struct
import typing
import unicodedata
import warnings
from collections.abc import AsyncIterator
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Optional

import blake3
import pyfory
from pyfory.meta.metastring import Encoding as MetaEncoding
from pyfory.meta.metastring import MetaStringEncoder

from aster import framing
from aster.codec import ForyCodec, wire_type
from aster.contract import identity as ci
from aster.decorators import bidi_stream, client_stream, rpc, server_stream, service
from aster.json_codec import json_decode, json_encode
from aster.protocol import CallHeader, RpcStatus, StreamHeader
from aster.rpc_types import SerializationMode

import xlang_types as xt

SCRIPT = "conformance/generate/generate.py"
ASTER_RPC_VERSION = "0.1.2"
PYFORY_VERSION = "0.16.0"
REPO_ROOT = Path(__file__).resolve().parents[2]


class GenerationError(Exception):
    """A reference result did not match what the generator expected."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise GenerationError(message)


def check_environment() -> None:
    aster_version = importlib_metadata.version("aster-rpc")
    check(aster_version == ASTER_RPC_VERSION, f"aster-rpc {aster_version} != {ASTER_RPC_VERSION}")
    check(pyfory.__version__ == PYFORY_VERSION, f"pyfory {pyfory.__version__} != {PYFORY_VERSION}")


def write_json(out_dir: Path, file_name: str, document: dict) -> int:
    text = json.dumps(document, indent=2, ensure_ascii=True, allow_nan=False) + "\n"
    (out_dir / file_name).write_text(text, encoding="utf-8")
    return len(text)


def pattern_bytes(n: int) -> bytes:
    """Deterministic filler payload: 0, 1, ..., 250, 0, 1, ..."""
    return bytes(i % 251 for i in range(n))


# ===========================================================================
# 1. framing.json
# ===========================================================================

FLAG_BITS = [
    ("COMPRESSED", framing.COMPRESSED),
    ("TRAILER", framing.TRAILER),
    ("HEADER", framing.HEADER),
    ("ROW_SCHEMA", framing.ROW_SCHEMA),
    ("CALL", framing.CALL),
    ("CANCEL", framing.CANCEL),
]
ALL_G1_FLAGS = 0
for _, _bit in FLAG_BITS:
    ALL_G1_FLAGS |= _bit

# error label -> regular expression the reference's FramingError text must match
FRAMING_ERRORS = {
    "zero-length frame": r"received zero-length frame",
    "zero-length payload is not permitted": r"zero-length payload is not permitted",
    "frame size exceeds maximum": r"frame size \d+ exceeds maximum 16777216",
    "incomplete frame": r"incomplete frame: expected \d+ bytes, got \d+",
}


class MemorySendStream:
    """In-memory stand-in for the QUIC send stream (only write_all is used)."""

    def __init__(self) -> None:
        self.data = bytearray()

    async def write_all(self, data: bytes) -> None:
        self.data += data


class MemoryRecvStream:
    """In-memory receive stream; read_exact returns fewer bytes at end of data,
    which is how read_frame detects a truncated body."""

    def __init__(self, data: bytes) -> None:
        self.data = bytes(data)
        self.pos = 0

    async def read_exact(self, n: int) -> bytes:
        chunk = self.data[self.pos:self.pos + n]
        self.pos += len(chunk)
        return chunk


def flag_names(flags: int) -> str:
    names = [name for name, bit in FLAG_BITS if flags & bit]
    return "|".join(names) if names else "none"


def ref_encode_frame(payload: bytes, flags: int) -> bytes:
    stream = MemorySendStream()
    asyncio.run(framing.write_frame(stream, payload, flags))
    return bytes(stream.data)


def ref_decode_frame(wire: bytes) -> tuple[bytes, int, int]:
    """Returns (payload, flags, bytes consumed); raises FramingError."""
    stream = MemoryRecvStream(wire)
    result = asyncio.run(framing.read_frame(stream))
    check(result is not None, f"read_frame returned end-of-stream for {wire.hex()}")
    payload, flags = result
    return bytes(payload), flags, stream.pos


def framing_error_label(message: str) -> str:
    for label, pattern in FRAMING_ERRORS.items():
        if re.fullmatch(pattern, message):
            return label
    raise GenerationError(f"unclassified FramingError: {message!r}")


def expect_framing_error(label: str, action) -> str:
    try:
        action()
    except framing.FramingError as exc:
        got = framing_error_label(str(exc))
        check(got == label, f"expected error {label!r}, reference said {str(exc)!r}")
        return str(exc)
    raise GenerationError(f"expected FramingError {label!r}, reference accepted the input")


# The reference file's vectors, same names and inputs.
REFERENCE_ENCODE_CASES = [
    ("simple payload no flags", b"Hello", 0),
    ("empty payload with TRAILER flag", b"", framing.TRAILER),
    ("empty payload with CANCEL flag", b"", framing.CANCEL),
    ("payload with HEADER flag", bytes.fromhex("deadbeef"), framing.HEADER),
    ("payload with COMPRESSED flag", bytes.fromhex("aabbccdd"), framing.COMPRESSED),
    ("payload with HEADER|COMPRESSED flags", bytes(range(1, 9)), framing.HEADER | framing.COMPRESSED),
    ("single byte payload", b"\xff", 0),
    ("CALL flag with payload", bytes.fromhex("cafe"), framing.CALL),
    ("TRAILER with payload", b"\x00", framing.TRAILER),
]
REFERENCE_DECODE_CASES = [
    ("simple decode", "060000000048656c6c6f"),
    ("decode HEADER frame", "0500000004deadbeef"),
    ("decode empty TRAILER", "0100000002"),
]


def realistic_frame_cases() -> list[tuple[str, bytes, int]]:
    """Frames carrying real reference payloads (what a G1 peer writes)."""
    codec = ForyCodec(SerializationMode.XLANG, types=[xt.EchoRequest, xt.EchoResponse])
    header = StreamHeader(service="Echo", method="echo", version=1, callId="",
                          deadlineEpochMs=0, serializationMode=0)
    json_header = dataclasses.replace(header, serializationMode=SerializationMode.JSON.value)
    call = CallHeader(method="add", callId="00000000-0000-4000-8000-000000000001")
    big_request, compressed = codec.encode_compressed(xt.EchoRequest(message="x" * 5000))
    check(compressed, "5000-char request was expected to be compressed")
    check(codec.decode_compressed(big_request, True) == xt.EchoRequest(message="x" * 5000),
          "compressed request does not round-trip")
    return [
        ("HEADER frame: XLANG StreamHeader Echo.echo", codec.encode(header), framing.HEADER),
        ("HEADER frame: JSON StreamHeader Echo.echo", json_encode(json_header), framing.HEADER),
        ("DATA frame: EchoRequest 'Hello, World!'", codec.encode(xt.EchoRequest("Hello, World!")), 0),
        ("DATA frame: EchoResponse 'Hello, World!'", codec.encode(xt.EchoResponse("Hello, World!")), 0),
        ("TRAILER frame: XLANG RpcStatus OK", codec.encode(RpcStatus()), framing.TRAILER),
        ("TRAILER frame: JSON RpcStatus OK", json_encode(RpcStatus()), framing.TRAILER),
        ("CALL frame: XLANG CallHeader", codec.encode(call), framing.CALL),
        ("COMPRESSED DATA frame: zstd of a 5000-char EchoRequest", big_request, framing.COMPRESSED),
    ]


def frame_note(payload: bytes, flags: int) -> str:
    return (f"length = {len(payload)} (payload) + 1 (flags) = {len(payload) + 1}; "
            f"flags 0x{flags:02x} = {flag_names(flags)}")


def build_framing() -> dict:
    encode_cases: list[tuple[str, bytes, int]] = list(REFERENCE_ENCODE_CASES)
    for flags in range(ALL_G1_FLAGS + 1):
        encode_cases.append((f"2-byte payload, flags 0x{flags:02x} ({flag_names(flags)})",
                             bytes([0xA5, flags]), flags))
    encode_errors: list[tuple[str, int]] = []
    for flags in range(ALL_G1_FLAGS + 1):
        if flags & (framing.TRAILER | framing.CANCEL):
            encode_cases.append((f"empty payload, flags 0x{flags:02x} ({flag_names(flags)})", b"", flags))
        elif flags != 0:  # flags 0 is the reference file's own error vector
            encode_errors.append((f"empty payload rejected, flags 0x{flags:02x} ({flag_names(flags)})", flags))
    for size in (2, 126, 127, 128, 254, 255, 256, 1023, 4100):
        encode_cases.append((f"{size}-byte payload", pattern_bytes(size), 0))
    encode_cases.extend(realistic_frame_cases())

    encode_vectors = []
    decode_vectors = []
    for name, payload, flags in encode_cases:
        wire = ref_encode_frame(payload, flags)
        check(wire[:4] == struct.pack("<I", len(payload) + 1), f"{name}: length prefix")
        decoded, decoded_flags, consumed = ref_decode_frame(wire)
        check((decoded, decoded_flags, consumed) == (payload, flags, len(wire)), f"{name}: round trip")
        encode_vectors.append({
            "name": name,
            "payload_hex": payload.hex(),
            "flags": flags,
            "expected_wire_hex": wire.hex(),
            "note": frame_note(payload, flags),
        })

    decode_cases = [(name, bytes.fromhex(h)) for name, h in REFERENCE_DECODE_CASES]
    for vector in encode_vectors:
        decode_cases.append((f"decode: {vector['name']}", bytes.fromhex(vector["expected_wire_hex"])))
    for flags in (0, framing.COMPRESSED, framing.HEADER, framing.ROW_SCHEMA, framing.CALL):
        # The encoder refuses these, the decoder does not check (wire.md 2.3).
        wire = struct.pack("<I", 1) + bytes([flags])
        decode_cases.append((f"decoder accepts empty payload with flags 0x{flags:02x} ({flag_names(flags)})", wire))
    for name, wire in decode_cases:
        payload, flags, consumed = ref_decode_frame(wire)
        check(consumed == len(wire), f"{name}: trailing bytes")
        decode_vectors.append({
            "name": name,
            "wire_hex": wire.hex(),
            "expected_payload_hex": payload.hex(),
            "expected_flags": flags,
        })

    error_vectors = []

    def wire_error(name: str, wire: bytes, label: str) -> None:
        expect_framing_error(label, lambda: ref_decode_frame(wire))
        error_vectors.append({"name": name, "wire_hex": wire.hex(), "error": label})

    def encode_error(name: str, payload: bytes, flags: int, label: str) -> None:
        expect_framing_error(label, lambda: ref_encode_frame(payload, flags))
        error_vectors.append({"name": name, "payload_hex": payload.hex(), "flags": flags, "error": label})

    def length_error(name: str, value: int, description: str, label: str) -> None:
        # Only the 4-byte prefix is supplied: the check must fire before any body read.
        expect_framing_error(label, lambda: ref_decode_frame(struct.pack("<I", value)))
        error_vectors.append({"name": name, "description": description,
                              "wire_length_value": value, "error": label})

    # Reference file's three cases first.
    wire_error("zero length frame", bytes(4), "zero-length frame")
    encode_error("empty payload without TRAILER or CANCEL", b"", 0, "zero-length payload is not permitted")
    length_error("frame exceeds max size", framing.MAX_FRAME_SIZE + 1,
                 "A frame with length > 16 MiB must be rejected", "frame size exceeds maximum")
    for name, flags in encode_errors:
        encode_error(name, b"", flags, "zero-length payload is not permitted")
    length_error("length value 0", 0,
                 "Length 0 (not even a flags byte) is rejected before reading further",
                 "zero-length frame")
    length_error("length value 0xffffffff", 0xFFFFFFFF,
                 "Maximum u32 length is rejected without reading the body", "frame size exceeds maximum")
    length_error("length value 32 MiB", 2 * framing.MAX_FRAME_SIZE,
                 "Twice the maximum is rejected without reading the body", "frame size exceeds maximum")
    wire_error("zero length followed by more bytes", bytes.fromhex("0000000004deadbeef"), "zero-length frame")
    wire_error("oversize length with one body byte", struct.pack("<I", framing.MAX_FRAME_SIZE + 1) + b"\x00",
               "frame size exceeds maximum")
    wire_error("truncated body: 2 of 5 bytes", bytes.fromhex("0500000004dead"), "incomplete frame")
    wire_error("truncated body: length prefix only", bytes.fromhex("05000000"), "incomplete frame")
    wire_error("truncated body: flags byte only", bytes.fromhex("0600000000"), "incomplete frame")
    wire_error("truncated body: one byte missing", bytes.fromhex("060000000048656c6c"), "incomplete frame")
    wire_error("max-size length accepted, body truncated",
               struct.pack("<I", framing.MAX_FRAME_SIZE) + b"\x00", "incomplete frame")

    # Large-size behaviour checked here but too big to store as vectors.
    limit_payload = bytes(framing.MAX_FRAME_SIZE - 1)
    check(len(ref_encode_frame(limit_payload, 0)) == framing.MAX_FRAME_SIZE + 4,
          "payload of MAX_FRAME_SIZE-1 bytes must be accepted")
    expect_framing_error("frame size exceeds maximum",
                         lambda: ref_encode_frame(limit_payload + b"\x00", 0))
    # Short length prefix: the reference reports a clean end of stream, not an error.
    for partial in (b"", b"\x05", b"\x05\x00\x00"):
        check(asyncio.run(framing.read_frame(MemoryRecvStream(partial))) is None,
              "short length prefix should read as end of stream")

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": (
            "Aster stream framing vectors (G1 wire, aster-rpc 0.1.2). A frame is a little-endian u32 "
            "length L = 1 + len(payload), one flags byte, then the payload. Every expected byte was "
            "produced by aster.framing.write_frame and read back with aster.framing.read_frame. "
            f"Generated by {SCRIPT}."
        ),
        "format": {
            "length_bytes": 4,
            "length_encoding": "little-endian u32",
            "flags_bytes": 1,
            "max_frame_size": framing.MAX_FRAME_SIZE,
        },
        "flag_definitions": {name: f"0x{bit:02x}" for name, bit in FLAG_BITS},
        "encode_vectors": encode_vectors,
        "decode_vectors": decode_vectors,
        "error_vectors": error_vectors,
    }


# ===========================================================================
# 2. protocol-payloads.json
# ===========================================================================

UUID_A = "6f2c9a1e-4b7d-4e3a-9c51-0d8e2f7a1b36"
UUID_B = "00000000-0000-4000-8000-000000000001"


def metadata_pairs(n: int) -> tuple[list[str], list[str]]:
    return [f"k{i:02d}" for i in range(n)], [f"value-{i:02d}" for i in range(n)]


def protocol_cases() -> list[tuple[str, Any]]:
    sh = StreamHeader
    ch = CallHeader
    st = RpcStatus
    keys64, values64 = metadata_pairs(64)
    keys3, values3 = metadata_pairs(3)
    return [
        # --- the reference file's vectors (same names and inputs) ---
        ("StreamHeader: basic unary",
         sh("Echo", "echo", 1, "test-call-1", 0, 0, [], [])),
        ("StreamHeader: session opening (method empty)",
         sh("AgentSession", "", 1, "session-001", 0, 0, [], [])),
        ("StreamHeader: JSON mode with metadata",
         sh("MissionControl", "getStatus", 2, "mc-42", 1712764800000, 3, ["aster.role"], ["ops.status"])),
        ("CallHeader: basic session call",
         ch("echo", "call-001", 0, [], [])),
        ("CallHeader: with deadline and metadata",
         ch("increment", "call-002", 1712764801000, ["trace-id"], ["abc123"])),
        ("RpcStatus: OK (success trailer)", st(0, "", [], [])),
        ("RpcStatus: NOT_FOUND error", st(5, "service Echo not found", [], [])),
        ("RpcStatus: CANCELLED", st(1, "cancelled", [], [])),
        ("RpcStatus: DEADLINE_EXCEEDED", st(4, "deadline exceeded", [], [])),
        ("RpcStatus: PERMISSION_DENIED with details",
         st(7, "missing role: admin", ["required_role"], ["admin"])),
        # --- StreamHeader extras ---
        ("StreamHeader: all defaults", sh()),
        ("StreamHeader: what the Python client sends for a unary call",
         sh("Echo", "echo", 1, "", 0, 0, [], [])),
        ("StreamHeader: JSON proxy unary call", sh("Echo", "echo", 1, "", 0, 3, [], [])),
        ("StreamHeader: server stream with uuid callId", sh("Counter", "count_up", 1, UUID_A, 0, 0, [], [])),
        ("StreamHeader: session open with real version and uuid", sh("Tally", "", 3, UUID_B, 0, 0, [], [])),
        ("StreamHeader: NATIVE mode (1)", sh("Echo", "echo", 1, "", 0, 1, [], [])),
        ("StreamHeader: ROW mode (2)", sh("Echo", "echo", 1, "", 0, 2, [], [])),
        ("StreamHeader: deadline 1712764800000", sh("Echo", "echo", 1, "", 1712764800000, 0, [], [])),
        ("StreamHeader: deadline 2^53", sh("Echo", "echo", 1, "", 2**53, 0, [], [])),
        ("StreamHeader: deadline int64 max", sh("Echo", "echo", 1, "", 2**63 - 1, 0, [], [])),
        ("StreamHeader: negative deadline -1", sh("Echo", "echo", 1, "", -1, 0, [], [])),
        ("StreamHeader: version beyond int32 (Python int is varint64)", sh("Echo", "echo", 2**31, "", 0, 0, [], [])),
        ("StreamHeader: Latin-1 service name", sh("Caf\u00e9", "echo", 1, "", 0, 0, [], [])),
        ("StreamHeader: Latin-1 upper half (\u00ff)", sh("\u00ff\u00e0\u00b5", "echo", 1, "", 0, 0, [], [])),
        ("StreamHeader: CJK method name", sh("Echo", "\u3053\u3093\u306b\u3061\u306f", 1, "", 0, 0, [], [])),
        ("StreamHeader: mixed ASCII and CJK", sh("a\u3042", "echo\u00e9\u3042", 1, "", 0, 0, [], [])),
        ("StreamHeader: emoji metadata value",
         sh("Echo", "echo", 1, "", 0, 0, ["mood"], ["\U0001F600"])),
        ("StreamHeader: ASCII+emoji, Latin-1 and CJK metadata",
         sh("Echo", "echo", 1, "", 0, 0, ["r\u00f4le", "\u540d\u524d", "note"],
            ["op\u00e9rateur", "\u5c71\u7530", "a\U0001F680b"])),
        ("StreamHeader: three metadata entries", sh("Echo", "echo", 1, "", 0, 0, keys3, values3)),
        ("StreamHeader: 64 metadata entries (the limit)", sh("Echo", "echo", 1, "", 0, 0, keys64, values64)),
        ("StreamHeader: empty metadata key and value", sh("Echo", "echo", 1, "", 0, 0, [""], [""])),
        ("StreamHeader: long service name (40 chars)", sh("S" * 40, "m" * 33, 1, "", 0, 0, [], [])),
        # --- CallHeader extras ---
        ("CallHeader: all defaults", ch()),
        ("CallHeader: uuid callId (what the Python session client sends)", ch("add", UUID_B, 0, [], [])),
        ("CallHeader: non-ASCII method", ch("\u8ba1\u6570", UUID_A, 0, [], [])),
        ("CallHeader: deadline 2^53 and emoji metadata",
         ch("watch", "c-1", 2**53, ["emoji", "latin"], ["\U0001F389", "na\u00efve"])),
        ("CallHeader: 64 metadata entries", ch("bulk", "c-64", 0, keys64, values64)),
        # --- RpcStatus extras ---
        ("RpcStatus: UNIMPLEMENTED unknown method", st(12, "Method 'Echo.nope' not implemented", [], [])),
        ("RpcStatus: CONTRACT_VIOLATION (101)",
         st(101, "contract violation at EchoRequest: unexpected JSON field(s) ['bogus'] (expected: ['message'])",
            [], [])),
        ("RpcStatus: UNAUTHENTICATED (16)", st(16, "unauthenticated", [], [])),
        ("RpcStatus: negative code -1", st(-1, "negative", [], [])),
        ("RpcStatus: code 2^31", st(2**31, "", [], [])),
        ("RpcStatus: message 31 chars", st(2, "m" * 31, [], [])),
        ("RpcStatus: message 32 chars (2-byte string header)", st(2, "m" * 32, [], [])),
        ("RpcStatus: message 200 chars", st(13, pattern_text(200), [], [])),
        ("RpcStatus: message 4095 chars", st(13, "e" * 4095, [], [])),
        ("RpcStatus: message 4096 chars (3-byte string header)", st(13, "e" * 4096, [], [])),
        ("RpcStatus: message 20000 chars", st(13, pattern_text(20000), [], [])),
        ("RpcStatus: Latin-1 message", st(3, "param\u00e8tre invalide", [], [])),
        ("RpcStatus: CJK message", st(3, "\u53c2\u6570\u9519\u8bef", [], [])),
        ("RpcStatus: emoji message", st(2, "boom \U0001F4A5", [], [])),
        ("RpcStatus: several details",
         st(9, "precondition failed", ["resource", "expected", "actual"], ["order/17", "OPEN", "CLOSED"])),
        ("RpcStatus: non-ASCII details",
         st(6, "exists", ["cl\u00e9", "\u30ad\u30fc"], ["\u00e9t\u00e9", "\U0001F511"])),
        ("RpcStatus: detail lists of different lengths", st(2, "odd", ["a", "b"], ["1"])),
    ]


def pattern_text(n: int) -> str:
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 "
    return "".join(alphabet[i % len(alphabet)] for i in range(n))


def build_protocol_payloads() -> dict:
    codec = ForyCodec(SerializationMode.XLANG)
    vectors = []
    for name, obj in protocol_cases():
        type_name = type(obj).__name__
        check(name.startswith(type_name + ":"), f"{name}: type prefix")
        xlang = codec.encode(obj)
        check(ForyCodec(SerializationMode.XLANG).encode(obj) == xlang, f"{name}: codec-independent bytes")
        check(codec.encode(obj) == xlang, f"{name}: repeatable bytes")
        check(codec.decode(xlang, type(obj)) == obj, f"{name}: XLANG round trip")
        json_bytes = json_encode(obj)
        check(json_decode(json_bytes, type(obj)) == obj, f"{name}: JSON round trip")
        check(json_bytes[:1] == b"{" and xlang[:2] == b"\x02\xff", f"{name}: first bytes")
        vectors.append({
            "name": name,
            "type": type_name,
            "input": dataclasses.asdict(obj),
            "xlang_hex": xlang.hex(),
            "xlang_length": len(xlang),
            "json_utf8": json_bytes.decode("utf-8"),
            "json_length": len(json_bytes),
        })
    return {
        "description": (
            "Aster protocol payload vectors (G1 wire, aster-rpc 0.1.2 / pyfory 0.16.0): the payloads of "
            "HEADER (StreamHeader), CALL (CallHeader) and TRAILER (RpcStatus) frames, without the frame "
            "envelope. xlang_hex is aster.codec.ForyCodec(SerializationMode.XLANG).encode(obj); json_utf8 "
            "is aster.json_codec.json_encode(obj) (compact separators, keys in field order, non-ASCII "
            f"escaped as \\uXXXX). Generated by {SCRIPT}."
        ),
        "note": (
            "Input field names are the G1 dataclass names (camelCase). Python int fields are zigzag "
            "varint64 in XLANG; strings use Latin-1, UTF-16LE or UTF-8 depending on content. Both "
            "encodings were decoded back with the reference and compared."
        ),
        "vectors": vectors,
    }


# ===========================================================================
# 3. contract-identity.json
# ===========================================================================

ZERO_HASH = bytes(32)


def cap_to_json(req: Optional[ci.CapabilityRequirement]) -> Optional[dict]:
    if req is None:
        return None
    return {"kind": int(req.kind), "roles": list(req.roles)}


def cap_from_json(d: Optional[dict]) -> Optional[ci.CapabilityRequirement]:
    if d is None:
        return None
    return ci.CapabilityRequirement(kind=ci.CapabilityKind(d["kind"]), roles=list(d["roles"]))


def method_to_json(m: ci.MethodDef) -> dict:
    return {
        "name": m.name,
        "pattern": int(m.pattern),
        "request_type": m.request_type.hex(),
        "response_type": m.response_type.hex(),
        "idempotent": m.idempotent,
        "default_timeout": float(m.default_timeout),
        "requires": cap_to_json(m.requires),
    }


def contract_to_json(c: ci.ServiceContract) -> dict:
    return {
        "name": c.name,
        "version": c.version,
        "scoped": int(c.scoped),
        "methods": [method_to_json(m) for m in c.methods],
        "serialization_modes": list(c.serialization_modes),
        "requires": cap_to_json(c.requires),
    }


def contract_from_json(d: dict) -> ci.ServiceContract:
    return ci.ServiceContract(
        name=d["name"],
        version=d["version"],
        methods=[
            ci.MethodDef(
                name=m["name"],
                pattern=ci.MethodPattern(m["pattern"]),
                request_type=bytes.fromhex(m["request_type"]),
                response_type=bytes.fromhex(m["response_type"]),
                idempotent=m["idempotent"],
                default_timeout=m["default_timeout"],
                requires=cap_from_json(m["requires"]),
            )
            for m in d["methods"]
        ],
        serialization_modes=list(d["serialization_modes"]),
        scoped=ci.ScopeKind(d["scoped"]),
        requires=cap_from_json(d["requires"]),
    )


def field_to_json(f: ci.FieldDef) -> dict:
    return {
        "id": f.id,
        "name": f.name,
        "type_kind": int(f.type_kind),
        "type_primitive": f.type_primitive,
        "type_ref": f.type_ref.hex(),
        "self_ref_name": f.self_ref_name,
        "optional": f.optional,
        "ref_tracked": f.ref_tracked,
        "container": int(f.container),
        "container_key_kind": int(f.container_key_kind),
        "container_key_primitive": f.container_key_primitive,
        "container_key_ref": f.container_key_ref.hex(),
    }


def typedef_to_json(t: ci.TypeDef) -> dict:
    return {
        "kind": int(t.kind),
        "package": t.package,
        "name": t.name,
        "fields": [field_to_json(f) for f in t.fields],
        "enum_values": [{"name": v.name, "value": v.value} for v in t.enum_values],
        "union_variants": [{"name": v.name, "id": v.id, "type_ref": v.type_ref.hex()} for v in t.union_variants],
    }


def typedef_from_json(d: dict) -> ci.TypeDef:
    return ci.TypeDef(
        kind=ci.TypeDefKind(d["kind"]),
        package=d["package"],
        name=d["name"],
        fields=[
            ci.FieldDef(
                id=f["id"],
                name=f["name"],
                type_kind=ci.TypeKind(f["type_kind"]),
                type_primitive=f["type_primitive"],
                type_ref=bytes.fromhex(f["type_ref"]),
                self_ref_name=f["self_ref_name"],
                optional=f["optional"],
                ref_tracked=f["ref_tracked"],
                container=ci.ContainerKind(f["container"]),
                container_key_kind=ci.TypeKind(f["container_key_kind"]),
                container_key_primitive=f["container_key_primitive"],
                container_key_ref=bytes.fromhex(f["container_key_ref"]),
            )
            for f in d["fields"]
        ],
        enum_values=[ci.EnumValueDef(name=v["name"], value=v["value"]) for v in d["enum_values"]],
        union_variants=[ci.UnionVariantDef(name=v["name"], id=v["id"], type_ref=bytes.fromhex(v["type_ref"]))
                        for v in d["union_variants"]],
    )


def canonical_and_hash(obj: Any) -> tuple[bytes, str]:
    data = ci.canonical_xlang_bytes(obj)
    digest = ci.compute_type_hash(data).hex()
    check(digest == blake3.blake3(data).hexdigest(), "reference BLAKE3 differs from the blake3 package")
    if isinstance(obj, ci.ServiceContract):
        check(ci.compute_contract_id(data) == digest, "compute_contract_id differs from compute_type_hash")
    return data, digest


# --- services declared with the reference decorators (pipeline vectors) ---

@service(name="Echo", version=1)
class EchoService:
    @rpc
    async def echo(self, req: xt.EchoRequest) -> xt.EchoResponse:
        return xt.EchoResponse(reply=req.message)


@service(name="Counter", version=1)
class CounterService:
    @server_stream
    async def count_up(self, req: xt.CountRequest) -> AsyncIterator[xt.CountItem]:
        yield xt.CountItem(value=1)


@service(name="MissionControl", version=1)
class MissionControlService:
    @rpc()
    async def getStatus(self, req: xt.StatusRequest) -> xt.StatusResponse:
        return xt.StatusResponse()

    @rpc()
    async def submitLog(self, entry: xt.LogEntry) -> xt.SubmitLogResult:
        return xt.SubmitLogResult()

    @server_stream()
    async def tailLogs(self, req: xt.TailRequest) -> AsyncIterator[xt.LogEntry]:
        yield xt.LogEntry()

    @client_stream()
    async def ingestMetrics(self, stream: AsyncIterator[xt.MetricPoint]) -> xt.IngestResult:
        return xt.IngestResult()


@service(name="AgentSession", version=1, scoped="session")
class AgentSessionService:
    def __init__(self, peer: Optional[str] = None) -> None:
        self.peer = peer

    @rpc()
    async def register(self, hb: xt.Heartbeat) -> xt.Assignment:
        return xt.Assignment()

    @rpc()
    async def heartbeat(self, hb: xt.Heartbeat) -> xt.Assignment:
        return xt.Assignment()

    @bidi_stream()
    async def runCommand(self, commands: AsyncIterator[xt.Command]) -> AsyncIterator[xt.CommandResult]:
        yield xt.CommandResult()


@service(name="Ledger", version=7,
         serialization=[SerializationMode.XLANG, SerializationMode.JSON])
class LedgerService:
    @rpc(timeout=2.5, idempotent=True)
    async def balance(self, req: xt.StatusRequest) -> xt.StatusResponse:
        return xt.StatusResponse()

    @rpc(timeout=30.0)
    async def post(self, req: xt.LogEntry) -> xt.SubmitLogResult:
        return xt.SubmitLogResult()




def pipeline_typedefs(root_types: list[type]) -> dict[str, ci.TypeDef]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ci.resolve_with_cycles(ci.build_type_graph(root_types))


def pipeline_contract(service_cls: type) -> ci.ServiceContract:
    """ServiceContract exactly as contract_id_from_service builds it."""
    info = service_cls.__aster_service_info__
    roots = [t for m in info.methods.values() for t in (m.request_type, m.response_type) if isinstance(t, type)]
    type_defs = pipeline_typedefs(roots)
    hashes = {fqn: ci.compute_type_hash(ci.canonical_xlang_bytes(td)) for fqn, td in type_defs.items()}
    contract = ci.ServiceContract.from_service_info(info, hashes)
    check(ci.compute_contract_id(ci.canonical_xlang_bytes(contract)) == ci.contract_id_from_service(service_cls),
          f"{service_cls.__name__}: pipeline contract id mismatch")
    return contract


def type_hash(cls: type) -> bytes:
    fqn = f"{cls.__module__}.{cls.__qualname__}"
    td = pipeline_typedefs([cls])[fqn]
    return ci.compute_type_hash(ci.canonical_xlang_bytes(td))


def method(name, pattern, req=ZERO_HASH, resp=ZERO_HASH, idempotent=False, timeout=0.0, requires=None):
    return ci.MethodDef(name=name, pattern=ci.MethodPattern(pattern), request_type=req, response_type=resp,
                        idempotent=idempotent, default_timeout=timeout, requires=requires)


def contract(name, version, methods, modes, scoped=0, requires=None):
    return ci.ServiceContract(name=name, version=version, methods=methods, serialization_modes=modes,
                              scoped=ci.ScopeKind(scoped), requires=requires)


def cap(kind, *roles):
    return ci.CapabilityRequirement(kind=ci.CapabilityKind(kind), roles=list(roles))


def golden_contract_cases() -> list[tuple[str, Optional[str], ci.ServiceContract]]:
    U, SS, CS, BD = 0, 1, 2, 3
    ROLE, ANY_OF, ALL_OF = 0, 1, 2
    h_req, h_resp = type_hash(xt.EchoRequest), type_hash(xt.EchoResponse)
    h_status_req, h_status_resp = type_hash(xt.StatusRequest), type_hash(xt.StatusResponse)
    h_log, h_metric = type_hash(xt.LogEntry), type_hash(xt.MetricPoint)
    return [
        # --- the reference file's four cases (same names and inputs) ---
        ("minimal unary service", None,
         contract("Echo", 1, [method("echo", U)], [])),
        ("service with capability requirement",
         "CapabilityRequirement ANY_OF on a method; roles are sorted by code point (ai-reader < reader)",
         contract("DataService", 1, [method("get_record", U, idempotent=True, timeout=30000.0,
                                             requires=cap(ANY_OF, "reader", "ai-reader"))], [])),
        ("multi-method streaming service",
         "Methods given as query, watch, upload; written sorted by NFC name: query, upload, watch",
         contract("Analytics", 2, [method("query", U, idempotent=True),
                                   method("watch", SS, timeout=60000.0),
                                   method("upload", CS)], [])),
        ("session-scoped service", "scoped = SESSION (1; legacy name STREAM)",
         contract("ChatRoom", 1, [method("send_message", U, timeout=5000.0)], [], scoped=1)),
        # --- decorator pipeline (what the Python binding really hashes) ---
        ("pipeline: Echo v1 (decorated service, real type hashes)",
         "aster.contract.identity.contract_id_from_service gives the same id",
         pipeline_contract(EchoService)),
        ("pipeline: Counter v1 server stream (pyfory.int32 fields are ANY in the TypeDefs)",
         "aster.contract.identity.contract_id_from_service gives the same id",
         pipeline_contract(CounterService)),
        ("pipeline: MissionControl v1",
         "Mission Control example service shape; contract_id_from_service gives the same id",
         pipeline_contract(MissionControlService)),
        ("pipeline: AgentSession v1 (session scope)",
         "Mission Control example service shape; contract_id_from_service gives the same id",
         pipeline_contract(AgentSessionService)),
        ("pipeline: Ledger v7 with modes [xlang, json], timeouts and idempotent",
         "aster.contract.identity.contract_id_from_service gives the same id",
         pipeline_contract(LedgerService)),
        # --- writer coverage ---
        ("empty service, modes [xlang]", None, contract("EmptyService", 1, [], ["xlang"])),
        ("empty service, no modes", None, contract("EmptyService", 1, [], [])),
        ("modes [xlang, json]", "serialization_modes keep their given order",
         contract("Echo", 1, [method("echo", U, h_req, h_resp)], ["xlang", "json"])),
        ("modes [json, xlang]", "serialization_modes keep their given order",
         contract("Echo", 1, [method("echo", U, h_req, h_resp)], ["json", "xlang"])),
        ("modes [native, row, json, xlang]", None,
         contract("Echo", 1, [method("echo", U, h_req, h_resp)], ["native", "row", "json", "xlang"])),
        ("service requires ROLE", None,
         contract("Admin", 1, [method("wipe", U, h_req, h_resp)], ["xlang"], requires=cap(ROLE, "admin"))),
        ("service requires ALL_OF, unsorted roles",
         "roles are written sorted: a, b",
         contract("S", 1, [], ["xlang"], scoped=1, requires=cap(ALL_OF, "b", "a"))),
        ("method requires ROLE, ANY_OF and ALL_OF",
         None,
         contract("Guarded", 3, [
             method("read", U, h_req, h_resp, requires=cap(ROLE, "reader")),
             method("write", U, h_req, h_resp, requires=cap(ANY_OF, "writer", "admin")),
             method("audit", SS, h_req, h_resp, requires=cap(ALL_OF, "ops", "auditor", "admin")),
             method("open", U, h_req, h_resp),
         ], ["xlang"], requires=cap(ANY_OF, "member"))),
        ("roles: NFD role normalised to NFC, duplicates kept",
         "role 'cafe\\u0301' is written as NFC 'caf\\u00e9'; duplicate roles are not removed",
         contract("Roles", 1, [], ["xlang"], requires=cap(ANY_OF, "z", "cafe\u0301", "caf\u00e9", "a", "a"))),
        ("empty role list", None, contract("NoRoles", 1, [], ["xlang"], requires=cap(ALL_OF))),
        ("method names: NFC sort key, bytes not normalised",
         "cafe\\u0301 (NFD) sorts as caf\\u00e9 (after cafz) but is written as NFD bytes; "
         "\\uff21 sorts before U+1F600 (code points, not UTF-16 units)",
         contract("Unicode", 1, [
             method("cafe\u0301", U, h_req, h_resp),
             method("cafz", U, h_req, h_resp),
             method("caf\u00e9s", U, h_req, h_resp),
             method("\U0001F600ping", U, h_req, h_resp),
             method("\uff21", U, h_req, h_resp),
             method("\u53d6\u5f97", U, h_req, h_resp),
             method("Zulu", U, h_req, h_resp),
             method("alpha", U, h_req, h_resp),
         ], ["xlang"])),
        ("non-ASCII service name (written as given)", None,
         contract("Caf\u00e9Service", 1, [method("get", U, h_req, h_resp)], ["xlang"])),
        ("NFD service name (not normalised)", None,
         contract("Cafe\u0301Service", 1, [method("get", U, h_req, h_resp)], ["xlang"])),
        ("float timeouts", "default_timeout is float64 little-endian; Python feeds seconds",
         contract("Timeouts", 1, [
             method("half", U, h_req, h_resp, timeout=0.5),
             method("thirty", U, h_req, h_resp, timeout=30.0),
             method("tenth", U, h_req, h_resp, timeout=0.1),
             method("day", U, h_req, h_resp, timeout=86400.0),
             method("tiny", U, h_req, h_resp, timeout=5e-324),
         ], ["xlang"])),
        ("all four patterns, six methods, idempotent", None,
         contract("Workflow", 2, [
             method("watch", SS, h_status_req, h_log, timeout=60.0),
             method("get", U, h_status_req, h_status_resp, idempotent=True, timeout=1.0),
             method("ingest", CS, h_metric, h_status_resp),
             method("chat", BD, h_log, h_log),
             method("delete", U, h_status_req, h_status_resp, idempotent=True),
             method("export", SS, h_status_req, h_metric, idempotent=True, timeout=300.0),
         ], ["xlang", "json"])),
        ("session scope, bidi", None,
         contract("Terminal", 1, [method("attach", BD, h_req, h_resp, timeout=0.0)], ["xlang"], scoped=1)),
        ("version 0", None, contract("V", 0, [], ["xlang"])),
        ("version -1", None, contract("V", -1, [], ["xlang"])),
        ("version int32 max", None, contract("V", 2**31 - 1, [], ["xlang"])),
        ("version int32 min", None, contract("V", -2**31, [], ["xlang"])),
        ("long service name (70 chars)", None, contract("L" * 70, 1, [], ["xlang"])),
        ("duplicate method names are kept", None,
         contract("Dup", 1, [method("a", U, h_req, h_resp), method("a", SS, h_req, h_resp)], ["xlang"])),
    ]


def typedef(kind, package, name, fields=(), enum_values=(), union_variants=()):
    return ci.TypeDef(kind=ci.TypeDefKind(kind), package=package, name=name, fields=list(fields),
                      enum_values=list(enum_values), union_variants=list(union_variants))


def fdef(id, name, type_kind=0, primitive="", ref=b"", self_ref="", optional=False, ref_tracked=False,
         container=0, key_kind=0, key_primitive="", key_ref=b""):
    return ci.FieldDef(id=id, name=name, type_kind=ci.TypeKind(type_kind), type_primitive=primitive,
                       type_ref=ref, self_ref_name=self_ref, optional=optional, ref_tracked=ref_tracked,
                       container=ci.ContainerKind(container), container_key_kind=ci.TypeKind(key_kind),
                       container_key_primitive=key_primitive, container_key_ref=key_ref)


def type_cases() -> list[tuple[str, ci.TypeDef]]:
    PRIM, REF, SELF, ANY = 0, 1, 2, 3
    NONE, LIST, SET, MAP = 0, 1, 2, 3
    MESSAGE, ENUM, UNION = 0, 1, 2
    pipeline_roots = [xt.EchoRequest, xt.EchoResponse, xt.CountRequest, xt.CountItem,
                      xt.StatusRequest, xt.StatusResponse, xt.LogEntry, xt.SubmitLogResult, xt.TailRequest,
                      xt.MetricPoint, xt.IngestResult, xt.Heartbeat, xt.Assignment, xt.Command,
                      xt.CommandResult, xt.Outer, xt.Segment, xt.Kitchen, xt.OptAll, xt.CamelCase,
                      xt.Nothing, xt.MapStrMaybe, xt.ListNested, xt.Node]
    cases = []
    for cls in pipeline_roots:
        fqn = f"{cls.__module__}.{cls.__qualname__}"
        cases.append((f"pipeline: {cls.__wire_type__}", pipeline_typedefs([cls])[fqn]))
    # A three-type cycle: one SCC, DFS from the smallest name; in G1 the
    # members hashed before their targets carry 32 zero bytes (wire.md 5.6).
    cycle = pipeline_typedefs([xt.Alpha])
    for cls in (xt.Alpha, xt.Beta, xt.Gamma):
        cases.append((f"pipeline: {cls.__wire_type__} (cycle Alpha -> Beta -> Gamma -> Alpha)",
                      cycle[f"{cls.__module__}.{cls.__qualname__}"]))
    h_inner = type_hash(xt.Inner)
    h_point = type_hash(xt.Point)
    s = dict(type_kind=PRIM, primitive="string")
    cases += [
        ("message, no fields", typedef(MESSAGE, "p", "Empty")),
        ("message, empty package", typedef(MESSAGE, "", "Bare", [fdef(1, "id", primitive="int64")])),
        ("field ids kept as given (1 zeta, 2 alpha)",
         typedef(MESSAGE, "p", "T", [fdef(1, "zeta", **s), fdef(2, "alpha", primitive="int64")])),
        ("fields given out of id order are written sorted by id",
         typedef(MESSAGE, "p", "T", [fdef(3, "c", **s), fdef(1, "a", **s), fdef(2, "b", **s)])),
        ("negative and large field ids",
         typedef(MESSAGE, "p", "T", [fdef(-5, "neg", **s), fdef(0, "zero", **s), fdef(2**31 - 1, "max", **s)])),
        ("every primitive name the Python binding emits",
         typedef(MESSAGE, "p", "Prims", [fdef(i + 1, n, primitive=n) for i, n in enumerate(
             ["string", "int64", "float64", "bool", "binary", "null"])])),
        ("G2-style primitive names are just strings to the writer",
         typedef(MESSAGE, "p", "Prims2", [fdef(i + 1, n, primitive=n) for i, n in enumerate(
             ["int8", "int16", "varint32", "varint64", "float32", "var_uint32"])])),
        ("REF, optional REF and ref_tracked",
         typedef(MESSAGE, "p", "Refs", [
             fdef(1, "inner", type_kind=REF, ref=h_inner),
             fdef(2, "maybe", type_kind=REF, ref=h_inner, optional=True),
             fdef(3, "shared", type_kind=REF, ref=h_point, ref_tracked=True),
         ])),
        ("ANY field and optional ANY",
         typedef(MESSAGE, "p", "Anys", [fdef(1, "a", type_kind=ANY), fdef(2, "b", type_kind=ANY, optional=True)])),
        ("SELF_REF field with a name",
         typedef(MESSAGE, "tree", "Node", [
             fdef(1, "name", **s),
             fdef(2, "next", type_kind=SELF, self_ref="tree.Node", optional=True),
             fdef(3, "children", type_kind=SELF, self_ref="tree.Node", container=LIST),
         ])),
        ("LIST, SET and MAP containers",
         typedef(MESSAGE, "p", "Containers", [
             fdef(1, "names", container=LIST, **s),
             fdef(2, "ids", primitive="int64", container=SET),
             fdef(3, "by_name", type_kind=REF, ref=h_point, container=MAP, key_kind=PRIM, key_primitive="string"),
             fdef(4, "by_id", container=MAP, key_kind=PRIM, key_primitive="int64", **s),
             fdef(5, "by_point", container=MAP, key_kind=REF, key_ref=h_point, type_kind=ANY),
             fdef(6, "any_keys", container=MAP, key_kind=ANY, type_kind=PRIM, primitive="bool", optional=True),
             fdef(7, "points", type_kind=REF, ref=h_point, container=LIST, optional=True),
         ])),
        ("enum values sorted by value",
         typedef(ENUM, "t", "Color", enum_values=[ci.EnumValueDef("BLUE", 5), ci.EnumValueDef("RED", 0),
                                                  ci.EnumValueDef("GREEN", 10), ci.EnumValueDef("NEG", -1)])),
        ("union variants sorted by id",
         typedef(UNION, "t", "Shape", union_variants=[
             ci.UnionVariantDef("square", 2, h_point),
             ci.UnionVariantDef("circle", 1, h_inner),
             ci.UnionVariantDef("none", 3, b""),
         ])),
        ("non-ASCII package, type and field names (written as given, NFD kept)",
         typedef(MESSAGE, "caf\u00e9", "Cafe\u0301Type", [
             fdef(1, "\u540d\u524d", **s), fdef(2, "\U0001F600", primitive="int64")])),
    ]
    return cases


def identifier_vectors() -> list[dict]:
    inputs = ["cafe\u0301", "hello", "caf\u00e9", "A\u030angstrom", "\u212bngstrom", "\u1100\u1161\u11a8",
              "e\u0327\u0301", "\ufb01le"]
    vectors = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for s in inputs:
            normalized = ci.normalize_identifier(s)
            check(normalized == unicodedata.normalize("NFC", s), "normalize_identifier is not NFC")
            vectors.append({"input": s, "normalized": normalized})
    return vectors


def build_contract_identity() -> dict:
    golden = []
    for name, note, c in golden_contract_cases():
        as_json = contract_to_json(c)
        rebuilt = contract_from_json(json.loads(json.dumps(as_json)))
        data, digest = canonical_and_hash(c)
        check(canonical_and_hash(rebuilt) == (data, digest), f"{name}: JSON form does not reproduce the bytes")
        vector = {"name": name}
        if note:
            vector["note"] = note
        vector.update({
            "contract": as_json,
            "expected_canonical_hex": data.hex(),
            "expected_canonical_length": len(data),
            "expected_blake3": digest,
        })
        golden.append(vector)

    type_vectors = []
    for name, td in type_cases():
        as_json = typedef_to_json(td)
        rebuilt = typedef_from_json(json.loads(json.dumps(as_json)))
        data, digest = canonical_and_hash(td)
        check(canonical_and_hash(rebuilt) == (data, digest), f"{name}: JSON form does not reproduce the bytes")
        type_vectors.append({
            "name": name,
            "typedef": as_json,
            "expected_canonical_hex": data.hex(),
            "expected_blake3": digest,
        })

    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "description": (
            "Aster contract identity vectors (G1 layout, aster-rpc 0.1.2). contract_id = "
            "lowercase hex BLAKE3-256 of the canonical ServiceContract bytes; a type hash is BLAKE3-256 of "
            "the canonical TypeDef bytes. Bytes come from aster.contract.identity.canonical_xlang_bytes (the "
            "native core's writer), hashes from aster.contract.identity.compute_type_hash. Enum-valued "
            "fields are written here as integers (see enums); the reference core itself takes serde names "
            f"(see conformance/generate/README.md). Generated by {SCRIPT}."
        ),
        "enums": {
            cls.__name__: {name: int(value) for name, value in cls.__members__.items()}
            for cls in (ci.TypeKind, ci.ContainerKind, ci.TypeDefKind, ci.MethodPattern,
                        ci.CapabilityKind, ci.ScopeKind)
        },
        "canonical_encoding": {
            "integers": "signed values (version, field id, enum value, union id): zigzag then LEB128 varint; "
                        "enum-kind values (pattern, scoped, kinds, container): plain LEB128 varint",
            "strings": "varint((UTF-8 byte length << 2) | 2) followed by the UTF-8 bytes; \"\" is 0x02",
            "bytes": "varint(byte length) followed by the bytes; empty is 0x00, a hash is 0x20 + 32 bytes",
            "booleans": "one byte, 0x00 false or 0x01 true",
            "lists": "varint(element count), the byte 0x0C, then the elements; empty is 0x00 0x0C",
            "optionals": "0xFD when absent; 0x00 followed by the value when present",
            "floats": "IEEE 754 binary64, 8 bytes little-endian",
            "ordering": "methods sorted by code points of NFC(name); fields by id; enum values by value; "
                        "union variants by id; roles NFC-normalised then sorted; serialization_modes "
                        "in the given order; names are written as given (not normalised)",
        },
        "identifier_normalization": {
            "description": (
                "NFC as computed by aster.contract.identity.normalize_identifier. In the canonical bytes "
                "only capability roles are NFC-normalised; method names use NFC only as their sort key, and "
                "all other identifiers are written exactly as given."
            ),
            "vectors": identifier_vectors(),
        },
        "golden_vectors": golden,
        "type_vectors": type_vectors,
    }


# ===========================================================================
# 4. xlang-types.json
# ===========================================================================

SCALAR_TYPES = {
    bool: "bool",
    pyfory.int8: "int8",
    pyfory.int16: "int16",
    pyfory.int32: "int32",
    int: "int64",
    pyfory.float32: "float32",
    float: "float64",
    str: "string",
    bytes: "bytes",
}
INT_RANGES = {"int8": 8, "int16": 16, "int32": 32, "int64": 64}


def type_expr(tp: Any) -> Any:
    """Schema type expression for a Python annotation."""
    if not isinstance(tp, (list, dict)) and tp in SCALAR_TYPES:
        return SCALAR_TYPES[tp]
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union:
        inner = [a for a in args if a is not type(None)]
        check(len(inner) == 1 and len(args) == 2, f"unsupported union {tp!r}")
        return {"optional": type_expr(inner[0])}
    if origin is list:
        return {"list": type_expr(args[0])}
    if origin is dict:
        return {"map": {"key": type_expr(args[0]), "value": type_expr(args[1])}}
    if isinstance(tp, type) and hasattr(tp, "__wire_type__"):
        return {"ref": tp.__wire_type__}
    raise GenerationError(f"no type expression for {tp!r}")


def struct_fields(cls: type) -> list[tuple[str, Any]]:
    hints = typing.get_type_hints(cls)
    return [(f.name, hints[f.name]) for f in dataclasses.fields(cls)]


TAG_TO_TYPE: dict[str, type] = {}


def describe_type(cls: type) -> dict:
    if issubclass(cls, enum.Enum):
        return {"tag": cls.__wire_type__, "kind": "enum", "variants": [m.name for m in cls]}
    return {"tag": cls.__wire_type__, "kind": "struct",
            "fields": [{"name": n, "type": type_expr(t)} for n, t in struct_fields(cls)]}


def float32_round(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def float_json(x: float) -> Any:
    check(isinstance(x, float), f"float expected, got {x!r}")
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def value_json(value: Any, t: Any) -> Any:
    """JSON form of a Python value of schema type t (also validates the value)."""
    if not isinstance(t, (str, dict)):
        raise GenerationError(f"bad type expression {t!r}")
    if t == "bool":
        check(type(value) is bool, f"bool expected, got {value!r}")
        return value
    if isinstance(t, str) and t in INT_RANGES:
        bits = INT_RANGES[t]
        check(type(value) is int and -(2 ** (bits - 1)) <= value < 2 ** (bits - 1), f"{t} expected, got {value!r}")
        return value
    if t in ("float32", "float64"):
        return float_json(value)
    if t == "string":
        check(type(value) is str, f"str expected, got {value!r}")
        return value
    if t == "bytes":
        check(type(value) is bytes, f"bytes expected, got {value!r}")
        return value.hex()
    if "optional" in t:
        return None if value is None else value_json(value, t["optional"])
    if "list" in t:
        check(type(value) is list, f"list expected, got {value!r}")
        return [value_json(v, t["list"]) for v in value]
    if "map" in t:
        check(type(value) is dict, f"dict expected, got {value!r}")
        return [[value_json(k, t["map"]["key"]), value_json(v, t["map"]["value"])] for k, v in value.items()]
    cls = TAG_TO_TYPE[t["ref"]]
    check(type(value) is cls, f"{cls.__name__} expected, got {value!r}")
    if issubclass(cls, enum.Enum):
        return value.name
    return {name: value_json(getattr(value, name), ft)
            for name, ft in ((n, type_expr(a)) for n, a in struct_fields(cls))}


def same_float(expected: float, actual: Any, t: str) -> bool:
    if type(actual) is not float:
        return False
    if t == "float32" and not math.isnan(expected):
        expected = float32_round(expected)
    if math.isnan(expected):
        return math.isnan(actual)
    return expected == actual and math.copysign(1.0, expected) == math.copysign(1.0, actual)


def same_value(expected: Any, actual: Any, t: Any) -> bool:
    """Type-directed equality (NaN equals NaN, -0.0 differs from 0.0, dict order matters)."""
    if t in ("float32", "float64"):
        return same_float(expected, actual, t)
    if isinstance(t, str):
        return type(actual) is type(expected) and actual == expected
    if "optional" in t:
        if expected is None or actual is None:
            return expected is None and actual is None
        return same_value(expected, actual, t["optional"])
    if "list" in t:
        return (type(actual) is list and len(actual) == len(expected)
                and all(same_value(e, a, t["list"]) for e, a in zip(expected, actual)))
    if "map" in t:
        if type(actual) is not dict or len(actual) != len(expected):
            return False
        return all(same_value(ek, ak, t["map"]["key"]) and same_value(ev, av, t["map"]["value"])
                   for (ek, ev), (ak, av) in zip(expected.items(), actual.items()))
    cls = TAG_TO_TYPE[t["ref"]]
    if issubclass(cls, enum.Enum):
        return actual is expected
    return type(actual) is cls and all(
        same_value(getattr(expected, n), getattr(actual, n), type_expr(a)) for n, a in struct_fields(cls))


def node_chain() -> xt.Node:
    leaf_a = xt.Node(name="leaf-a")
    leaf_b = xt.Node(name="leaf-b", next=xt.Node(name="leaf-b-next"))
    middle = xt.Node(name="middle", children=[leaf_a, leaf_b])
    return xt.Node(name="root", next=xt.Node(name="root-next"), children=[middle, xt.Node(name="sibling")])


def kitchen_full() -> xt.Kitchen:
    return xt.Kitchen(
        name="kitchen", zeta=-26, alpha=1, flag=True, tiny=-7, short=-300, medium=70000, ratio=0.25,
        score=-2.5, blob=b"\x00\xff\x10", tags=["hot", "cold"], counts={"spoons": 12, "forks": -1},
        maybe_count=99, maybe_flag=False, maybe_score=0.125, maybe_small=-2, maybe_name="chef",
        inner=xt.Inner(label="in", n=3), maybe_inner=xt.Inner(label="opt", n=-3), color=xt.Color.BLUE,
        Zed="zed", ids=[3, 1, 2], points=[xt.Point(1, 2), xt.Point(-1, -2)], lookup={2: "two", -1: "minus one"},
        maybe_tags=[], big=2**62,
    )


def xlang_cases() -> list[tuple[str, Any]]:
    X = xt
    cases: list[tuple[str, Any]] = []

    def add(name: str, value: Any) -> None:
        cases.append((name, value))

    # --- Mission Control ---
    add("mission StatusRequest default", X.StatusRequest())
    add("mission StatusRequest", X.StatusRequest(agent_id="edge-7"))
    add("mission StatusResponse default", X.StatusResponse())
    add("mission StatusResponse running", X.StatusResponse(agent_id="edge-7", status="running", uptime_secs=3600))
    add("mission LogEntry default", X.LogEntry())
    add("mission LogEntry", X.LogEntry(timestamp=1712764800.25, level="warn", message="disk 91% full",
                                       agent_id="edge-7"))
    add("mission SubmitLogResult default (true)", X.SubmitLogResult())
    add("mission SubmitLogResult false", X.SubmitLogResult(accepted=False))
    add("mission TailRequest default", X.TailRequest())
    add("mission TailRequest", X.TailRequest(agent_id="edge-7", level="error"))
    add("mission MetricPoint default", X.MetricPoint())
    add("mission MetricPoint with tags", X.MetricPoint(name="cpu.load", value=0.73, timestamp=1712764800.5,
                                                       tags={"host": "edge-7", "region": "eu-west"}))
    add("mission IngestResult default", X.IngestResult())
    add("mission IngestResult", X.IngestResult(accepted=1000, dropped=3))
    add("mission Heartbeat default", X.Heartbeat())
    add("mission Heartbeat", X.Heartbeat(agent_id="edge-7", capabilities=["gpu", "arm64"], load_avg=1.5))
    add("mission Assignment default", X.Assignment())
    add("mission Assignment", X.Assignment(task_id="train-42", command="python train.py"))
    add("mission Command default", X.Command())
    add("mission Command", X.Command(command="uname -a"))
    add("mission CommandResult default (exit -1)", X.CommandResult())
    add("mission CommandResult", X.CommandResult(stdout="Linux\n", stderr="", exit_code=0))
    add("mission CommandResult failure", X.CommandResult(stdout="", stderr="not found\n", exit_code=127))

    # --- scenario types ---
    add("echo EchoRequest Hello, World!", X.EchoRequest(message="Hello, World!"))
    add("echo EchoRequest empty", X.EchoRequest(message=""))
    add("echo EchoResponse", X.EchoResponse(reply="Hello, World!"))
    add("counter CountRequest 3", X.CountRequest(count=3))
    for i in (1, 2, 3):
        add(f"counter CountItem {i}", X.CountItem(value=i))

    # --- scalars ---
    add("bool false", X.BoolBox(False))
    add("bool true", X.BoolBox(True))
    for v in (0, 1, -1, 63, 64, -64, -65, 127, -128):
        add(f"int8 {v}", X.Int8Box(v))
    for v in (0, -1, 255, 256, 32767, -32768):
        add(f"int16 {v}", X.Int16Box(v))
    for v in (0, 1, -1, 63, 64, -64, -65, 8191, 8192, 2**31 - 1, -2**31):
        add(f"int32 {v}", X.Int32Box(v))
    for v in (0, 1, -1, 63, 64, -64, -65, 2**31, -2**31 - 1, 2**53, 2**53 + 1, 2**62, 2**63 - 1, -2**63):
        add(f"int64 {v}", X.Int64Box(v))
    for label, v in (("0.0", 0.0), ("-0.0", -0.0), ("1.5", 1.5), ("0.1 (rounded to float32)", 0.1),
                     ("max", 3.4028234663852886e38), ("min subnormal", 1.401298464324817e-45),
                     ("NaN", math.nan), ("inf", math.inf), ("-inf", -math.inf)):
        add(f"float32 {label}", X.Float32Box(v))
    for label, v in (("0.0", 0.0), ("-0.0", -0.0), ("1.5", 1.5), ("0.1", 0.1), ("1e-300", 1e-300),
                     ("5e-324", 5e-324), ("max", 1.7976931348623157e308), ("NaN", math.nan),
                     ("inf", math.inf), ("-inf", -math.inf)):
        add(f"float64 {label}", X.Float64Box(v))

    # --- strings (pyfory picks Latin-1, UTF-16LE or UTF-8 from the string's content) ---
    for label, v in (("empty", ""), ("ASCII", "hello"), ("NUL char", "\x00"), ("Latin-1 only", "caf\u00e9"),
                     ("Latin-1 max char", "\u00ff"), ("first non-Latin-1 char", "\u0100"),
                     ("BMP CJK", "\u3053\u3093\u306b\u3061\u306f"), ("mixed ASCII and BMP", "a\u3042"),
                     ("astral only", "\U0001F600"), ("ASCII and astral", "a\U0001F600"),
                     ("BMP and astral", "\u3042\U0001F600"), ("BMP private use edge", "\uffff"),
                     ("31 chars", "s" * 31), ("32 chars", "s" * 32),
                     ("200 chars", pattern_text(200)), ("200 Latin-1 chars", "\u00e9" * 200),
                     ("200 CJK chars", "\u6f22" * 200), ("20000 chars", pattern_text(20000))):
        add(f"string {label}", X.TextBox(v))

    # --- bytes, enum ---
    add("bytes empty", X.BlobBox(b""))
    add("bytes 3", X.BlobBox(b"\x00\x01\xff"))
    add("bytes 0..255", X.BlobBox(bytes(range(256))))
    for c in X.Color:
        add(f"enum field {c.name} (ordinal {list(X.Color).index(c)})", X.EnumBox(c))

    # --- optionals ---
    optional_values = [
        (X.OptBool, [True, False]), (X.OptInt32, [0, -2**31]), (X.OptInt64, [0, 2**63 - 1]),
        (X.OptFloat64, [-0.0, math.nan]), (X.OptText, ["", "\u00e9t\u00e9"]), (X.OptBlob, [b"", b"\x01"]),
        (X.OptStruct, [X.Inner(), X.Inner(label="x", n=-1)]), (X.OptList, [[], ["a", "b"]]),
        (X.OptMap, [{}, {"a": 1}]), (X.OptEnum, [X.Color.RED, X.Color.BLUE]),
    ]
    for cls, values in optional_values:
        add(f"optional {cls.__wire_type__} null", cls(None))
        for v in values:
            add(f"optional {cls.__wire_type__} {v!r}", cls(v))
    add("optional all null", X.OptAll())
    add("optional all set", X.OptAll(b=False, i8=-1, i16=-1, i32=-1, i64=-1, f32=-1.5, f64=-1.5, s="s",
                                     raw=b"r", inner=X.Inner("i", 1), names=["n"], counts={"c": 1},
                                     color=X.Color.GREEN))

    # --- lists ---
    list_values = [
        (X.ListBool, [True, False, True]), (X.ListInt8, [0, 127, -128, -1]),
        (X.ListInt16, [0, 32767, -32768, -1]), (X.ListInt32, [0, 2**31 - 1, -2**31, -1, 64]),
        (X.ListInt64, [0, 2**63 - 1, -2**63, -1, 64]), (X.ListFloat32, [0.0, -0.0, 1.5, math.inf, math.nan]),
        (X.ListFloat64, [0.0, -0.0, 0.1, -math.inf, math.nan]),
        (X.ListText, ["a", "", "\u00e9", "\u3042", "\U0001F600"]), (X.ListBlob, [b"", b"\x00", b"ab"]),
        (X.ListNested, [["a", "b"], [], ["\u00e9"]]), (X.ListMaybeText, ["a", None, "", None]),
        (X.ListPoint, [X.Point(1, 2), X.Point(), X.Point(-3, 4)]),
        (X.ListColor, [X.Color.BLUE, X.Color.RED, X.Color.GREEN, X.Color.BLUE]),
        (X.ListMap, [{"a": 1}, {}, {"b": 2, "c": 3}]),
    ]
    for cls, values in list_values:
        add(f"list {cls.__wire_type__} empty", cls([]))
        add(f"list {cls.__wire_type__}", cls(values))
    add("list list/Texts single", X.ListText(["only"]))
    add("list list/Texts 200 elements", X.ListText([f"e{i}" for i in range(200)]))
    add("list list/MaybeTexts all null", X.ListMaybeText([None, None]))
    add("list list/Nested only empty lists", X.ListNested([[], []]))

    # --- maps (dict insertion order is the wire order) ---
    map_values = [
        (X.MapStrStr, {"b": "2", "a": "1", "\u00e9": "\u3042"}),
        (X.MapStrInt, {"x": 1, "y": -1, "z": 2**40}),
        (X.MapIntStr, {3: "three", -1: "minus one", 0: ""}),
        (X.MapInt32Float64, {1: 0.5, -2: -0.0}),
        (X.MapStrPoint, {"origin": X.Point(), "p": X.Point(5, -5)}),
        (X.MapStrList, {"a": ["x", "y"], "empty": []}),
        (X.MapStrMaybe, {"set": "v", "null": None, "also": "w"}),
        (X.MapStrMap, {"outer": {"inner": 1}, "none": {}}),
        (X.MapStrBlob, {"k": b"\x00\x01"}),
        (X.MapStrColor, {"a": X.Color.GREEN, "b": X.Color.RED}),
        (X.MapBoolStr, {True: "yes", False: "no"}),
    ]
    for cls, value in map_values:
        add(f"map {cls.__wire_type__} empty", cls({}))
        add(f"map {cls.__wire_type__}", cls(value))
    add("map map/StrStr insertion order reversed", X.MapStrStr({"\u00e9": "\u3042", "a": "1", "b": "2"}))
    add("map map/StrMaybe only null values", X.MapStrMaybe({"a": None, "b": None}))
    add("map map/StrMaybe null first", X.MapStrMaybe({"a": None, "b": "x", "c": "y", "d": None}))
    add("map map/StrInt 255 entries (one full chunk)", X.MapStrInt({f"k{i:03d}": i for i in range(255)}))
    add("map map/StrInt 256 entries", X.MapStrInt({f"k{i:03d}": i for i in range(256)}))
    add("map map/StrInt 300 entries (chunks of 255 + 45)", X.MapStrInt({f"k{i:03d}": i for i in range(300)}))

    # --- nested structs ---
    add("nested Outer default", X.Outer())
    add("nested Outer full (two fields of the same type, shared namespace)",
        X.Outer(first=X.Inner("a", 1), maybe=X.Inner("m", 2), second=X.Inner("b", 3), other=X.Other(True),
                items=[X.Inner("i", 4), X.Inner("j", 5)]))
    add("nested Deep (3 levels)", X.Deep(outer=X.Outer(first=X.Inner("deep", 9)), title="t"))
    add("nested Segment (other namespace, optional struct null)", X.Segment(a=X.Point(1, 1), b=X.Point(2, 2)))
    add("nested Segment with optional struct", X.Segment(a=X.Point(), b=X.Point(), tag=X.Inner("tag", 0)))

    # --- recursion ---
    add("recursive Node leaf", X.Node(name="leaf"))
    add("recursive Node 3 levels", node_chain())
    add("mutually recursive Alpha -> Beta -> Gamma -> Alpha",
        X.Alpha(name="a1", beta=X.Beta(weight=0.5, gamma=X.Gamma(alphas=[X.Alpha(name="a2"), X.Alpha(
            name="a3", beta=X.Beta(weight=-1.0))]))))

    # --- field ordering / naming ---
    add("many fields default", X.Kitchen())
    add("many fields set", kitchen_full())
    add("camelCase field names default", X.CamelCase())
    add("camelCase field names set", X.CamelCase(userId="u1", displayName="Ada", createdAtMs=1712764800000,
                                                 isActive=True, tagList=["x"], aZ="z", a_b="b", retryCount=3,
                                                 a_c=-4, aY=5))

    # --- empty struct ---
    add("empty struct", X.Nothing())
    add("empty struct fields (null optional)", X.EmptyHolder())
    add("empty struct fields (set)", X.EmptyHolder(b=X.Nothing(), many=[X.Nothing(), X.Nothing()]))

    # --- meta-string encodings of namespaces/type names ---
    add("meta LOWER_SPECIAL namespace and type name", X.MetaLower(1))
    add("meta LOWER_UPPER_DIGIT_SPECIAL (digits)", X.MetaDigits(1.0, 2.0, 3.0))
    add("meta LOWER_UPPER_DIGIT_SPECIAL (many upper case)", X.MetaManyUpper(1))
    add("meta FIRST_TO_LOWER_SPECIAL", X.MetaFirstUpper(1))
    add("meta ALL_TO_LOWER_SPECIAL", X.MetaAllToLower(1))
    add("meta UTF_8 ('-' in namespace and type name)", X.MetaUtf8(1))
    add("meta UTF_8 ('/' in namespace, tag split at last '/')", X.MetaSlashNamespace(1))
    add("meta dotted namespace and underscore type name", X.MetaDotted(1))
    add("meta '$' in type name", X.MetaDollar(1))
    add("meta names longer than 16 encoded bytes (hashed)", X.MetaLong(1))
    add("meta names of exactly 16 encoded bytes", X.MetaSixteen(1))
    add("meta empty namespace", X.Bare(1))
    add("meta empty namespace, two types nested", X.Naked(first=X.Bare(1), second=X.Bare(2), label="n"))
    add("meta all encodings nested (back-references)", X.MetaHolder())
    return cases


def check_meta_string_lengths() -> None:
    """Pin the meta-string encodings the meta types are meant to exercise."""
    ns_encoder, tn_encoder = MetaStringEncoder(".", "_"), MetaStringEncoder("$", "_")
    expected = [
        (xt.MetaLower, MetaEncoding.LOWER_SPECIAL, MetaEncoding.LOWER_SPECIAL),
        (xt.MetaDigits, MetaEncoding.LOWER_UPPER_DIGIT_SPECIAL, MetaEncoding.LOWER_UPPER_DIGIT_SPECIAL),
        (xt.MetaManyUpper, MetaEncoding.LOWER_SPECIAL, MetaEncoding.LOWER_UPPER_DIGIT_SPECIAL),
        (xt.MetaFirstUpper, MetaEncoding.LOWER_SPECIAL, MetaEncoding.FIRST_TO_LOWER_SPECIAL),
        (xt.MetaAllToLower, MetaEncoding.LOWER_SPECIAL, MetaEncoding.ALL_TO_LOWER_SPECIAL),
        (xt.MetaUtf8, MetaEncoding.UTF_8, MetaEncoding.UTF_8),
        (xt.MetaSlashNamespace, MetaEncoding.UTF_8, MetaEncoding.FIRST_TO_LOWER_SPECIAL),
        (xt.MetaDotted, MetaEncoding.LOWER_UPPER_DIGIT_SPECIAL, MetaEncoding.LOWER_UPPER_DIGIT_SPECIAL),
        (xt.MetaDollar, MetaEncoding.LOWER_SPECIAL, MetaEncoding.LOWER_SPECIAL),
    ]
    for cls, ns_enc, tn_enc in expected:
        ns = ns_encoder.encode(cls.__fory_namespace__)
        tn = tn_encoder.encode(cls.__fory_typename__)
        check((ns.encoding, tn.encoding) == (ns_enc, tn_enc),
              f"{cls.__wire_type__}: encodings {ns.encoding}, {tn.encoding}")
    long_ns = ns_encoder.encode(xt.MetaLong.__fory_namespace__).encoded_data
    long_tn = tn_encoder.encode(xt.MetaLong.__fory_typename__).encoded_data
    check(len(long_ns) > 16 and len(long_tn) > 16, "MetaLong names must exceed 16 encoded bytes")
    six_ns = ns_encoder.encode(xt.MetaSixteen.__fory_namespace__).encoded_data
    six_tn = tn_encoder.encode(xt.MetaSixteen.__fory_typename__).encoded_data
    check(len(six_ns) == 16 and len(six_tn) == 16, "MetaSixteen names must be exactly 16 encoded bytes")


def build_xlang_types() -> dict:
    check_meta_string_lengths()
    cases = xlang_cases()
    roots = []
    for _, value in cases:
        if type(value) not in roots:
            roots.append(type(value))
    # every type the reference codec registers for these roots
    all_codec = ForyCodec(SerializationMode.XLANG, types=roots)
    reachable = set(all_codec.registered_types) - {StreamHeader, CallHeader, RpcStatus}
    declared = [obj for obj in vars(xt).values()
                if isinstance(obj, type) and hasattr(obj, "__wire_type__") and obj in reachable]
    check(set(declared) == reachable, "some registered types are not declared in xlang_types.py")
    for cls in declared:
        TAG_TO_TYPE[cls.__wire_type__] = cls

    vectors = []
    names = set()
    for name, value in cases:
        check(name not in names, f"duplicate vector name {name!r}")
        names.add(name)
        cls = type(value)
        t = {"ref": cls.__wire_type__}
        codec = ForyCodec(SerializationMode.XLANG, types=[cls])
        data = codec.encode(value)
        check(codec.encode(value) == data, f"{name}: repeated encode differs")
        check(all_codec.encode(value) == data, f"{name}: bytes depend on the other registered types")
        check(data[:3] == b"\x02\xff\x1d", f"{name}: unexpected payload start {data[:3].hex()}")
        decoded = codec.decode(data, cls)
        check(same_value(value, decoded, t), f"{name}: decode mismatch: {decoded!r}")
        check(same_value(value, all_codec.decode(data), t), f"{name}: decode mismatch (shared codec)")
        vectors.append({
            "name": name,
            "type": cls.__wire_type__,
            "value": value_json(value, t),
            "xlang_hex": data.hex(),
            "xlang_length": len(data),
        })

    return {
        "description": (
            "XLANG (pyfory 0.16.0, Fory(xlang=True): no ref tracking, non-compatible named structs) payloads "
            "of user wire types as an aster-rpc 0.1.2 peer writes them. Each type is a Python dataclass "
            "tagged with aster's @wire_type(\"namespace/Typename\"); each vector is "
            "aster.codec.ForyCodec(SerializationMode.XLANG, types=[root]).encode(value), decoded back and "
            "compared by the generator. Type expressions: bool, int8, int16, int32, int64 (Python int), "
            "float32, float64 (Python float), string, bytes, {list: T}, {map: {key, value}}, "
            "{optional: T}, {ref: tag}. Values: ints exact, non-finite floats as \"NaN\"/\"Infinity\"/"
            "\"-Infinity\", float32 values are the Python input (pyfory rounds to binary32), bytes as hex, "
            "maps as [key, value] pairs in insertion (wire) order, enums by variant name (pyfory writes "
            "the declaration ordinal)."
        ),
        "generator": {"script": SCRIPT, "aster_rpc": ASTER_RPC_VERSION, "pyfory": PYFORY_VERSION},
        "types": [describe_type(cls) for cls in declared],
        "vectors": vectors,
    }


# ===========================================================================

def main(argv: list[str]) -> int:
    if len(argv) > 2:
        print(f"usage: {argv[0]} [OUT_DIR]", file=sys.stderr)
        return 2
    out_dir = Path(argv[1]) if len(argv) == 2 else REPO_ROOT / "conformance" / "vectors"
    check_environment()
    documents = [
        ("framing.json", build_framing),
        ("protocol-payloads.json", build_protocol_payloads),
        ("contract-identity.json", build_contract_identity),
        ("xlang-types.json", build_xlang_types),
    ]
    built = [(file_name, builder()) for file_name, builder in documents]  # all or nothing
    out_dir.mkdir(parents=True, exist_ok=True)
    for file_name, document in built:
        size = write_json(out_dir, file_name, document)
        counts = ", ".join(f"{len(v)} {k}" for k, v in document.items() if isinstance(v, list))
        print(f"{out_dir / file_name}: {size} bytes; {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
