#!/usr/bin/env python3
"""Generate conformance/vectors/registry.json from the Python reference.

Usage (from the repository root):

    $(scripts/reference-venv.sh | tail -1) conformance/generate/registry_vectors.py [OUT_DIR]

Everything in the output is produced by aster-rpc 0.1.2's own registry code
(``aster.registry``), driven with fixed ids and a virtual clock:

* keys: ``aster.registry.keys`` helpers; ``manifests/{cid}`` is formatted the
  way ``aster.runtime`` formats it (0.1.2's keys.py has no helper for it);
* ArtifactRef / EndpointLease / GossipEvent bytes: the models' ``to_json``;
  decode cases: ``from_json`` followed by ``to_json`` (or the exception name);
* the lease life cycle: ``RegistryPublisher`` writing to an in-memory doc,
  with ``time.time`` and ``asyncio.sleep`` replaced by a virtual clock, so the
  refresh task and the withdraw grace run on fixed timestamps;
* gossip events: ``RegistryGossip.broadcast_*`` into an in-memory topic;
* ACL bytes: ``RegistryACL._persist``; ACL reads: ``RegistryACL.reload``;
* resolve scenarios: ``RegistryClient.resolve_all`` over an in-memory doc
  (entries sorted by key, then author, as iroh-docs returns them), one
  client per scenario so its seq cache and round-robin cursor carry over
  between calls. Random ranking is not deterministic in the reference and is
  not recorded.

The file records what the reference does, including its defects (R1: a
second resolve without a refresh returns nothing). Where the Rust port
deliberately differs, proto/tests/registry.rs holds the expected Rust result
next to the scenario name and says why.

Deterministic: no wall clock, no randomness, no set iteration reaches the file.
"""

import sys

sys.dont_write_bytecode = True

import asyncio
import json
import logging
import types
from importlib import metadata as importlib_metadata
from pathlib import Path

import aster.registry.acl as acl_mod
import aster.registry.client as client_mod
import aster.registry.gossip as gossip_mod
import aster.registry.models as models_mod
import aster.registry.publisher as publisher_mod
from aster.registry import keys as keys_mod
from aster.registry.models import ArtifactRef, EndpointLease, GossipEvent

ASTER_RPC_VERSION = "0.1.2"
SCRIPT = "conformance/generate/registry_vectors.py"
REPO_ROOT = Path(__file__).resolve().parents[2]

T0 = 1_700_000_000_000
CID_A = "a1" * 32
CID_B = "b2" * 32
CID_C = "c3" * 32
AUTHOR_A = "author-a"
AUTHOR_B = "author-b"


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"self-check failed: {message}")


# ── Virtual clock ────────────────────────────────────────────────────────────


class VirtualClock:
    """Stands in for the ``time`` module (``time()``) and ``asyncio.sleep``."""

    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms
        self.sleepers: list[tuple[int, int, asyncio.Future]] = []
        self._order = 0

    def time(self) -> float:
        t = self.now_ms / 1000
        check(int(t * 1000) == self.now_ms, f"{self.now_ms} does not survive int(time()*1000)")
        return t

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        fut = asyncio.get_running_loop().create_future()
        self._order += 1
        self.sleepers.append((self.now_ms + round(seconds * 1000), self._order, fut))
        await fut

    async def settle(self) -> None:
        for _ in range(50):
            await asyncio.sleep(0)

    async def advance_to(self, when_ms: int) -> None:
        """Moves time forward, waking every sleeper due on the way, in order."""
        check(when_ms >= self.now_ms, "time goes forward")
        await self.settle()  # let tasks started at the current time reach their sleeps
        while True:
            self.sleepers = [s for s in self.sleepers if not s[2].done()]
            due = sorted((s for s in self.sleepers if s[0] <= when_ms), key=lambda s: (s[0], s[1]))
            if not due:
                break
            wake, _, fut = due[0]
            self.now_ms = wake
            fut.set_result(None)
            await self.settle()
        self.now_ms = when_ms
        await self.settle()


def install_clock(clock: VirtualClock) -> None:
    fake_time = types.SimpleNamespace(time=clock.time)
    for mod in (publisher_mod, gossip_mod, models_mod):
        mod.time = fake_time
    publisher_mod.asyncio = types.SimpleNamespace(
        sleep=clock.sleep,
        create_task=asyncio.create_task,
        CancelledError=asyncio.CancelledError,
        Task=asyncio.Task,
    )


# ── In-memory doc and topic ──────────────────────────────────────────────────


