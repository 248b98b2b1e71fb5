"""The reference server the Rust client tests call (aster-rpc 0.1.2).

Serves Echo and MissionControl (shared), Tally and AgentSession (session
scoped) from `contracts.py` on 127.0.0.1, with an open consumer gate.

Prints ONE line on stdout when ready, a JSON object:
  {"address": "aster1...", "endpoint_id": "<hex>", "contract_ids": {name: id}}
where `contract_ids` are computed locally by the reference's own
`contract_id_from_service`. Everything else goes to stderr. Exits when stdin
closes (the test process is gone) or after REF_MAX_SECONDS (default 300).

With `--log-calls` it also prints, after the ready line, one JSON line per
shared call and per session stream it dispatches: {"call": {"service",
"method", "mode"}} (`method` is "" for a session stream), where `mode` is the
StreamHeader's serializationMode (0 XLANG, 3 JSON). 0.1.2 accepts JSON for
every service, whatever the service declares (server.py: "JSON (mode 3) is
always accepted"), so this is how a test learns which mode a client used.
"""

import asyncio
import json
import os
import sys
import time

T0 = time.monotonic()

import loopback  # noqa: E402  (must come before the rest of aster)

from aster import AsterServer  # noqa: E402
from aster.contract.identity import contract_id_from_service  # noqa: E402

from contracts import AgentSession, Echo, MissionControl, Tally  # noqa: E402


def log_calls() -> None:
    """Wraps the four shared-call dispatchers of `aster.server.Server` and
    `SessionServer.run` to print each call's service, method and
    serialization mode (see the module doc)."""
    from aster.server import Server

    for name in ("_handle_unary", "_handle_server_stream", "_handle_client_stream", "_handle_bidi_stream"):
        original = getattr(Server, name)

        async def logged(self, conn_ctx, send, recv, header, *rest, _original=original):
            call = {"service": header.service, "method": header.method, "mode": int(header.serializationMode)}
            print(json.dumps({"call": call}), flush=True)
            return await _original(self, conn_ctx, send, recv, header, *rest)

        setattr(Server, name, logged)

    from aster.session import SessionServer

    run_session = SessionServer.run

    async def logged_session(self, stream_header, send, recv, peer=None):
        call = {"service": stream_header.service, "method": "", "mode": int(stream_header.serializationMode)}
        print(json.dumps({"call": call}), flush=True)
        return await run_session(self, stream_header, send, recv, peer)

    SessionServer.run = logged_session


async def main() -> None:
    loopback.exit_when_stdin_closes(float(os.environ.get("REF_MAX_SECONDS", "300")))
    if "--log-calls" in sys.argv[1:]:
        log_calls()
    server = AsterServer(
        services=[Echo(), Tally, MissionControl(), AgentSession],
        allow_all_consumers=True,
    )
    async with server:
        ready = {
            "address": server.address,
            "endpoint_id": server.endpoint_id,
            "contract_ids": {
                cls.__aster_service_info__.name: contract_id_from_service(cls)
                for cls in (Echo, Tally, MissionControl, AgentSession)
            },
        }
        print(json.dumps(ready), flush=True)
        info = server.node.node_addr_info()
        print(
            f"[serve.py] ready in {time.monotonic() - T0:.2f}s "
            f"addrs={info.direct_addresses} relay={info.relay_url}",
            file=sys.stderr,
            flush=True,
        )
        await server.serve()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
