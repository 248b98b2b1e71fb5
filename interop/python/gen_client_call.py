"""Calls a server through a client that `aster contract gen-client` generated.

    python gen_client_call.py OUT_DIR PACKAGE ADDRESS

OUT_DIR/PACKAGE is what `aster contract gen-client ADDRESS --lang python
--out OUT_DIR --package PACKAGE` wrote for a Mission Control server. This
script imports only that generated code (no `contracts.py`), calls the
server over XLANG, and prints ONE line on stdout: a JSON object of
observations, {scenario: {"ok": value} | {"error": {...}} | {"exception": "..."}}.
It asserts nothing; the Rust test does.

Every call is bounded (CALL_SECONDS), and so is the process (REF_MAX_SECONDS,
default 120).
"""

import asyncio
import importlib
import json
import os
import sys
import traceback

import loopback  # noqa: E402  (must come before the rest of aster)

from aster import AsterClient  # noqa: E402

from drive import error_of, outcome, plain  # noqa: E402

CALL_SECONDS = 10.0


async def main(out_dir: str, package: str, address: str) -> dict:
    sys.path.insert(0, out_dir)
    services = importlib.import_module(f"{package}.services.mission_control_v1")
    types = importlib.import_module(f"{package}.types.mission_control_v1")
    agent_services = importlib.import_module(f"{package}.services.agent_session_v1")
    agent_types = importlib.import_module(f"{package}.types.agent_session_v1")

    report: dict = {}
    client = AsterClient(address=address)
    await asyncio.wait_for(client.connect(), CALL_SECONDS)
    try:
        mc = await services.MissionControlClient.from_connection(client)
        report["generated_contract_id"] = {"ok": mc._contract_id}

        report["getStatus"] = await outcome(mc.getStatus(types.StatusRequest(agent_id="gen-1"), timeout=CALL_SECONDS))

        # An operator tails warn+ while the agent submits: the generated
        # server-stream method and the generated unary method together.
        async def tail():
            got = []
            async for entry in mc.tailLogs(types.TailRequest(agent_id="", level="warn"), timeout=CALL_SECONDS):
                got.append(plain(entry))
                if len(got) == 2:
                    break
            return got

        tailing = asyncio.create_task(tail())
        await asyncio.sleep(0.5)  # the Rust tailer subscribes when the call arrives
        submitted = []
        for level, message in (("info", "routine"), ("warn", "disk 91%"), ("error", "disk full ✗")):
            submitted.append(
                await outcome(
                    mc.submitLog(
                        types.LogEntry(timestamp=1.5, level=level, message=message, agent_id="gen-1"),
                        timeout=CALL_SECONDS,
                    )
                )
            )
        report["submitLog"] = submitted
        report["tailLogs"] = await outcome(tailing)

        async def points():
            for i in range(5):
                yield types.MetricPoint(name="cpu", value=float(i), timestamp=2.0, tags={"host": "h1"})

        report["ingestMetrics"] = await outcome(mc.ingestMetrics(points(), timeout=CALL_SECONDS))

        agent = await agent_services.AgentSessionClient.from_connection(client)
        report["agent_register"] = await outcome(
            agent.register(agent_types.Heartbeat(agent_id="gen-1", capabilities=["gpu"], load_avg=0.5))
        )
    finally:
        await client.close()
    return report


if __name__ == "__main__":
    loopback.exit_after(float(os.environ.get("REF_MAX_SECONDS", "120")))
    out_dir, package, address = sys.argv[1:4]
    try:
        result = asyncio.run(main(out_dir, package, address))
    except Exception as exc:  # noqa: BLE001 -- reported to the Rust side
        result = {"exception": error_of(exc).get("exception") or str(exc), "traceback": traceback.format_exc()}
    print(json.dumps(result), flush=True)
