"""Drives the reference's interactive `aster shell` under a pseudo-terminal.

    python shell_pty.py ADDRESS COMMAND [COMMAND ...]

Runs the venv's `aster shell --air-gapped ADDRESS` on a pty (stdlib `pty`,
200x50), so prompt_toolkit runs its real interactive path (PromptSession,
completer, history). Types each COMMAND, waits until it has finished, and
prints ONE line on stdout: a JSON object

  {"outputs": [text per command], "banner": text before the first command,
   "exit_code": N, "manifest_cache": {file name: parsed JSON}}

with ANSI escapes removed. `manifest_cache` is the shell's manifest cache
(`$HOME/.aster/cache/manifests/<contract_id>.json`): the caller sets HOME to
a new directory, so whatever is there was fetched from the peer's registry
during this run.

How a command's end is found: after each command the script types a
marker, `__mark_<i>__`, which the shell answers with "unknown command:
__mark_<i>__" once the command before it has returned (the REPL runs one
line at a time; the marker waits in the terminal's input until then).
Cursor-position requests (ESC [6n) are answered, as a terminal would.

Bounded: each command 45 s (the first `ls` of a service may wait up to 10 s
for manifests), the whole process REF_MAX_SECONDS (default 150).
"""

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import sys
import termios
import threading
import time

COMMAND_SECONDS = 45.0
START_SECONDS = 45.0
EXIT_SECONDS = 15.0

ANSI = re.compile(rb"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][0-9A-Za-z]|\x1b[=>78]")
CPR_REQUEST = b"\x1b[6n"


def plain(raw: bytes) -> str:
    text = ANSI.sub(b"", raw).replace(b"\r", b"").decode("utf-8", "replace")
    # prompt_toolkit redraws leave runs of blank lines and trailing spaces.
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


class Terminal:
    def __init__(self, argv: list[str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # child
            try:
                os.execv(argv[0], argv)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
        self.raw = b""
        self.closed = False

    def pump_until(self, done, seconds: float) -> bool:
        """Reads output (answering cursor-position requests) until `done(raw)`."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if done(self.raw):
                return True
            if self.closed:
                return False
            ready, _, _ = select.select([self.fd], [], [], 0.1)
            if not ready:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                data = b""
            if not data:
                self.closed = True
                continue
            self.raw += data
            for _ in range(data.count(CPR_REQUEST)):
                os.write(self.fd, b"\x1b[1;1R")
        return done(self.raw)

    def type_line(self, text: str) -> None:
        os.write(self.fd, text.encode() + b"\r")

    def wait_exit(self, seconds: float) -> int:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.pump_until(lambda _: False, 0.1)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        return -9


def marker_answer(i: int) -> bytes:
    return f"unknown command: __mark_{i}__".encode()


def main() -> dict:
    address, commands = sys.argv[1], sys.argv[2:]
    aster = os.path.join(os.path.dirname(sys.executable), "aster")
    term = Terminal([aster, "shell", "--air-gapped", address])
    report: dict = {"outputs": []}
    try:
        # The first prompt ends in "$ " once connected.
        started = term.pump_until(lambda raw: b":/$ " in ANSI.sub(b"", raw), START_SECONDS)
        report["banner"] = plain(term.raw)
        if not started:
            report["exception"] = f"no shell prompt within {START_SECONDS}s"
            return report
        for i, command in enumerate(commands):
            mark = len(term.raw)
            term.type_line(command)
            term.type_line(f"__mark_{i}__")
            answer = marker_answer(i)
            if not term.pump_until(lambda raw: answer in ANSI.sub(b"", raw[mark:]), COMMAND_SECONDS):
                report["exception"] = f"command {command!r} did not finish within {COMMAND_SECONDS}s"
                report["outputs"].append(plain(term.raw[mark:]))
                return report
            segment = ANSI.sub(b"", term.raw[mark:])
            report["outputs"].append(plain(segment[: segment.index(answer)]))
        term.type_line("exit")
    finally:
        report["exit_code"] = term.wait_exit(EXIT_SECONDS)
    cache = os.path.join(os.path.expanduser("~"), ".aster", "cache", "manifests")
    report["manifest_cache"] = {}
    if os.path.isdir(cache):
        for name in sorted(os.listdir(cache)):
            with open(os.path.join(cache, name), encoding="utf-8") as f:
                report["manifest_cache"][name] = json.load(f)
    return report


if __name__ == "__main__":
    bound = threading.Timer(float(os.environ.get("REF_MAX_SECONDS", "150")), lambda: os._exit(3))
    bound.daemon = True
    bound.start()
    print(json.dumps(main()), flush=True)