class Entry:
    def __init__(self, key: bytes, author_id: str, timestamp: int, value: bytes) -> None:
        self.key = key
        self.author_id = author_id
        self.timestamp = timestamp
        self.value = value
        self.content_hash = f"{author_id}|{key.decode()}"


class MemoryDoc:
    """What the registry code uses of a DocHandle. One entry per (key, author)."""

    def __init__(self, clock: VirtualClock | None = None) -> None:
        self.rows: dict[tuple[bytes, str], Entry] = {}
        self.writes: list[tuple[int, str, bytes]] = []
        self.clock = clock

    def put(self, key: str, author: str, timestamp: int, value: bytes) -> None:
        self.rows[(key.encode(), author)] = Entry(key.encode(), author, timestamp, value)

    async def set_bytes(self, author_id: str, key: bytes, value: bytes) -> None:
        now = self.clock.now_ms if self.clock else 0
        self.rows[(key, author_id)] = Entry(key, author_id, now, value)
        self.writes.append((now, key.decode(), value))

    def _sorted(self, pred) -> list[Entry]:
        return [self.rows[k] for k in sorted(self.rows) if pred(k[0])]

    async def query_key_exact(self, key: bytes) -> list[Entry]:
        return self._sorted(lambda k: k == key)

    async def query_key_prefix(self, prefix: bytes) -> list[Entry]:
        return self._sorted(lambda k: k.startswith(prefix))

    async def read_entry_content(self, content_hash: str) -> bytes:
        for e in self.rows.values():
            if e.content_hash == content_hash:
                return e.value
        raise KeyError(content_hash)

    async def set_download_policy(self, mode: str, prefixes: list) -> None:
        check(mode == "nothing_except", "download policy mode")

    def export(self) -> list[dict]:
        return [
            {"key": e.key.decode(), "author": e.author_id, "timestamp": e.timestamp, "value": e.value.decode()}
            for e in self._sorted(lambda k: True)
        ]


class MemoryTopic:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    async def broadcast(self, data: bytes) -> None:
        self.sent.append(data)


# ── Keys ─────────────────────────────────────────────────────────────────────


def key_vectors() -> list[dict]:
    cases = [
        ("contract_key", [CID_A]),
        ("version_key", ["Echo", 1]),
        ("version_key", ["mission.Control", 0]),
        ("version_key", ["Echo", -3]),
        ("version_key", ["Echo", 2147483647]),
        ("channel_key", ["Echo", "stable"]),
        ("tag_key", ["Echo", "blue-green"]),
        ("lease_key", ["Echo", CID_A, "ep-1"]),
        ("lease_key", ["Caf\u00e9", CID_B, "9f" * 32]),
        ("lease_prefix", ["Echo", CID_A]),
        ("acl_key", ["writers"]),
        ("acl_key", ["readers"]),
        ("acl_key", ["admins"]),
        ("acl_key", ["policy"]),
        ("config_key", ["gossip_topic"]),
        ("config_key", ["lease_duration_s"]),
        ("config_key", ["lease_refresh_interval_s"]),
    ]
    out = [{"builder": name, "args": args, "key": getattr(keys_mod, name)(*args).decode()} for name, args in cases]
    # The runtime's manifest key (aster.runtime: f"manifests/{contract_id}").
    out.append({"builder": "manifest_key", "args": [CID_C], "key": f"manifests/{CID_C}"})
    return out


# ── ArtifactRef ──────────────────────────────────────────────────────────────


def artifact_vectors() -> tuple[list[dict], list[dict]]:
    refs = [
        ("defaults (raw)", dict(contract_id=CID_A, collection_hash=CID_A)),
        (
            "runtime index ref with ticket",
            dict(
                contract_id=CID_A,
                collection_hash=CID_B,
                ticket="blobacnpn6bd2ix6fcezjwb3vrl5vz3cdi2uwxvjxdkkzepyvbkrmaaaa",
                published_by="9f" * 32,
                published_at_epoch_ms=T0,
                collection_format="index",
            ),
        ),
        (
            "all fields",
            dict(
                contract_id=CID_C,
                collection_hash=CID_C,
                provider_endpoint_id="ep-provider",
                relay_url="https://relay.example/",
                ticket=None,
                published_by="Jos\u00e9 \U0001f680",
                published_at_epoch_ms=1,
                collection_format="raw",
            ),
        ),
    ]
    encoded = []
    for name, fields in refs:
        ref = ArtifactRef(**fields)
        text = ref.to_json()
        check(ArtifactRef.from_json(text) == ref, f"ArtifactRef round trip {name}")
        encoded.append({"name": name, "fields": json.loads(text), "json": text})

    decode_inputs = [
        ("missing collection_format reads as raw", '{"contract_id":"%s","collection_hash":"%s"}' % (CID_A, CID_A)),
        (
            "old record, every field but collection_format",
            '{"contract_id":"%s","collection_hash":"%s","provider_endpoint_id":null,"relay_url":null,'
            '"ticket":null,"published_by":"x","published_at_epoch_ms":5}' % (CID_A, CID_A),
        ),
        ("pretty-printed input", json.dumps({"contract_id": CID_B, "collection_hash": CID_C, "collection_format": "index"}, indent=2)),
        ("unknown key", '{"contract_id":"%s","collection_hash":"%s","future_field":1}' % (CID_A, CID_A)),
        ("unknown collection_format", '{"contract_id":"%s","collection_hash":"%s","collection_format":"tar"}' % (CID_A, CID_A)),
        ("missing collection_hash", '{"contract_id":"%s"}' % CID_A),
        ("not an object", "[1,2]"),
        ("not JSON", "{contract_id"),
    ]
    return encoded, [decode_case(name, text, ArtifactRef.from_json) for name, text in decode_inputs]


