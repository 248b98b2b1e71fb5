"""The reference client with credentials, for the trust tests (aster-rpc 0.1.2).

    python trust_drive.py ADDRESS PLAN_JSON

PLAN_JSON is a list of cases, run one after the other (0.1.2 servers mishandle
concurrent admissions), each with a fresh client:

    {"name": "edge", "credential": "/path/edge.json" | null, "probe": "admit" | "status" | "roles"}

The client is `AsterClient(address=..., enrollment_credential_file=credential)`,
exactly as a user of the reference would present a credential file (a JSON
credential from `aster trust sign`, or an `.aster-identity` from `aster enroll
node`, whose node key the client then also uses). Probes:

- admit:  admission only;
- status: admission, then `MissionControl.getStatus`;
- roles:  admission, then every Mission Control method, typed (XLANG):
          getStatus, submitLog, tailLogs (a warn entry submitted by the same
          client must come back), ingestMetrics, and on one AgentSession:
          register (then heartbeat on the same session), heartbeat,
          runCommand, each on its own AgentSession.

Prints ONE line: {case: {"admitted": bool, "calls": {method: outcome}} or
{"admitted": false, "denied": {"class", "message"}}}. An outcome is {"ok":
true} or {"error": {"code", "message", "class"}}, with "races": N when the
call was repeated N times after 0.1.2's refusal race (see `transport_race`);
anything unexpected is {"exception": "..."}. Nothing is asserted here; the
Rust tests do that.
"""

import asyncio
import json
import os
import sys
import traceback

import loopback  # noqa: E402  (must come before the rest of aster)

from aster import AsterClient, RpcError  # noqa: E402
from aster.runtime import AdmissionDeniedError  # noqa: E402

from contracts import (  # noqa: E402
    AgentSession, Command, Heartbeat, LogEntry, MetricPoint, MissionControl, StatusRequest, TailRequest,
)

CALL_SECONDS = 10.0
CASE_SECONDS = 30.0


def error_of(exc):
    if isinstance(exc, RpcError):
        return {"error": {"code": int(exc.code), "message": exc.message, "class": type(exc).__name__}}
    return {"exception": f"{type(exc).__name__}: {exc}"}


def transport_race(result):
    """0.1.2's server stops reading a refused call's stream at once; when
    its client is still writing the request it gets this transport error
    instead of the refusal's trailer (the race our server once had)."""
    return "stopped by peer" in result.get("error", {}).get("message", "")


async def outcome(make, attempts=5):
    """{"ok": true} or the error of `make()` (a fresh call each attempt),
    retried after the 0.1.2 refusal race; the number of such retries is
    reported as "races" so a server that races can be told apart."""
    races = 0
    while True:
        try:
            await asyncio.wait_for(make(), CALL_SECONDS)
            result = {"ok": True}
        except Exception as exc:  # noqa: BLE001 -- reported, not swallowed
            result = error_of(exc)
        if transport_race(result) and races + 1 < attempts:
            races += 1
            continue
        if races:
            result["races"] = races
        return result


async def agen(items):
    for item in items:
        yield item


async def tail_once(mc):
    """tailLogs(level=warn): returns once a submitted warn entry comes back."""
    seen: asyncio.Queue = asyncio.Queue()

    async def tail():
        async for entry in mc.tailLogs(TailRequest(level="warn")):
            await seen.put(entry)

    task = asyncio.create_task(tail())
    try:
        for _ in range(50):
            if task.done():
                break
            await asyncio.wait_for(mc.submitLog(LogEntry(level="warn", message="ping", agent_id="t")), CALL_SECONDS)
            try:
                await asyncio.wait_for(seen.get(), 0.1)
                return
            except asyncio.TimeoutError:
                continue
        if task.done():
            task.result()  # raises the stream's error
            raise RuntimeError("tailLogs ended without an entry")
        raise RuntimeError("tailLogs delivered nothing within 5 s")
    finally:
        task.cancel()
        try:
            await task
        except BaseException:  # noqa: BLE001 -- cancelled on purpose, or the error raised above
            pass


async def roles(c):
    r = {}
    mc = await c.client(MissionControl)
    r["getStatus"] = await outcome(lambda: mc.getStatus(StatusRequest(agent_id="t")))
    r["submitLog"] = await outcome(lambda: mc.submitLog(LogEntry(level="info", message="hello", agent_id="t")))
    r["tailLogs"] = await outcome(lambda: tail_once(mc), attempts=5)
    r["ingestMetrics"] = await outcome(
        lambda: mc.ingestMetrics(agen([MetricPoint(name="cpu", value=1.0, timestamp=2.0)])))
    # One session per guarded method: a 0.1.2 server leaves a session out of
    # step after refusing a call on it (the next call fails with "Expected
    # CALL frame"), so a refusal must not decide the next method's outcome.
    # `heartbeat_after_register` records that behaviour.
    hb = Heartbeat(agent_id="t", capabilities=["arm64"], load_avg=0.5)
    calls = {
        "register": lambda a: a.register(hb),
        "heartbeat": lambda a: a.heartbeat(hb),
        "runCommand": lambda a: a.runCommand(agen([Command(command="uptime")])),
    }
    for method, call in calls.items():
        sessions = []

        async def on_new_session(call=call, sessions=sessions):
            a = await c.client(AgentSession)
            sessions.append(a)
            return await call(a)

        r[method] = await outcome(on_new_session)
        if method == "register":
            r["heartbeat_after_register"] = await outcome(lambda: sessions[-1].heartbeat(hb), attempts=1)
        for a in sessions:
            try:
                await asyncio.wait_for(a.close(), CALL_SECONDS)
            except Exception:  # noqa: BLE001
                pass
    return r


async def run_case(address, case):
    client = AsterClient(address=address, enrollment_credential_file=case.get("credential"))
    try:
        try:
            await asyncio.wait_for(client.connect(), CALL_SECONDS)
        except AdmissionDeniedError as exc:
            return {"admitted": False, "denied": {"class": type(exc).__name__, "message": str(exc)}}
        result = {"admitted": True}
        probe = case.get("probe", "admit")
        if probe == "status":
            mc = await client.client(MissionControl)
            result["calls"] = {"getStatus": await outcome(lambda: mc.getStatus(StatusRequest(agent_id="t")))}
        elif probe == "roles":
            result["calls"] = await asyncio.wait_for(roles(client), CASE_SECONDS)
        return result
    finally:
        try:
            await asyncio.wait_for(client.close(), CALL_SECONDS)
        except Exception:  # noqa: BLE001
            pass


async def run(address, plan):
    results = {}
    for case in plan:
        try:
            results[case["name"]] = await run_case(address, case)
        except Exception:  # noqa: BLE001
            results[case["name"]] = {"exception": traceback.format_exc()}
    return results


def main():
    loopback.exit_after(float(os.environ.get("REF_MAX_SECONDS", "120")))
    address, plan = sys.argv[1], json.loads(sys.argv[2])
    print(json.dumps(asyncio.run(run(address, plan))), flush=True)


if __name__ == "__main__":
    main()
