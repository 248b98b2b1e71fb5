#!/usr/bin/env python3
"""Alternates builds of aster-bench on one figure and prints CPU per call.

    benches/tools/ab.py FIGURE ROUNDS BIN [BIN ...]     FIGURE: c1 c16 c64 stream bulk
    PIN=1 benches/tools/ab.py c64 3 old/aster-bench target/release/aster-bench

Each round measures raw iroh once (with the first binary), then Aster with
every binary in turn, each as a fresh server and client pair for
ASTER_BENCH_SECS (default 3) seconds. It prints the rate, the CPU time per
unit (client + server, and the server alone) and the ratio to that round's
raw iroh.

With PIN=1 the server runs on CPU 0 and the client on CPU 1. A pinned run
does not show what the default bench shows (its threads float over both
cores), but it varies far less between runs, which is what comparing two
builds needs. CPU per unit is the steadier measure: on this machine
throughput moves by several percent within minutes, CPU per call by about one.
The CPU time includes each pair's start-up and warm-up, so compare builds
measured with the same ASTER_BENCH_SECS only.
"""

import json
import os
import resource
import subprocess
import sys

RATE_KEYS = ("unary_calls", "server_stream", "bulk")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(binary, impl, figure, secs, pin):
    """One server and client pair; returns (rate, cpu per unit, server cpu per unit)."""
    server_cmd = [binary, f"serve-{impl}"]
    client_cmd = [binary, f"client-{impl}"]
    if pin:
        server_cmd = ["taskset", "-c", "0"] + server_cmd
        client_cmd = ["taskset", "-c", "1"] + client_cmd
    server = subprocess.Popen(
        server_cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        address = server.stdout.readline().strip()
        server_before = cpu_seconds(server.pid)
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run(
            client_cmd + [address, figure],
            capture_output=True,
            text=True,
            env=dict(os.environ, ASTER_BENCH_SECS=str(secs)),
            timeout=secs + 120,
        ).stdout
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        server_cpu = cpu_seconds(server.pid) - server_before
    finally:
        server.kill()
        server.wait()
    report = json.loads(out.strip().splitlines()[-1])
    rate = max(v for k, v in report.items() if k.startswith(RATE_KEYS))
    client_cpu = (children_after.ru_utime + children_after.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    units = rate * secs
    return rate, 1e6 * (client_cpu + server_cpu) / units, 1e6 * server_cpu / units


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    figure, rounds, binaries = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    secs = float(os.environ.get("ASTER_BENCH_SECS", "3"))
    pin = os.environ.get("PIN") == "1"
    for _ in range(rounds):
        raw_rate, raw_cpu, raw_server = measure(binaries[0], "raw", figure, secs, pin)
        line = [f"raw {raw_rate:.0f}/s {raw_cpu:.2f} us ({raw_server:.2f} server)"]
        for binary in binaries:
            rate, cpu, server = measure(binary, "aster", figure, secs, pin)
            line.append(
                f"{binary}: {rate:.0f}/s {cpu:.2f} us ({server:.2f} server) ratio {rate / raw_rate:.3f}"
            )
        print(" | ".join(line), flush=True)


if __name__ == "__main__":
    main()