def decode_case(name: str, text: str, from_json) -> dict:
    try:
        obj = from_json(text)
        result = {"ok": obj.to_json()}
    except Exception as exc:  # noqa: BLE001 -- the exception class is the vector
        result = {"error": type(exc).__name__}
    return {"name": name, "input": text, "reference": result}


# ── EndpointLease ────────────────────────────────────────────────────────────


def lease(endpoint_id: str, **over) -> EndpointLease:
    fields = dict(
        endpoint_id=endpoint_id,
        contract_id=CID_A,
        service="Echo",
        version=1,
        lease_expires_epoch_ms=T0 + 45_000,
        lease_seq=1,
        alpn="aster/1",
        serialization_modes=["fory-xlang"],
        feature_flags=[],
        relay_url=None,
        direct_addrs=[],
        load=None,
        language_runtime=None,
        aster_version="0.1.2",
        policy_realm=None,
        health_status="ready",
        tags=[],
        updated_at_epoch_ms=T0,
    )
    fields.update(over)
    return EndpointLease(**fields)


def lease_vectors() -> tuple[list[dict], list[dict]]:
    cases = [
        ("minimal ready", lease("ep-1")),
        ("starting, seq 1", lease("ep-1", health_status="starting")),
        ("degraded with load 0.25", lease("ep-2", health_status="degraded", load=0.25, lease_seq=7)),
        ("draining", lease("ep-3", health_status="draining", lease_seq=12)),
        (
            "every field",
            lease(
                "9f" * 32,
                contract_id=CID_B,
                service="mission.Control",
                version=3,
                lease_seq=123456789012,
                alpn="aster/1",
                serialization_modes=["fory-xlang", "json"],
                feature_flags=["zstd", "sessions"],
                relay_url="https://relay.example/",
                direct_addrs=["192.0.2.1:4433", "[2001:db8::1]:4433"],
                load=0.1,
                language_runtime="python/3.11",
                policy_realm="prod",
                tags=["blue", "caf\u00e9"],
            ),
        ),
        ("load 1.0", lease("ep-4", load=1.0)),
        ("load 0.0", lease("ep-5", load=0.0)),
        ("load 1e-05", lease("ep-6", load=1e-05)),
        ("load 0.3333333333333333", lease("ep-7", load=1 / 3)),
        ("negative version and timestamps", lease("ep-8", version=-1, lease_expires_epoch_ms=-5, updated_at_epoch_ms=-50)),
    ]
    encoded = []
    for name, obj in cases:
        text = obj.to_json()
        check(EndpointLease.from_json(text) == obj, f"lease round trip {name}")
        encoded.append({"name": name, "fields": json.loads(text), "json": text})

    full = json.loads(lease("ep-1").to_json())
    minus = {k: v for k, v in full.items() if k not in ("feature_flags", "tags", "relay_url", "load", "language_runtime", "policy_realm", "direct_addrs", "serialization_modes", "aster_version")}
    with_nulls = dict(full, serialization_modes=None, tags=None)
    decode_inputs = [
        ("canonical", json.dumps(full, separators=(",", ":"))),
        ("pretty-printed", json.dumps(full, indent=2)),
        ("keys reordered", json.dumps(dict(sorted(full.items())), separators=(",", ":"))),
        ("unknown key", json.dumps(dict(full, weight=3), separators=(",", ":"))),
        ("optional fields missing", json.dumps(minus, separators=(",", ":"))),
        ("null lists", json.dumps(with_nulls, separators=(",", ":"))),
        ("missing lease_seq", json.dumps({k: v for k, v in full.items() if k != "lease_seq"}, separators=(",", ":"))),
        ("unknown health", json.dumps(dict(full, health_status="sleeping"), separators=(",", ":"))),
        ("tombstone text", "null"),
        ("not JSON", "{\"endpoint_id\""),
    ]
    return encoded, [decode_case(name, text, EndpointLease.from_json) for name, text in decode_inputs]


