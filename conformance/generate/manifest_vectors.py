#!/usr/bin/env python3
"""Generate conformance/vectors/manifests.json from the Python reference.

Usage (from the repository root):

    $(scripts/reference-venv.sh | tail -1) conformance/generate/manifest_vectors.py [OUT_DIR]

OUT_DIR defaults to conformance/vectors. Every ``manifest_json`` string in the
output is text produced by aster-rpc 0.1.2 itself, by one of the two code
paths that write a ``ContractManifest``:

* ``runtime``: what ``AsterServer`` publishes for a service, i.e. the
  ``manifest.json`` entry of the contract collection and the registry doc
  value at ``manifests/<contract_id>``. The steps are the ones in
  ``aster.runtime`` (``_publish_contracts``): ``build_type_graph``,
  ``resolve_with_cycles``, ``ServiceContract.from_service_info`` and then
  ``aster.contract.publication.build_collection(contract, type_defs,
  service_info=info)``, whose ``manifest.json`` bytes are recorded.
* ``contract_gen``: the file ``aster contract gen`` writes (by default
  ``.aster/manifest.json``), produced by ``aster_cli.contract._gen_command``
  itself. That command reads the clock and runs ``git``; the generator
  replaces ``_git_revision``/``_git_tag``/``_git_remote_url`` and the module's
  ``time`` with fixed values (recorded in ``publication``), so the output is
  deterministic. With several ``--service`` options the command writes a JSON
  array of manifests.

The services are declared below with the reference decorators. The Mission
Control types and services are copied from the reference repository's
``examples/python/mission_control/{types,services}.py`` (snapshot HEAD); when
the mirror of that repository is present (``ASTER_REF_REPO``, default
``/work/.mirror/aster-rpc+aster-rpc/repo``) the generator also builds the
manifests from the example files themselves and checks they are identical.

Self-checks (any failure aborts before anything is written): every manifest
is parsed back with ``ContractManifest.from_json`` and re-serialised to the
same text; its ``contract_id`` equals ``contract_id_from_service``; the text is
pure ASCII. The output is deterministic (no clock, no randomness, fixed input
order); two runs give byte-identical files.
"""

import sys

sys.dont_write_bytecode = True  # keep conformance/generate/ free of __pycache__

import argparse
import contextlib
import dataclasses
import enum
import importlib
import io
import json
import os
import subprocess
import tempfile
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Optional

import pyfory

import aster_cli.contract as cli_contract
from aster.codec import wire_type
from aster.contract import identity as ci
from aster.contract.manifest import ContractManifest
from aster.contract.publication import build_collection
from aster.decorators import bidi_stream, client_stream, rpc, server_stream, service
from aster.rpc_types import SerializationMode

SCRIPT = "conformance/generate/manifest_vectors.py"
ASTER_RPC_VERSION = "0.1.2"
PYFORY_VERSION = "0.16.0"
REPO_ROOT = Path(__file__).resolve().parents[2]
MIRROR = Path(os.environ.get("ASTER_REF_REPO", "/work/.mirror/aster-rpc+aster-rpc/repo"))


