#!/usr/bin/env python3
"""Summarises a `perf record -g` profile of an aster-bench process.

    perf script -i perf.data -F comm,tid,time,ip,sym --no-inline | python3 perf_summary.py [--top N]

Prints, as shares of all samples (= of the process's CPU time):

1. components: each sample goes to the component of its leaf-most frame that
   is not generic glue (libc, core, alloc, std, bytes, ...), so `memcpy`
   called by the codec counts for the codec; kernel leaves count as kernel;
2. our code, self: Aster's own functions (proto core, runtime, and the code
   `#[aster::service]` generated in the bench), each sample going to the
   leaf-most of them, for samples whose component is ours;
3. our code, inclusive: every Aster function present in the stack (once per
   sample), i.e. the time under it including iroh, tokio and crypto calls.

See benches/README.md ("Profiling") for the commands that produce the input.
"""

import re
import sys
from collections import Counter

GLUE = re.compile(
    r"^(__memmove|__memcpy|__memset|__memcmp|memcpy|memmove|memset|memcmp|malloc|free|cfree|_int_|realloc|calloc|"
    r"__libc|__GI_|_dl_|core::|alloc::|std::|<core::|<alloc::|<std::|bytes::|<bytes::|hashbrown::|<hashbrown::|"
    r"smallvec::|<smallvec::|__rust|rust_|\[unknown\]|tikv_jemalloc)"
)
OURS_GENERATED = re.compile(r"__\w+Dispatch|\w+Client<|\w+Server<|aster_side::Bench|as aster_proto::|as aster::")
COMPONENTS = [
    ("aster proto core", re.compile(r"^<?aster_proto::|as aster_proto::")),
    ("aster runtime", re.compile(r"^<?aster::|as aster::|__\w+Dispatch")),
    ("ed25519 key parsing", re.compile(r"curve25519|ed25519")),
    ("zstd", re.compile(r"zstd|ZSTD|HUF_|FSE_", re.I)),
    ("quic crypto (ring/rustls)", re.compile(r"ring::|ring_core|rustls|aes_|gcm|chacha|_aesni|aws_lc", re.I)),
    ("iroh / noq (QUIC)", re.compile(r"noq|iroh|netwatch|quinn")),
    ("tokio", re.compile(r"tokio|mio::")),
    ("tracing", re.compile(r"tracing")),
    ("bench harness", re.compile(r"aster_bench")),
]


def is_ours(sym: str) -> bool:
    if sym.startswith("aster_bench::e2e::aster_side::") and OURS_GENERATED.search(sym):
        return True
    if "aster_bench::e2e::aster_side::Bench" in sym or "__BenchDispatch" in sym:
        return True
    return bool(re.match(r"^<?aster(_proto)?::", sym)) or " as aster::" in sym or " as aster_proto::" in sym


def component(frames):
    if not frames:
        return "other"
    if frames[0][1]:  # kernel leaf
        return "kernel (syscalls, scheduling)"
    for sym, _kernel in frames:
        if GLUE.match(sym):
            continue
        for name, pat in COMPONENTS:
            if pat.search(sym):
                return name
        return "other"
    return "other (libc/std only)"


def samples(stream):
    frames = []
    for line in stream:
        line = line.rstrip("\n")
        if not line:
            if frames:
                yield frames
            frames = []
            continue
        if not line.startswith("\t") and not line.startswith(" "):
            frames = []
            continue
        parts = line.strip().split(" ", 1)
        if len(parts) != 2:
            continue
        addr, sym = parts
        sym = re.sub(r"\+0x[0-9a-f]+$", "", sym)
        sym = re.sub(r" \(\S+\)$", "", sym)
        kernel = addr.startswith("ffffffff")
        frames.append((sym, kernel))
    if frames:
        yield frames


def short(sym: str, width: int = 110) -> str:
    sym = re.sub(r"::\{\{closure\}\}", "", sym)
    return sym if len(sym) <= width else sym[: width - 3] + "..."


def main() -> None:
    top = 15
    if "--top" in sys.argv:
        top = int(sys.argv[sys.argv.index("--top") + 1])
    comp = Counter()
    self_ours = Counter()
    incl_ours = Counter()
    total = 0
    for frames in samples(sys.stdin):
        total += 1
        c = component(frames)
        comp[c] += 1
        if c in ("aster proto core", "aster runtime"):
            for sym, _ in frames:
                if is_ours(sym):
                    self_ours[short(sym)] += 1
                    break
        seen = set()
        for sym, _ in frames:
            if is_ours(sym):
                s = short(sym)
                if s not in seen:
                    seen.add(s)
                    incl_ours[s] += 1
    if not total:
        sys.exit("no samples")
    print(f"{total} samples")
    print("\ncomponents (leaf-most non-glue frame):")
    for name, n in comp.most_common():
        print(f"  {100 * n / total:6.2f}%  {name}")
    print(f"\nour code, self (incl. libc/alloc it calls), top {top}:")
    for sym, n in self_ours.most_common(top):
        print(f"  {100 * n / total:6.2f}%  {sym}")
    print(f"\nour code, inclusive (everything beneath, incl. iroh/tokio/crypto), top {top}:")
    for sym, n in incl_ours.most_common(top):
        print(f"  {100 * n / total:6.2f}%  {sym}")


if __name__ == "__main__":
    main()