# ── Publisher life cycle ─────────────────────────────────────────────────────


async def publisher_vectors() -> dict:
    clock = VirtualClock(T0)
    install_clock(clock)
    doc = MemoryDoc(clock)
    topic = MemoryTopic()
    pub = publisher_mod.RegistryPublisher(doc, AUTHOR_A, gossip_mod.RegistryGossip(topic))
    spec = dict(
        contract_id=CID_A,
        service="Echo",
        version=2,
        endpoint_id="9f" * 32,
        alpn="aster/1",
        serialization_modes=["fory-xlang", "json"],
        direct_addrs=["192.0.2.1:4433"],
        relay_url="https://relay.example/",
        feature_flags=["zstd"],
        tags=["blue"],
        policy_realm="prod",
        language_runtime="python/3.11",
        aster_version="0.1.2",
    )
    steps: list[dict] = []

    def record(op: str, **extra) -> None:
        writes_before = record.seen
        new_writes = doc.writes[writes_before:]
        new_gossip = topic.sent[record.gossip_seen:]
        check(len(new_writes) == len(new_gossip) == 1, f"{op}: one write and one gossip ({len(new_writes)}, {len(new_gossip)})")
        at, key, value = new_writes[0]
        steps.append({"op": op, "at_ms": at, **extra, "key": key, "value": value.decode(), "gossip": new_gossip[0].decode()})
        record.seen = len(doc.writes)
        record.gossip_seen = len(topic.sent)

    record.seen = 0
    record.gossip_seen = 0

    await pub.register_endpoint(**spec)
    record("register")
    await clock.advance_to(T0 + 1_000)
    await pub.set_health("ready")
    record("set_health", health="ready")
    await clock.advance_to(T0 + 15_000)  # the refresh task wakes at T0 + 15 s
    record("refresh")
    await clock.advance_to(T0 + 20_000)
    await pub.set_health("degraded")
    record("set_health", health="degraded")
    await clock.advance_to(T0 + 30_000)  # second refresh
    record("refresh")
    await clock.advance_to(T0 + 31_000)
    withdraw = asyncio.create_task(pub.withdraw(grace_period_s=5.0))
    await clock.settle()
    record("withdraw", grace_ms=5_000)
    await clock.advance_to(T0 + 36_000)
    await withdraw
    record("tombstone")
    check(steps[-1]["value"] == "null", "tombstone is null")
    await clock.advance_to(T0 + 120_000)
    check(len(doc.writes) == len(steps), "no writes after withdraw")

    # A second endpoint with every register_endpoint default.
    doc2 = MemoryDoc(clock)
    topic2 = MemoryTopic()
    pub2 = publisher_mod.RegistryPublisher(doc2, AUTHOR_A, gossip_mod.RegistryGossip(topic2))
    await pub2.register_endpoint(CID_B, "Defaults", 1, endpoint_id="ep-defaults")
    defaults = {"at_ms": clock.now_ms, "key": doc2.writes[0][1], "value": doc2.writes[0][2].decode(), "gossip": topic2.sent[0].decode()}
    await pub2.close()
    return {
        "t0_ms": T0,
        "lease_duration_ms": 45_000,
        "refresh_interval_ms": 15_000,
        "spec": {k: v for k, v in spec.items()},
        "steps": steps,
        "defaults_register": {"spec": {"contract_id": CID_B, "service": "Defaults", "version": 1, "endpoint_id": "ep-defaults"}, **defaults},
    }


# ── Gossip ───────────────────────────────────────────────────────────────────