class GenerationError(Exception):
    """A reference result did not match what the generator expected."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise GenerationError(message)


def check_environment() -> None:
    aster_version = importlib_metadata.version("aster-rpc")
    check(aster_version == ASTER_RPC_VERSION, f"aster-rpc {aster_version} != {ASTER_RPC_VERSION}")
    check(pyfory.__version__ == PYFORY_VERSION, f"pyfory {pyfory.__version__} != {PYFORY_VERSION}")


# ===========================================================================
# Mission Control: examples/python/mission_control/types.py (HEAD), verbatim
# ===========================================================================

@wire_type("mission/StatusRequest")
@dataclass
class StatusRequest:
    agent_id: str = ""


@wire_type("mission/StatusResponse")
@dataclass
class StatusResponse:
    agent_id: str = ""
    status: str = "idle"
    uptime_secs: int = 0


@wire_type("mission/LogEntry")
@dataclass
class LogEntry:
    timestamp: float = 0.0
    level: str = "info"
    message: str = ""
    agent_id: str = ""


@wire_type("mission/SubmitLogResult")
@dataclass
class SubmitLogResult:
    accepted: bool = True


@wire_type("mission/TailRequest")
@dataclass
class TailRequest:
    agent_id: str = ""
    level: str = "info"


@wire_type("mission/MetricPoint")
@dataclass
class MetricPoint:
    name: str = ""
    value: float = 0.0
    timestamp: float = 0.0
    tags: dict[str, str] = field(default_factory=dict)


@wire_type("mission/IngestResult")
@dataclass
class IngestResult:
    accepted: pyfory.int32 = 0
    dropped: pyfory.int32 = 0


@wire_type("mission/Heartbeat")
@dataclass
class Heartbeat:
    agent_id: str = ""
    capabilities: list[str] = field(default_factory=list)
    load_avg: float = 0.0


@wire_type("mission/Assignment")
@dataclass
class Assignment:
    task_id: str = ""
    command: str = ""


@wire_type("mission/Command")
@dataclass
class Command:
    command: str = ""


@wire_type("mission/CommandResult")
@dataclass
class CommandResult:
    stdout: str = ""
    stderr: str = ""
    exit_code: pyfory.int32 = -1


# services.py (HEAD): signatures and docstrings; bodies are irrelevant here.

@service(name="MissionControl", version=1)
class MissionControl:
    """Shared service -- one instance, all clients see the same state."""

    @rpc()
    async def getStatus(self, req: StatusRequest) -> StatusResponse:
        return StatusResponse()

    @rpc()
    async def submitLog(self, entry: LogEntry) -> SubmitLogResult:
        """Agents call this to push log entries."""
        return SubmitLogResult()

    @server_stream()
    async def tailLogs(self, req: TailRequest) -> AsyncIterator[LogEntry]:
        """Stream log entries as they arrive, filtered by agent and level."""
        yield LogEntry()

    @client_stream()
    async def ingestMetrics(self, stream: AsyncIterator[MetricPoint]) -> IngestResult:
        """Receive a stream of metric points from an agent."""
        return IngestResult()


@service(name="AgentSession", version=1, scoped="session")
class AgentSession:
    """Session-scoped -- one instance per connected agent."""

    def __init__(self, peer: str | None = None) -> None:
        self._peer = peer

    @rpc()
    async def register(self, hb: Heartbeat) -> Assignment:
        """Agent announces itself and gets an assignment."""
        return Assignment()

    @rpc()
    async def heartbeat(self, hb: Heartbeat) -> Assignment:
        """Periodic check-in -- update load, maybe get new work."""
        return Assignment()

    @bidi_stream()
    async def runCommand(self, commands: AsyncIterator[Command]) -> AsyncIterator[CommandResult]:
        """Execute commands on this agent. Admin-only."""
        yield CommandResult()


# ===========================================================================
# Other services
# ===========================================================================

# --- Echo (wire.md §9.3) ---------------------------------------------------

@wire_type("echo/EchoRequest")
@dataclass
class EchoRequest:
    message: str = ""


@wire_type("echo/EchoResponse")
@dataclass
class EchoResponse:
    reply: str = ""


@service(name="Echo", version=1)
class Echo:
    """Echoes its input. (Docstrings never reach a 0.1.2 manifest.)"""

    @rpc
    async def echo(self, req: EchoRequest) -> EchoResponse:
        """Returns the message."""
        return EchoResponse(reply=req.message)


# --- Ledger: modes [xlang, json], timeouts, idempotent (golden vector) ------

@service(name="Ledger", version=7, serialization=[SerializationMode.XLANG, SerializationMode.JSON])
class Ledger:
    @rpc(timeout=2.5, idempotent=True)
    async def balance(self, req: StatusRequest) -> StatusResponse:
        return StatusResponse()

    @rpc(timeout=30.0)
    async def post(self, req: LogEntry) -> SubmitLogResult:
        return SubmitLogResult()


# --- Catalog: every field shape, with the defaults a Rust
# `#[derive(Default)]` struct has (see proto/src/contract/manifest) ----------

@wire_type("shop/Money")
@dataclass
class Money:
    units: int = 0
    nanos: pyfory.int32 = 0
    currency: str = ""


@wire_type("shop/Color")
class Color(str, enum.Enum):
    """A `str` enum whose values are the member names: the only Python enum
    whose manifest entry (`enum_values`, `default_value`) a Rust enum can
    reproduce."""
    Red = "Red"
    Green = "Green"
    Blue = "Blue"


@wire_type("shop/Item")
@dataclass
class Item:
    sku: str = ""
    title: str = ""
    price: Money = field(default_factory=Money)
    color: Color = Color.Red
    tags: list[str] = field(default_factory=list)
    image: bytes = b""
    discontinued: bool = False


@wire_type("shop/Query")
@dataclass
class Query:
    text: str = ""
    limit: int = 0
    min_price: Optional[Money] = None
    colors: list[Color] = field(default_factory=list)
    any_color: Optional[Color] = None
    skus: list[Optional[str]] = field(default_factory=list)
    facets: dict[str, list[str]] = field(default_factory=dict)
    boost: dict[str, float] = field(default_factory=dict)
    prices_by_sku: dict[str, Money] = field(default_factory=dict)
    optional_items: dict[int, Optional[Item]] = field(default_factory=dict)
    by_color: dict[str, Color] = field(default_factory=dict)
    grid: list[list[Item]] = field(default_factory=list)
    pages: list[dict[str, int]] = field(default_factory=list)
    notes: Optional[list[str]] = None
    attributes: Optional[dict[str, int]] = None
    cursor: Optional[bytes] = None
    page_size: Optional[pyfory.int32] = None
    small: pyfory.int8 = 0
    medium: pyfory.int16 = 0
    ratio: pyfory.float32 = 0.0
    sizes: list[pyfory.int32] = field(default_factory=list)
    exact: Optional[bool] = None
    weight: Optional[float] = None


@wire_type("shop/Page")
@dataclass
class Page:
    items: list[Item] = field(default_factory=list)
    maybe: list[Optional[Item]] = field(default_factory=list)
    total: int = 0
    next_cursor: Optional[bytes] = None
    first: Item = field(default_factory=Item)


@wire_type("shop/Upload")
@dataclass
class Upload:
    item: Item = field(default_factory=Item)
    chunk: bytes = b""


@wire_type("shop/UploadResult")
@dataclass
class UploadResult:
    stored: pyfory.int32 = 0
    skus: list[str] = field(default_factory=list)


@service(name="Catalog", version=3, serialization=[SerializationMode.JSON, SerializationMode.XLANG])
class Catalog:
    @rpc(idempotent=True, timeout=1.5)
    async def search(self, req: Query) -> Page:
        return Page()

    @server_stream(timeout=0.25)
    async def watch(self, req: Query) -> AsyncIterator[Item]:
        yield Item()

    @client_stream(idempotent=True)
    async def upload(self, chunks: AsyncIterator[Upload]) -> UploadResult:
        return UploadResult()

    @bidi_stream(timeout=600.0)
    async def sync(self, items: AsyncIterator[Item]) -> AsyncIterator[Item]:
        yield Item()

    @rpc
    async def price(self, req: Money) -> Money:
        return Money()


# --- Notebook: session scope, doc strings, timeouts, idempotent, method-name
# order, non-ASCII text, and defaults that are not the type's defaults -------

@wire_type("notes/Cell")
@dataclass
class Cell:
    source: str = "print('hi')"
    outputs: list[str] = field(default_factory=lambda: ["ok", "\u00e9t\u00e9"])
    exec_count: int = -1
    runtime_ms: float = 0.1
    pinned: bool = True


@wire_type("notes/Open")
@dataclass
class Open:
    title: str = "Caf\u00e9 \u2713 \U0001F600 \"q\" \\ \t"
    cells: list[Cell] = field(default_factory=list)
    first: Cell = field(default_factory=Cell)
    maybe: Optional[Cell] = field(default_factory=Cell)
    labels: dict[str, str] = field(default_factory=lambda: {"k": "v"})
    blob: bytes = b"\x00'a\"b\\\x7f\xff"
    quote_only: bytes = b"it's"
    huge: float = 1e16
    tiny: float = 1e-05
    negative_zero: float = -0.0
    big: int = 9007199254740993
    level: Optional[str] = "info"
    color: Color = Color.Blue


@wire_type("notes/Opened")
@dataclass
class Opened:
    session: str = ""
    cells: pyfory.int32 = 0


@service(name="Notebook", version=2, scoped="session")
class Notebook:
    """A per-session notebook."""

    def __init__(self, peer: Optional[str] = None) -> None:
        self.peer = peer

    @rpc(timeout=5.0, idempotent=True)
    async def open(self, req: Open) -> Opened:
        """Opens a notebook: docstrings are not part of a 0.1.2 manifest."""
        return Opened()

    @rpc(timeout=0.001)
    async def Zed(self, req: Cell) -> Cell:
        return Cell()

    @rpc
    async def émile(self, req: Cell) -> Cell:
        return Cell()

    @rpc
    async def a_b(self, req: Cell) -> Cell:
        return Cell()

    @rpc
    async def aB(self, req: Cell) -> Cell:
        return Cell()

    @server_stream(timeout=1e-07)
    async def run(self, req: Cell) -> AsyncIterator[Cell]:
        yield Cell()

    @bidi_stream()
    async def repl(self, cells: AsyncIterator[Cell]) -> AsyncIterator[Cell]:
        yield Cell()


# --- Empty service ----------------------------------------------------------

@service(name="Empty", version=1)
class Empty:
    pass


# --- Python-only facts a Rust descriptor cannot carry (documented
# differences, asserted in proto/tests/manifest.rs) --------------------------

@wire_type("diff/Level")
class Level(enum.Enum):
    LOW = 1
    HIGH = 2


@wire_type("diff/Request")
@dataclass
class PyRequestName:
    name: str                      # no default: required
    level: Level = Level.LOW       # int-valued enum; default repr "Level.LOW"
    count: int = 7


@wire_type("diff/Reply")
@dataclass
class Reply:
    ok: bool = False


@service(name="Differences", version=1)
class Differences:
    @rpc(timeout=30)               # an int timeout is written as `30`
    async def call(self, req: PyRequestName) -> Reply:
        return Reply()


# ===========================================================================
# Producing manifests with the reference's own code
# ===========================================================================

def runtime_manifest(cls: type) -> str:
    """manifest.json exactly as AsterServer publishes it (aster.runtime)."""
    info = cls.__aster_service_info__
    roots: list[type] = []
    for mi in info.methods.values():
        if mi.request_type is not None:
            roots.append(mi.request_type)
        if mi.response_type is not None:
            roots.append(mi.response_type)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        type_defs = ci.resolve_with_cycles(ci.build_type_graph(roots))
    hashes = {fqn: ci.compute_type_hash(ci.canonical_xlang_bytes(td)) for fqn, td in type_defs.items()}
    contract = ci.ServiceContract.from_service_info(info, hashes)
    entries = dict(build_collection(contract, type_defs, service_info=info))
    return entries["manifest.json"].decode("utf-8")


class FixedTime:
    """Stands in for the `time` module inside aster_cli.contract."""

    def __init__(self, epoch_ms: int) -> None:
        self.epoch_ms = epoch_ms

    def time(self) -> float:
        return self.epoch_ms / 1000


def contract_gen(classes: list[type], publication: dict) -> str:
    """The file `aster contract gen --service M:C [...]` writes, with fixed VCS and clock."""
    saved = (cli_contract._git_revision, cli_contract._git_tag, cli_contract._git_remote_url, cli_contract.time)
    cli_contract._git_revision = lambda: publication["vcs_revision"]
    cli_contract._git_tag = lambda: publication["vcs_tag"]
    cli_contract._git_remote_url = lambda: publication["vcs_url"]
    cli_contract.time = FixedTime(publication["published_at_epoch_ms"])
    try:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "manifest.json"
            args = argparse.Namespace(
                service=[f"{cls.__module__}:{cls.__name__}" for cls in classes],
                out=str(out),
                semver=publication["semver"],
            )
            with contextlib.redirect_stdout(io.StringIO()):
                rc = cli_contract._gen_command(args)
            check(rc == 0, f"contract gen exited {rc}")
            return out.read_text(encoding="utf-8")
    finally:
        (cli_contract._git_revision, cli_contract._git_tag, cli_contract._git_remote_url, cli_contract.time) = saved


def self_check(text: str, classes: list[type]) -> None:
    check(text.isascii(), "manifest text is not ASCII")
    data = json.loads(text)
    documents = data if isinstance(data, list) else [data]
    check(len(documents) == len(classes), "manifest count")
    for doc, cls in zip(documents, classes):
        one = json.dumps(doc, indent=2)
        back = ContractManifest.from_json(one)
        check(back.to_json() == one, f"{cls.__name__}: from_json/to_json is not the identity")
        check(doc["contract_id"] == ci.contract_id_from_service(cls), f"{cls.__name__}: contract_id")
    if not isinstance(data, list):
        check(json.dumps(data, indent=2) == text, "text is not json.dumps(indent=2) of itself")


def example_manifests_from_mirror() -> Optional[dict[str, str]]:
    """Runtime manifests of the Mission Control example built from the
    example's own files, or None when the mirror is absent."""
    if not (MIRROR / "HEAD").exists() and not (MIRROR / ".git").exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        pkg = Path(tmp) / "mission_control_ref"
        pkg.mkdir()
        (pkg / "__init__.py").write_text("")
        for name in ("types.py", "services.py"):
            source = subprocess.run(
                ["git", "-C", str(MIRROR), "show", f"HEAD:examples/python/mission_control/{name}"],
                check=True, capture_output=True, text=True,
            ).stdout
            (pkg / name).write_text(source)
        sys.path.insert(0, tmp)
        try:
            services = importlib.import_module("mission_control_ref.services")
            return {
                "MissionControl": runtime_manifest(services.MissionControl),
                "AgentSession": runtime_manifest(services.AgentSession),
            }
        finally:
            sys.path.remove(tmp)


