"""The reference server in closed-gate (trusted) mode, for the trust tests.

Serves `contracts_auth.py` (Mission Control with the walkthrough's roles) on
127.0.0.1 with `allow_all_consumers=False`. The root public key comes from
`ASTER_ROOT_PUBKEY_FILE`, read by the reference's own config loader (so a
`root.pub` written by either CLI is what is tested). One-time credential
nonces are kept in memory, the reference's default.

Prints ONE line on stdout when ready, a JSON object:
  {"address": "aster1...", "endpoint_id": "<hex>", "root_pubkey": "<hex>"}
where `root_pubkey` is the anchor the server actually uses (the reference
silently falls back to an ephemeral key when the file cannot be read, so the
test checks it). Exits when stdin closes or after REF_MAX_SECONDS (300).
"""

import asyncio
import json
import os
import sys

import loopback  # noqa: E402  (must come before the rest of aster)

from aster import AsterServer  # noqa: E402

from contracts_auth import AgentSessionAuth, MissionControlAuth  # noqa: E402


async def main() -> None:
    loopback.exit_when_stdin_closes(float(os.environ.get("REF_MAX_SECONDS", "300")))
    if not os.environ.get("ASTER_ROOT_PUBKEY_FILE"):
        sys.exit("serve_auth.py needs ASTER_ROOT_PUBKEY_FILE")
    server = AsterServer(services=[MissionControlAuth(), AgentSessionAuth], allow_all_consumers=False)
    async with server:
        root = server._root_pubkey
        print(json.dumps({
            "address": server.address,
            "endpoint_id": server.endpoint_id,
            "root_pubkey": root.hex() if root else "",
        }), flush=True)
        await server.serve()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
