"""Prints, as one JSON object, the contract ids aster-rpc 0.1.2 computes for
services whose Rust twins live in `interop/tests/contract_ids.rs`: a spread
of what contract identity has to get right (sized ints, service- and
method-level requires, non-ASCII names, several modes, timeouts and
idempotency, session scope, every pattern).

Run with the pinned reference venv's python; standard output is the JSON,
nothing else.
"""

import json
import warnings
from dataclasses import dataclass, field
from typing import AsyncIterator, Optional

import pyfory
from aster import bidi_stream, client_stream, rpc, server_stream, service, wire_type
from aster.capabilities import all_of, any_of
from aster.codec import SerializationMode
from aster.contract.identity import contract_id_from_service


@wire_type("ids/Probe")
@dataclass
class Probe:
    text: str = ""
    n: int = 0
    small: pyfory.int32 = 0
    ratio: float = 0.0
    ok: bool = False
    blob: bytes = b""
    tags: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)


@wire_type("ids/Reply")
@dataclass
class Reply:
    text: str = ""
    count: pyfory.int32 = 0


@wire_type("ids/Envelope")
@dataclass
class Envelope:
    probe: Probe = field(default_factory=Probe)
    replies: list[Reply] = field(default_factory=list)
    # `Optional[str]`, not `str | None`: 0.1.2 classifies a PEP 604 union as
    # ANY (non-optional), so only `Optional[...]` is the twin of `Option<_>`.
    note: Optional[str] = None


@service(name="Counter", version=1)
class Counter:
    @server_stream
    async def count_up(self, req: Reply) -> AsyncIterator[Reply]:
        yield Reply()


@service(name="Guarded", version=3, requires=any_of("member"))
class Guarded:
    @rpc(requires="reader")
    async def read(self, req: Probe) -> Reply:
        return Reply()

    @rpc(requires=any_of("writer", "admin"))
    async def write(self, req: Probe) -> Reply:
        return Reply()

    @server_stream(requires=all_of("ops", "auditor", "admin"))
    async def audit(self, req: Probe) -> AsyncIterator[Reply]:
        yield Reply()

    @rpc
    async def open(self, req: Probe) -> Reply:
        return Reply()


@service(name="Café", version=1)
class Cafe:
    # 0.1.2 ignores `@rpc(name=...)` (the method scan overwrites it with the
    # attribute name), so the wire name is spelled as the Python name.
    @rpc
    async def grüßen(self, req: Probe) -> Reply:
        return Reply()


@service(name="Books", version=7, serialization=[SerializationMode.XLANG, SerializationMode.JSON])
class Books:
    @rpc(timeout=2.5, idempotent=True)
    async def balance(self, req: Probe) -> Envelope:
        return Envelope()

    @client_stream
    async def post(self, reqs: AsyncIterator[Envelope]) -> Reply:
        return Reply()


@service(name="Chat", version=2, scoped="session")
class Chat:
    def __init__(self, peer=None):
        self.peer = peer

    @bidi_stream
    async def talk(self, reqs: AsyncIterator[Probe]) -> AsyncIterator[Envelope]:
        yield Envelope()

    @rpc
    async def hello(self, req: Probe) -> Reply:
        return Reply()


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    ids = {cls.__aster_service_info__.name: contract_id_from_service(cls) for cls in (Counter, Guarded, Cafe, Books, Chat)}
print(json.dumps(ids, ensure_ascii=False))