# ===========================================================================

RUNTIME_SERVICES = [
    ("Echo", Echo, "echo/Echo* (wire.md §9.3); docstrings on the class and the method"),
    ("MissionControl", MissionControl, "examples/python/mission_control, shared; non-type defaults"),
    ("AgentSession", AgentSession, "examples/python/mission_control, session scope; pyfory.int32 default -1"),
    ("Ledger", Ledger, "modes [xlang, json], timeouts 2.5 and 30.0, idempotent"),
    ("Catalog", Catalog, "every field shape (nested, optional, list, map, enum, sized ints, bytes); "
                         "modes [json, xlang]; all four patterns; type defaults"),
    ("Notebook", Notebook, "session scope; doc strings; timeouts; idempotent; code-point method order; "
                           "non-ASCII and escaped text; defaults that differ from the type's"),
    ("Empty", Empty, "no methods, no types"),
    ("Differences", Differences, "Python-only facts: required field, int enum, int timeout, class name != tag"),
]

CONTRACT_GEN = [
    ("contract gen: MissionControl + AgentSession (JSON array)", [MissionControl, AgentSession],
     {"semver": None, "vcs_revision": "4f1c2e9d0b7a6c5e3f2a1b0c9d8e7f6a5b4c3d2e", "vcs_tag": None,
      "vcs_url": "https://github.com/aster-rpc/aster-rpc.git", "published_at_epoch_ms": 1767225600000}),
    ("contract gen: Ledger", [Ledger],
     {"semver": "7.1.0", "vcs_revision": "0123456789abcdef0123456789abcdef01234567", "vcs_tag": "v7.1.0",
      "vcs_url": "git@example.com:ledger.git", "published_at_epoch_ms": 1700000000123}),
    ("contract gen: Echo (not in a git checkout)", [Echo],
     {"semver": None, "vcs_revision": None, "vcs_tag": None, "vcs_url": None,
      "published_at_epoch_ms": 0}),
]


