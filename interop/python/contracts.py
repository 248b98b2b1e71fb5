"""Wire types and services shared by the Rust interop tests and the Python
reference peer (aster-rpc 0.1.2).

Every class here has a twin in `interop/tests/common/mod.rs` (Echo, Tally)
or in `examples/mission_control` (MissionControl, AgentSession): same
@wire_type tags, field names and widths, same service and method names. The
contract ids therefore match, which the tests check.

The classes are used both as the Python server's implementations and as the
Python client's typed interfaces (`await client.client(Echo)`).

No `from __future__ import annotations`: with string annotations aster 0.1.2
cannot resolve the response types and the contract ids change.
"""

import asyncio
from dataclasses import dataclass, field
from typing import AsyncIterator

import pyfory
from aster import (
    RpcError,
    StatusCode,
    bidi_stream,
    client_stream,
    rpc,
    server_stream,
    service,
    wire_type,
)


# -- Echo / Tally -------------------------------------------------------------


@wire_type("echo/EchoRequest")
@dataclass
class EchoRequest:
    message: str = ""


@wire_type("echo/EchoResponse")
@dataclass
class EchoResponse:
    reply: str = ""


@wire_type("counter/CountRequest")
@dataclass
class CountRequest:
    count: pyfory.int32 = 0


@wire_type("counter/CountItem")
@dataclass
class CountItem:
    value: pyfory.int32 = 0


# How long `slow` sleeps: far beyond any deadline the tests set.
SLOW_SECONDS = 30.0


@service(name="Echo", version=1)
class Echo:
    """Shared: every pattern, an error and a handler that outlives deadlines."""

    @rpc
    async def echo(self, req: EchoRequest) -> EchoResponse:
        return EchoResponse(reply=req.message)

    @server_stream
    async def count_up(self, req: CountRequest) -> AsyncIterator[CountItem]:
        # count >= 0: 1..count, then OK. count < 0: 1..|count|, then ABORTED.
        for i in range(1, abs(req.count) + 1):
            yield CountItem(value=i)
        if req.count < 0:
            raise RpcError(StatusCode.ABORTED, f"stopped after {-req.count}")

    @client_stream
    async def join(self, reqs: AsyncIterator[EchoRequest]) -> EchoResponse:
        parts = [r.message async for r in reqs]
        return EchoResponse(reply="|".join(parts))

    @bidi_stream
    async def chat(self, reqs: AsyncIterator[EchoRequest]) -> AsyncIterator[EchoResponse]:
        async for r in reqs:
            yield EchoResponse(reply="re:" + r.message)

    @rpc
    async def fail(self, req: EchoRequest) -> EchoResponse:
        raise RpcError(StatusCode.PERMISSION_DENIED, f"no access for {req.message}")

    @rpc
    async def slow(self, req: EchoRequest) -> EchoResponse:
        await asyncio.sleep(SLOW_SECONDS)
        return EchoResponse(reply=req.message)


@service(name="Echo", version=1)
class EchoProbe:
    """Client-side only: a method the peer does not have."""

    @rpc
    async def missing(self, req: EchoRequest) -> EchoResponse:
        raise NotImplementedError

    @bidi_stream
    async def missing_chat(self, reqs: AsyncIterator[EchoRequest]) -> AsyncIterator[EchoResponse]:
        raise NotImplementedError
        yield  # a generator, like every bidi handler


@service(name="Tally", version=1, scoped="session")
class Tally:
    """Session-scoped: one running total per session, every pattern."""

    def __init__(self, peer=None):
        self.peer = peer
        self.total = 0

    def on_session_close(self):
        pass

    @rpc
    async def add(self, req: CountRequest) -> CountItem:
        if req.count < 0:
            raise RpcError(StatusCode.INVALID_ARGUMENT, f"negative: {req.count}")
        self.total += req.count
        return CountItem(value=self.total)

    @server_stream
    async def countdown(self, req: CountRequest) -> AsyncIterator[CountItem]:
        for i in range(req.count, 0, -1):
            yield CountItem(value=i)

    @client_stream
    async def sum(self, reqs: AsyncIterator[CountRequest]) -> CountItem:
        async for r in reqs:
            self.total += r.count
        return CountItem(value=self.total)

    @bidi_stream
    async def running(self, reqs: AsyncIterator[CountRequest]) -> AsyncIterator[CountItem]:
        async for r in reqs:
            self.total += r.count
            yield CountItem(value=self.total)


@service(name="Tally", version=1, scoped="session")
class TallyProbe:
    """Client-side only: a session method the peer does not have."""

    def __init__(self, peer=None):
        pass

    @rpc
    async def missing(self, req: CountRequest) -> CountItem:
        raise NotImplementedError


# -- Mission Control (the walkthrough's types, HEAD era) ---------------------


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


LEVELS = {"debug": 0, "info": 1, "warn": 2, "error": 3}


@service(name="MissionControl", version=1)
class MissionControl:
    """Shared. Log entries fan out to every tailer subscribed at the time."""

    def __init__(self):
        self.tailers: set[asyncio.Queue] = set()
        self.metrics: list[MetricPoint] = []

    @rpc
    async def getStatus(self, req: StatusRequest) -> StatusResponse:
        return StatusResponse(agent_id=req.agent_id, status="running", uptime_secs=3600)

    @rpc
    async def submitLog(self, entry: LogEntry) -> SubmitLogResult:
        for q in list(self.tailers):
            q.put_nowait(entry)
        return SubmitLogResult(accepted=True)

    @server_stream
    async def tailLogs(self, req: TailRequest) -> AsyncIterator[LogEntry]:
        floor = LEVELS.get(req.level.lower(), 0)
        q: asyncio.Queue = asyncio.Queue()
        self.tailers.add(q)
        try:
            while True:
                entry = await q.get()
                if req.agent_id and entry.agent_id != req.agent_id:
                    continue
                if LEVELS.get(entry.level.lower(), 0) < floor:
                    continue
                yield entry
        finally:
            self.tailers.discard(q)

    @client_stream
    async def ingestMetrics(self, points: AsyncIterator[MetricPoint]) -> IngestResult:
        accepted = dropped = 0
        async for p in points:
            if p.name:
                self.metrics.append(p)
                accepted += 1
            else:
                dropped += 1
        return IngestResult(accepted=accepted, dropped=dropped)


@service(name="AgentSession", version=1, scoped="session")
class AgentSession:
    """Session-scoped. Commands are echoed back, never executed."""

    def __init__(self, peer=None):
        self.peer = peer
        self.agent_id = ""
        self.beats = 0

    @rpc
    async def register(self, hb: Heartbeat) -> Assignment:
        self.agent_id = hb.agent_id
        if "gpu" in hb.capabilities:
            return Assignment(task_id="train-42", command="python train.py")
        return Assignment(task_id="idle", command="sleep 60")

    @rpc
    async def heartbeat(self, hb: Heartbeat) -> Assignment:
        self.beats += 1
        return Assignment(task_id=f"continue-{self.agent_id}-{self.beats}", command="")

    @bidi_stream
    async def runCommand(self, commands: AsyncIterator[Command]) -> AsyncIterator[CommandResult]:
        async for c in commands:
            yield CommandResult(stdout=f"{self.agent_id}: {c.command}", stderr="", exit_code=len(c.command))
