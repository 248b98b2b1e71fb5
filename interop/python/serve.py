"""The reference server the Rust client tests call (aster-rpc 0.1.2).

Serves Echo and MissionControl (shared), Tally and AgentSession (session
scoped) from `contracts.py` on 127.0.0.1, with an open consumer gate.

Prints ONE line on stdout when ready, a JSON object:
  {"address": "aster1...", "endpoint_id": "<hex>", "contract_ids": {name: id}}
where `contract_ids` are computed locally by the reference's own
`contract_id_from_service`. Everything else goes to stderr. Exits when stdin
closes (the test process is gone) or after REF_MAX_SECONDS (default 300).
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


async def main() -> None:
    loopback.exit_when_stdin_closes(float(os.environ.get("REF_MAX_SECONDS", "300")))
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
