"""Mission Control with the walkthrough's roles (chapter 5), in Python.

The reference's `services_auth.py`, on the wire types of `contracts.py`:
`getStatus` needs `ops.status`, `tailLogs` one of `ops.logs` / `ops.admin`,
`ingestMetrics` and `AgentSession.register` need `ops.ingest`, `runCommand`
needs `ops.admin`; `submitLog` and `heartbeat` need nothing. The Rust
`mission-control` crate declares the same requirements. `requires` does not
change a contract id, so Python clients keep using `contracts.MissionControl`
and `contracts.AgentSession` as their typed interfaces.
"""

import asyncio
from typing import AsyncIterator

from aster import any_of, bidi_stream, client_stream, rpc, server_stream, service

from contracts import (
    LEVELS, Assignment, Command, CommandResult, Heartbeat, IngestResult, LogEntry, MetricPoint,
    StatusRequest, StatusResponse, SubmitLogResult, TailRequest,
)

STATUS, LOGS, ADMIN, INGEST = "ops.status", "ops.logs", "ops.admin", "ops.ingest"


@service(name="MissionControl", version=1)
class MissionControlAuth:
    def __init__(self):
        self.tailers: set[asyncio.Queue] = set()

    @rpc(requires=STATUS)
    async def getStatus(self, req: StatusRequest) -> StatusResponse:
        return StatusResponse(agent_id=req.agent_id, status="running", uptime_secs=3600)

    @rpc
    async def submitLog(self, entry: LogEntry) -> SubmitLogResult:
        for q in list(self.tailers):
            q.put_nowait(entry)
        return SubmitLogResult(accepted=True)

    @server_stream(requires=any_of(LOGS, ADMIN))
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

    @client_stream(requires=INGEST)
    async def ingestMetrics(self, points: AsyncIterator[MetricPoint]) -> IngestResult:
        accepted = dropped = 0
        async for p in points:
            if p.name:
                accepted += 1
            else:
                dropped += 1
        return IngestResult(accepted=accepted, dropped=dropped)


@service(name="AgentSession", version=1, scoped="session")
class AgentSessionAuth:
    def __init__(self, peer=None):
        self.agent_id = ""
        self.beats = 0

    @rpc(requires=INGEST)
    async def register(self, hb: Heartbeat) -> Assignment:
        self.agent_id = hb.agent_id
        return Assignment(task_id="idle", command="sleep 60")

    @rpc
    async def heartbeat(self, hb: Heartbeat) -> Assignment:
        self.beats += 1
        return Assignment(task_id=f"continue-{self.agent_id}-{self.beats}", command="")

    @bidi_stream(requires=ADMIN)
    async def runCommand(self, commands: AsyncIterator[Command]) -> AsyncIterator[CommandResult]:
        async for c in commands:
            yield CommandResult(stdout=f"{self.agent_id}: {c.command}", stderr="", exit_code=0)