READER_CASES = [
    ("legacy (unversioned) fields are upgraded to the v1 schema",
     {"service": "Old", "version": 2, "contract_id": "ab" * 32, "methods": [{
         "name": "get", "pattern": "unary", "request_type": "Req", "response_type": "Resp",
         "timeout": None, "idempotent": False,
         "fields": [
             {"name": "a", "type": "str", "required": True},
             {"name": "n", "type": "int", "required": False, "default": 5},
             {"name": "f", "type": "Double", "required": False},
             {"name": "b", "type": "boolean", "required": False, "default": False},
             {"name": "raw", "type": "bytes", "required": False},
             {"name": "xs", "type": "list[str]", "required": False},
             {"name": "items", "type": "list[Item]", "required": False,
              "element_type": "Item", "element_wire_tag": "shop/Item"},
             {"name": "m", "type": "dict[str, str]", "required": False},
             {"name": "mm", "type": "Map", "required": True},
             {"name": "o", "type": "Optional[str]", "required": False},
             {"name": "o2", "type": "optional", "required": True},
             {"name": "leaf", "type": "Leaf", "wire_tag": "p/Leaf", "required": False},
             {"name": "untyped"},
         ],
         "response_fields": [{"name": "ok", "type": "bool", "required": False, "default": True}],
     }]}),
    ("v1 fields are kept; ints go through int()",
     {"v": 1, "service": "S", "version": "3", "type_count": 2.9, "method_count": True,
      "serialization_modes": ["xlang"], "scoped": "session", "methods": [{
          "name": "m", "pattern": "server_stream", "timeout": 2,
          "fields": [{"name": "x", "kind": "int", "nullable": False, "required": False,
                      "default_value": 0, "default_kind": "value", "properties": {}}]}]}),
]