async def gossip_vectors() -> tuple[list[dict], list[dict]]:
    clock = VirtualClock(T0 + 777)
    install_clock(clock)
    topic = MemoryTopic()
    g = gossip_mod.RegistryGossip(topic)
    calls = [
        ("contract_published", [CID_A, "Echo", 3]),
        ("channel_updated", ["Echo", "stable", CID_A]),
        ("endpoint_lease_upserted", ["ep-1", "Echo", 42, CID_A]),
        ("endpoint_down", ["ep-1", "Echo"]),
        ("acl_changed", ["_aster/acl/writers"]),
        ("compatibility_published", [CID_A, CID_B]),
    ]
    out = []
    for method, args in calls:
        await getattr(g, f"broadcast_{method}")(*args)
        text = topic.sent[-1].decode()
        check(GossipEvent.from_json(text).to_json() == text, f"gossip round trip {method}")
        out.append({"method": method, "args": args, "now_ms": clock.now_ms, "json": text})

    decode_inputs = [
        ("type only", '{"type":3}'),
        ("unknown type 6", '{"type":6,"service":"Echo"}'),
        ("negative type", '{"type":-1}'),
        ("missing type", '{"service":"Echo"}'),
        ("unknown key", '{"type":0,"service":"Echo","version":1,"extra":true,"timestamp_ms":9}'),
        ("null timestamp", '{"type":4,"key_prefix":"_aster/acl/","timestamp_ms":null}'),
        ("pretty-printed", json.dumps({"type": 2, "endpoint_id": "ep-1", "version": 7}, indent=2)),
    ]
    return out, [decode_case(name, text, GossipEvent.from_json) for name, text in decode_inputs]


# ── ACL ──────────────────────────────────────────────────────────────────────


async def acl_vectors() -> tuple[list[dict], list[dict]]:
    lists = [
        ("empty", []),
        ("one writer", ["9f" * 32]),
        ("two writers", [AUTHOR_A, AUTHOR_B]),
        ("non-ASCII", ["auteur-\u00e9", "\U0001f680"]),
    ]
    encoded = []
    for name, values in lists:
        doc = MemoryDoc()
        acl = acl_mod.RegistryACL(doc, AUTHOR_A)
        await acl._persist("writers", values)
        (_, key, value), = doc.writes
        check(key == "_aster/acl/writers", "ACL key")
        encoded.append({"name": name, "values": values, "key": key, "json": value.decode()})

    big = [f"w{i:05d}" for i in range(10_001)]
    reload_cases = [
        ("no writers list: open", []),
        ("empty writers list: restricted, nobody trusted", [("_aster/acl/writers", AUTHOR_A, 1, "[]")]),
        ("writers list", [("_aster/acl/writers", AUTHOR_A, 1, json.dumps([AUTHOR_A, AUTHOR_B]))]),
        (
            "own entry preferred over a newer foreign one",
            [
                ("_aster/acl/writers", AUTHOR_A, 1, json.dumps([AUTHOR_A])),
                ("_aster/acl/writers", AUTHOR_B, 9, json.dumps([AUTHOR_B])),
            ],
        ),
        ("writers not a list", [("_aster/acl/writers", AUTHOR_A, 1, '{"a": 1}')]),
        ("readers without writers: open", [("_aster/acl/readers", AUTHOR_A, 1, json.dumps([AUTHOR_B]))]),
        ("10001 writers", [("_aster/acl/writers", AUTHOR_A, 1, json.dumps(big))]),
    ]
    reloads = []
    for name, rows in reload_cases:
        doc = MemoryDoc()
        for key, author, ts, value in rows:
            doc.put(key, author, ts, value.encode())
        acl = acl_mod.RegistryACL(doc, AUTHOR_A)
        await acl.reload()
        writers = sorted(await acl.get_writers())
        entries = doc.export()
        if name == "10001 writers":
            check(len(writers) == 10_000 and writers == big[:10_000], "reference truncates to 10,000")
            for e in entries:
                e["value"] = {"generated": "w%05d", "count": 10_001}
            result = {"open": acl._open, "writers": {"generated": "w%05d", "count": 10_000}}
        else:
            result = {"open": acl._open, "writers": writers}
        reloads.append({"name": name, "local_author": AUTHOR_A, "entries": entries, "reference": result})
    return encoded, reloads


# ── Resolve ──────────────────────────────────────────────────────────────────


def lease_row(endpoint_id: str, author: str = AUTHOR_A, ts: int = 10, service: str = "Echo", cid: str = CID_A, **over):
    obj = lease(endpoint_id, service=service, contract_id=cid, **over)
    return (f"services/{service}/contracts/{cid}/endpoints/{endpoint_id}", author, ts, obj.to_json())


def pointer(key: str, cid: str, author: str = AUTHOR_A, ts: int = 1):
    return (key, author, ts, cid)


def fresh(now: int, endpoint_id: str, **over):
    """A lease written at `now` with the publisher's defaults."""
    over.setdefault("updated_at_epoch_ms", now)
    over.setdefault("lease_expires_epoch_ms", now + 45_000)
    return lease_row(endpoint_id, **over)


V1 = pointer("services/Echo/versions/v1", CID_A)


