"""The Python reference (aster-rpc 0.1.2) side of `aster-bench`.

    python bench_ref.py serve          print the aster1 address on ONE stdout line, serve until killed
    python bench_ref.py client ADDR    run the workloads, print the figures as ONE JSON line (last line)

The same `Bench` service and workloads as the Rust side (benches/src/e2e):
unary echo of 32 bytes; server stream of 16-byte messages, 20000 per call;
1 MiB incompressible uploads, 4 in flight; unary at concurrency 1/16/64, all
on one client. ASTER_BENCH_SECS sets the seconds per figure (default 3).
Everything but the figures goes to stderr.
"""

import asyncio
import json
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import AsyncIterator

# Before anything from aster: without ASTER_RELAY_MODE=disabled 0.1.2 waits
# for a relay forever while offline.
os.environ["ASTER_RELAY_MODE"] = "disabled"
os.environ.setdefault("ASTER_LOG_LEVEL", "warning")

import warnings  # noqa: E402

warnings.filterwarnings("ignore", message=".*no authorization configured.*")

import pyfory  # noqa: E402
import aster.runtime as _runtime  # noqa: E402
from aster import AsterClient, AsterServer, EndpointConfig, rpc, server_stream, service  # noqa: E402
from aster.codec import wire_type  # noqa: E402

# AsterServer and AsterClient copy only a few fields of the endpoint config and
# drop bind_addr / portmapper_config: put them back so both peers sit on
# 127.0.0.1 with no relay and no port mapping, like the Rust processes.
_PASSED_ON = ("relay_mode", "secret_key", "enable_monitoring", "enable_hooks",
              "hook_timeout_ms", "enable_local_discovery")


def _on_loopback(cfg):
    kwargs = {"alpns": list(cfg.alpns) if cfg is not None else []}
    if cfg is not None:
        for name in _PASSED_ON:
            value = getattr(cfg, name, None)
            if value is not None:
                kwargs[name] = value
    kwargs.update(relay_mode="disabled", bind_addr="127.0.0.1:0", portmapper_config="disabled")
    return EndpointConfig(**kwargs)


_build_node = _runtime._build_node_endpoint_config
_clone_with_alpns = _runtime._clone_config_with_alpns
_runtime._build_node_endpoint_config = lambda t, *, enable_hooks=False: _on_loopback(_build_node(t, enable_hooks=enable_hooks))
_runtime._clone_config_with_alpns = lambda t, alpns: _on_loopback(_clone_with_alpns(t, alpns))

UNARY_PAYLOAD = 32
STREAM_PAYLOAD = 16
STREAM_MESSAGES_PER_CALL = 20_000
BULK_MESSAGE = 1 << 20
BULK_CONCURRENCY = 4


@wire_type("bench/Blob")
@dataclass
class Blob:
    data: bytes = b""


@wire_type("bench/StreamRequest")
@dataclass
class StreamRequest:
    count: pyfory.int32 = 0
    size: pyfory.int32 = 0


@wire_type("bench/UploadAck")
@dataclass
class UploadAck:
    received: pyfory.int64 = 0


@service(name="Bench", version=1)
class Bench:
    @rpc
    async def echo(self, req: Blob) -> Blob:
        return req

    @server_stream
    async def stream(self, req: StreamRequest) -> AsyncIterator[Blob]:
        item = Blob(data=b"\x5a" * req.size)
        for _ in range(req.count):
            yield item

    @rpc
    async def upload(self, req: Blob) -> UploadAck:
        return UploadAck(received=len(req.data))


def log(msg: str) -> None:
    print(f"[python_ref] {msg}", file=sys.stderr, flush=True)


def peak_rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def incompressible(n: int) -> bytes:
    """The Rust side's xorshift bytes (zstd cannot shrink them)."""
    x = 0x9E3779B97F4A7C15
    mask = (1 << 64) - 1
    out = bytearray()
    while len(out) < n:
        x ^= (x << 13) & mask
        x ^= x >> 7
        x ^= (x << 17) & mask
        out += x.to_bytes(8, "little")
    return bytes(out[:n])