def reader_vectors() -> list[dict]:
    """ContractManifest.from_json(input).to_json() for inputs that are not
    what a 0.1.2 producer writes (legacy fields, loose integers)."""
    out = []
    for name, data in READER_CASES:
        text = json.dumps(data, indent=2)
        read = ContractManifest.from_json(text).to_json()
        check(read.isascii(), f"{name}: not ASCII")
        out.append({"name": name, "input_json": text, "read_then_written_json": read})
    return out


def build() -> dict:
    vectors = []
    for name, cls, note in RUNTIME_SERVICES:
        text = runtime_manifest(cls)
        self_check(text, [cls])
        vectors.append({
            "name": f"runtime: {name}",
            "producer": "runtime",
            "services": [name],
            "note": note,
            "publication": {"semver": None, "vcs_revision": None, "vcs_tag": None, "vcs_url": None,
                            "published_by": "", "published_at_epoch_ms": 0},
            "manifest_json": text,
        })
    for name, classes, publication in CONTRACT_GEN:
        text = contract_gen(classes, publication)
        self_check(text, classes)
        vectors.append({
            "name": name,
            "producer": "contract_gen",
            "services": [cls.__aster_service_info__.name for cls in classes],
            "note": "aster_cli.contract._gen_command with fixed git values and clock",
            "publication": {**publication, "published_by": ""},
            "manifest_json": text,
        })

    from_mirror = example_manifests_from_mirror()
    if from_mirror is not None:
        for v in vectors:
            if v["producer"] == "runtime" and v["services"][0] in from_mirror:
                check(v["manifest_json"] == from_mirror[v["services"][0]],
                      f"{v['name']}: differs from the manifest of the example's own files")

    return {
        "description": (
            "ContractManifest JSON text written by aster-rpc 0.1.2. producer 'runtime': the manifest.json "
            "entry of the contract collection and the registry value manifests/<contract_id>, written by "
            "AsterServer via aster.contract.publication.build_collection(contract, type_defs, service_info). "
            "producer 'contract_gen': the file `aster contract gen` writes (a JSON array when several "
            "services are given), with git and the clock replaced by the values in 'publication'. "
            "manifest_json is the exact text (json.dumps(asdict(m), indent=2), no trailing newline). "
            "'services' names the services, declared in conformance/generate/manifest_vectors.py and "
            "mirrored in proto/tests/manifest.rs. reader_vectors: input_json read with "
            "ContractManifest.from_json and written again with to_json (legacy field upgrade, int() of "
            "integer keys); keys of upgraded legacy fields are in the reference's order."
        ),
        "generator": {"script": SCRIPT, "aster_rpc": ASTER_RPC_VERSION, "pyfory": PYFORY_VERSION,
                      "mission_control_checked_against_example": from_mirror is not None},
        # Not "vectors": the conformance runner dispatches on that key (to
        # protocol payloads). These are checked by proto/tests/manifest.rs.
        "manifests": vectors,
        "reader_vectors": reader_vectors(),
    }


def main(argv: list[str]) -> int:
    if len(argv) > 2:
        print(f"usage: {argv[0]} [OUT_DIR]", file=sys.stderr)
        return 2
    out_dir = Path(argv[1]) if len(argv) == 2 else REPO_ROOT / "conformance" / "vectors"
    check_environment()
    document = build()
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2, ensure_ascii=True, allow_nan=False) + "\n"
    (out_dir / "manifests.json").write_text(text, encoding="utf-8")
    print(f"{out_dir / 'manifests.json'}: {len(text)} bytes; {len(document['manifests'])} manifests, "
          f"{len(document['reader_vectors'])} reader vectors")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