def resolve_scenarios() -> list[dict]:
    """Each scenario: client options, ACL author (or None = no ACL object), calls.
    Each call: the doc at that moment, `now`, the selector and the strategy."""
    T = T0
    three = lambda now, seq: [fresh(now, e, lease_seq=seq) for e in ("ep-a", "ep-b", "ep-c")]
    s = []
    s.append(dict(
        name="health: ready before degraded, starting and draining dropped",
        calls=[dict(now=T + 1_000, version=1, doc=[V1,
            fresh(T, "ep-a", health_status="degraded"), fresh(T, "ep-b", health_status="starting"),
            fresh(T, "ep-c", health_status="ready"), fresh(T, "ep-d", health_status="draining")])],
    ))
    s.append(dict(
        name="round robin across refreshes",
        calls=[dict(now=T + 15_000 * i + 1, version=1, doc=[V1] + three(T + 15_000 * i, i + 1)) for i in range(5)],
    ))
    s.append(dict(
        name="R1: repeated resolve without a refresh",
        calls=[dict(now=T + 1_000, version=1, doc=[V1] + three(T, 4)), dict(now=T + 2_000, version=1, doc=[V1] + three(T, 4))],
    ))
    s.append(dict(
        name="channel used when the version pointer is missing",
        calls=[dict(now=T + 1, version=9, channel="stable", doc=[pointer("services/Echo/channels/stable", CID_B), fresh(T, "ep-b", cid=CID_B)])],
    ))
    s.append(dict(
        name="version pointer wins over channel",
        calls=[dict(now=T + 1, version=1, channel="stable", doc=[V1, pointer("services/Echo/channels/stable", CID_B),
            fresh(T, "ep-a"), fresh(T, "ep-b", cid=CID_B)])],
    ))
    s.append(dict(
        name="explicit contract id wins",
        calls=[dict(now=T + 1, contract_id=CID_B, version=1, doc=[V1, fresh(T, "ep-a"), fresh(T, "ep-b", cid=CID_B)])],
    ))
    s.append(dict(
        name="open registry: newest pointer wins",
        calls=[dict(now=T + 1, version=1, doc=[pointer("services/Echo/versions/v1", CID_A, AUTHOR_A, 100),
            pointer("services/Echo/versions/v1", CID_B, AUTHOR_B, 200), fresh(T, "ep-a"), fresh(T, "ep-b", cid=CID_B)])],
    ))
    s.append(dict(
        name="pointer tie on timestamp: the first author in doc order",
        calls=[dict(now=T + 1, version=1, doc=[pointer("services/Echo/versions/v1", CID_B, AUTHOR_B, 100),
            pointer("services/Echo/versions/v1", CID_A, AUTHOR_A, 100), fresh(T, "ep-a"), fresh(T, "ep-b", cid=CID_B)])],
    ))
    s.append(dict(
        name="ACL: untrusted author's newer pointer and leases ignored",
        acl_author=AUTHOR_A,
        calls=[dict(now=T + 1, version=1, doc=[("_aster/acl/writers", AUTHOR_A, 1, json.dumps([AUTHOR_A])),
            pointer("services/Echo/versions/v1", CID_A, AUTHOR_A, 100),
            pointer("services/Echo/versions/v1", CID_B, AUTHOR_B, 200),
            fresh(T, "ep-a"), fresh(T, "ep-x", author=AUTHOR_B), fresh(T, "ep-b", cid=CID_B)])],
    ))
    s.append(dict(
        name="ACL object but no writers list: open",
        acl_author=AUTHOR_A,
        calls=[dict(now=T + 1, version=1, doc=[V1, fresh(T, "ep-a"), fresh(T, "ep-x", author=AUTHOR_B)])],
    ))
    s.append(dict(
        name="mandatory filters",
        options=dict(caller_policy_realm="prod"),
        calls=[dict(now=T + 45_000, version=1, doc=[V1,
            fresh(T, "ep-01-ok"),
            fresh(T, "ep-02-alpn", alpn="aster/2"),
            fresh(T, "ep-03-modes", serialization_modes=["json"]),
            fresh(T, "ep-04-realm-other", policy_realm="dev"),
            fresh(T, "ep-05-realm-same", policy_realm="prod"),
            fresh(T - 1, "ep-06-stale-by-1ms"),
            fresh(T, "ep-07-degraded", health_status="degraded"),
            ("services/Echo/contracts/%s/endpoints/ep-08-tombstone" % CID_A, AUTHOR_A, 10, "null"),
            ("services/Echo/contracts/%s/endpoints/ep-09-empty" % CID_A, AUTHOR_A, 10, ""),
            ("services/Echo/contracts/%s/endpoints/ep-10-malformed" % CID_A, AUTHOR_A, 10, "{not json"),
            fresh(T, "ep-11-unknown-health", health_status="sleeping"),
            fresh(T, "ep-12-modes-overlap", serialization_modes=["json", "fory-xlang"]),
        ])],
    ))
    s.append(dict(
        name="caller modes and empty alpn",
        options=dict(caller_serialization_modes=["json"], caller_alpn=""),
        calls=[dict(now=T + 1, version=1, doc=[V1, fresh(T, "ep-a"), fresh(T, "ep-b", serialization_modes=["json"], alpn="h3")])],
    ))
    s.append(dict(
        name="empty caller modes mean fory-xlang",
        options=dict(caller_serialization_modes=[]),
        calls=[dict(now=T + 1, version=1, doc=[V1, fresh(T, "ep-a"), fresh(T, "ep-b", serialization_modes=["json"])])],
    ))
    s.append(dict(
        name="least load, unknown last, per health group",
        calls=[dict(now=T + 1, version=1, strategy="least_load", doc=[V1,
            fresh(T, "ep-a", load=0.9), fresh(T, "ep-b"), fresh(T, "ep-c", load=0.1), fresh(T, "ep-d", load=0.5),
            fresh(T, "ep-e", load=0.5), fresh(T, "ep-f", load=0.0, health_status="degraded"), fresh(T, "ep-g", health_status="degraded"),
            fresh(T, "ep-h", load=0.2, health_status="degraded")])],
    ))
    s.append(dict(
        name="R5: expiry passed while updated_at is recent",
        calls=[dict(now=T + 20_000, version=1, doc=[V1, fresh(T, "ep-a", lease_expires_epoch_ms=T + 10_000), fresh(T, "ep-b", lease_expires_epoch_ms=T + 15_000)])],
    ))
    s.append(dict(
        name="skew: lease stamped in the future",
        calls=[dict(now=T, version=1, doc=[V1, fresh(T + 5_000, "ep-a"), fresh(T + 60_000, "ep-b")])],
    ))
    s.append(dict(
        name="round robin with a degraded endpoint present",
        calls=[dict(now=T + 15_000 * i + 1, version=1, doc=[V1,
            fresh(T + 15_000 * i, "ep-a", lease_seq=i + 1), fresh(T + 15_000 * i, "ep-b", lease_seq=i + 1),
            fresh(T + 15_000 * i, "ep-c", lease_seq=i + 1), fresh(T + 15_000 * i, "ep-d", lease_seq=i + 1, health_status="degraded")])
            for i in range(4)],
    ))
    s.append(dict(
        name="lease body names another endpoint than its key",
        calls=[dict(now=T + 1, version=1, doc=[V1, fresh(T, "ep-a"),
            ("services/Echo/contracts/%s/endpoints/ep-z" % CID_A, AUTHOR_A, 10, lease("ep-y", updated_at_epoch_ms=T, lease_expires_epoch_ms=T + 45_000).to_json())])],
    ))
    s.append(dict(
        name="older lease_seq after a newer one is refused",
        calls=[dict(now=T + 16_000, version=1, doc=[V1, fresh(T + 15_000, "ep-a", lease_seq=5)]),
               dict(now=T + 17_000, version=1, doc=[V1, fresh(T, "ep-a", lease_seq=3)])],
    ))
    s.append(dict(
        name="publisher restart: seq starts again at 1",
        calls=[dict(now=T + 1_000, version=1, doc=[V1, fresh(T, "ep-a", lease_seq=20)]),
               dict(now=T + 100_000, version=1, doc=[V1, fresh(T + 99_000, "ep-a", lease_seq=1)])],
    ))
    s.append(dict(
        name="two authors lease the same endpoint",
        calls=[dict(now=T + 1, version=1, doc=[V1, fresh(T, "ep-a", author=AUTHOR_A, lease_seq=3), fresh(T, "ep-a", author=AUTHOR_B, lease_seq=4)])],
    ))
    s.append(dict(
        name="no pointer",
        calls=[dict(now=T + 1, version=2, doc=[V1, fresh(T, "ep-a")])],
    ))
    s.append(dict(
        name="pointer value is not a contract id",
        calls=[dict(now=T + 1, version=1, doc=[pointer("services/Echo/versions/v1", "not-a-contract-id"), fresh(T, "ep-a")])],
    ))
    s.append(dict(
        name="pointer value with surrounding whitespace",
        calls=[dict(now=T + 1, version=1, doc=[pointer("services/Echo/versions/v1", "  %s\n" % CID_A), fresh(T, "ep-a")])],
    ))
    s.append(dict(
        name="empty newest pointer falls through to the channel",
        calls=[dict(now=T + 1, version=1, channel="stable", doc=[pointer("services/Echo/versions/v1", ""),
            pointer("services/Echo/channels/stable", CID_A), fresh(T, "ep-a")])],
    ))
    s.append(dict(
        name="freshness boundary: exactly 45 s old",
        calls=[dict(now=T + 45_000, version=1, doc=[V1, fresh(T, "ep-a")]), dict(now=T + 45_001, version=1, doc=[V1, fresh(T, "ep-a")])],
    ))
    return s