async def serve() -> None:
    server = AsterServer(services=[Bench()], allow_all_consumers=True)
    async with server:
        print(server.address, flush=True)
        await server.serve()


async def closed_loop(op, conc: int, secs: float) -> float:
    """`conc` tasks call `op` back to back for `secs`; units per second."""
    stop = False

    async def worker() -> int:
        n = 0
        while not stop:
            n += await op()
        return n

    start = time.perf_counter()
    tasks = [asyncio.create_task(worker()) for _ in range(conc)]
    await asyncio.sleep(secs)
    stop = True
    total = sum(await asyncio.gather(*tasks))
    return total / (time.perf_counter() - start)


def percentile_us(sorted_s, p: float) -> float:
    if not sorted_s:
        return 0.0
    idx = min(max(int(-(-len(sorted_s) * p // 1)), 1), len(sorted_s)) - 1
    return sorted_s[idx] * 1e6


async def client(address: str) -> None:
    secs = float(os.environ.get("ASTER_BENCH_SECS", "3"))
    small = b"\xa5" * UNARY_PAYLOAD
    big = incompressible(BULK_MESSAGE)
    async with AsterClient(address=address) as c:
        bench = await c.client(Bench)

        async def unary() -> int:
            r = await bench.echo(Blob(data=small))
            assert len(r.data) == UNARY_PAYLOAD
            return 1

        async def stream() -> int:
            n = 0
            async for item in bench.stream(StreamRequest(count=STREAM_MESSAGES_PER_CALL, size=STREAM_PAYLOAD)):
                n += 1
            assert n == STREAM_MESSAGES_PER_CALL, n
            return n

        async def bulk() -> int:
            ack = await bench.upload(Blob(data=big))
            assert ack.received == BULK_MESSAGE
            return 1

        figures = {}
        await closed_loop(unary, 16, 0.5)
        await stream()
        await closed_loop(bulk, BULK_CONCURRENCY, 0.3)

        samples = []
        start = time.perf_counter()
        while time.perf_counter() - start < secs:
            t = time.perf_counter()
            await unary()
            samples.append(time.perf_counter() - t)
        rate = len(samples) / (time.perf_counter() - start)
        samples.sort()
        figures["unary_p50_us"] = percentile_us(samples, 0.50)
        figures["unary_p99_us"] = percentile_us(samples, 0.99)
        figures["unary_calls_per_s_c1"] = rate
        log(f"unary c=1: {rate:.0f} calls/s, p50 {figures['unary_p50_us']:.1f} us, "
            f"p99 {figures['unary_p99_us']:.1f} us ({len(samples)} calls)")
        for conc in (16, 64):
            rate = await closed_loop(unary, conc, secs)
            figures[f"unary_calls_per_s_c{conc}"] = rate
            log(f"unary c={conc}: {rate:.0f} calls/s")
        figures["server_stream_msgs_per_s"] = await closed_loop(stream, 1, secs)
        log(f"server stream: {figures['server_stream_msgs_per_s']:.0f} msgs/s")
        figures["bulk_mib_per_s"] = await closed_loop(bulk, BULK_CONCURRENCY, secs) * BULK_MESSAGE / (1 << 20)
        log(f"bulk: {figures['bulk_mib_per_s']:.1f} MiB/s")
        figures["peak_rss_mib_client"] = peak_rss_mib()
    print(json.dumps(figures), flush=True)
    # Skip interpreter teardown of the native node (it can take seconds).
    os._exit(0)


def main() -> None:
    # Hard bound on this process's life, whatever it waits for.
    timer = threading.Timer(float(os.environ.get("BENCH_REF_MAX_SECONDS", "300")), lambda: os._exit(3))
    timer.daemon = True
    timer.start()
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        asyncio.run(serve())
    elif len(sys.argv) >= 3 and sys.argv[1] == "client":
        asyncio.run(client(sys.argv[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