async def run_scenario(sc: dict) -> dict:
    opts = dict(caller_alpn="aster/1", caller_serialization_modes=None, caller_policy_realm=None)
    opts.update(sc.get("options", {}))
    clock = VirtualClock(sc["calls"][0]["now"])
    install_clock(clock)
    doc = MemoryDoc()
    acl = acl_mod.RegistryACL(doc, sc["acl_author"]) if sc.get("acl_author") else None
    client = client_mod.RegistryClient(doc, acl=acl, lease_duration_s=45, **opts)
    calls = []
    for call in sc["calls"]:
        doc.rows.clear()
        for key, author, ts, value in call["doc"]:
            doc.put(key, author, ts, value.encode())
        clock.now_ms = call["now"]
        if acl is not None:
            await acl.reload()
        selector = {k: call[k] for k in ("contract_id", "version", "channel") if k in call}
        strategy = call.get("strategy", "round_robin")
        try:
            ranked = await client.resolve_all("Echo", strategy=strategy, **selector)
            result = {"endpoints": [l.endpoint_id for l in ranked]}
        except Exception as exc:  # noqa: BLE001
            result = {"error": type(exc).__name__}
        calls.append({"now_ms": call["now"], "service": "Echo", **selector, "strategy": strategy,
                      "doc": doc.export(), "reference": result})
    return {"name": sc["name"], "acl_author": sc.get("acl_author"), "options": opts, "calls": calls}


# ── Main ─────────────────────────────────────────────────────────────────────


async def build_document() -> dict:
    artifact_refs, artifact_decode = artifact_vectors()
    leases, lease_decode = lease_vectors()
    publisher = await publisher_vectors()
    events, event_decode = await gossip_vectors()
    acl_lists, acl_reload = await acl_vectors()
    scenarios = [await run_scenario(sc) for sc in resolve_scenarios()]
    return {
        "description": (
            "Registry values and behaviour produced live by aster-rpc 0.1.2 (aster.registry): keys, "
            "ArtifactRef / EndpointLease / GossipEvent JSON, a RegistryPublisher life cycle on a "
            "virtual clock, ACL list bytes and reloads, and RegistryClient.resolve_all scenarios. "
            "Reference defects are recorded as they are; see conformance/generate/registry_vectors.py "
            "and proto/tests/registry.rs for the port's deliberate differences."
        ),
        "generator": {"script": SCRIPT, "aster_rpc": ASTER_RPC_VERSION},
        "keys": key_vectors(),
        "reference_download_prefixes": [p.decode() for p in keys_mod.REGISTRY_PREFIXES],
        "artifact_refs": artifact_refs,
        "artifact_ref_decode": artifact_decode,
        "leases": leases,
        "lease_decode": lease_decode,
        "publisher": publisher,
        "gossip_events": events,
        "gossip_decode": event_decode,
        "acl_lists": acl_lists,
        "acl_reload": acl_reload,
        "resolve_scenarios": scenarios,
    }


def count_vectors(doc: dict) -> int:
    n = 0
    for k in ("keys", "artifact_refs", "artifact_ref_decode", "leases", "lease_decode", "gossip_events",
              "gossip_decode", "acl_lists", "acl_reload"):
        n += len(doc[k])
    n += len(doc["publisher"]["steps"]) + 1
    n += sum(len(s["calls"]) for s in doc["resolve_scenarios"])
    return n


def main(argv: list[str]) -> int:
    check(importlib_metadata.version("aster-rpc") == ASTER_RPC_VERSION, "aster-rpc version")
    out_dir = Path(argv[1]) if len(argv) > 1 else REPO_ROOT / "conformance" / "vectors"
    logging.disable(logging.CRITICAL)
    document = asyncio.run(build_document())
    text = json.dumps(document, indent=2, ensure_ascii=True, allow_nan=False) + "\n"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "registry.json").write_text(text, encoding="utf-8")
    print(f"registry.json: {count_vectors(document)} vectors "
          f"({len(document['resolve_scenarios'])} resolve scenarios), {len(text)} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
