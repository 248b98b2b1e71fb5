"""Keeps an aster-rpc 0.1.2 peer on 127.0.0.1 and bounded in time.

Import this before anything else from `aster`:

- relays off (`ASTER_RELAY_MODE=disabled`): without it 0.1.2 waits for a relay
  forever while offline;
- 127.0.0.1 only: AsterServer and AsterClient copy only a few fields of the
  endpoint config and drop `bind_addr` / `portmapper_config`, so both helpers
  that build node configs are wrapped to put them back;
- `exit_when_stdin_closes()`: the peer exits as soon as its parent (the test
  process) goes away, however that happens, and in any case after
  `max_seconds`; `exit_after()` is the plain time bound.
"""

import os
import sys
import threading

os.environ["ASTER_RELAY_MODE"] = "disabled"
os.environ.setdefault("ASTER_LOG_LEVEL", "warning")

import warnings

# Open-gate servers warn once per service on stderr; that is expected here.
warnings.filterwarnings("ignore", message=".*no authorization configured.*")

import aster.runtime as _runtime  # noqa: E402
from aster import EndpointConfig  # noqa: E402

BIND = "127.0.0.1:0"
_PASSED_ON = (
    "relay_mode", "secret_key", "enable_monitoring", "enable_hooks",
    "hook_timeout_ms", "enable_local_discovery",
)


def _on_loopback(cfg):
    """The same config, bound to 127.0.0.1 with no relay and no port mapping."""
    kwargs = {"alpns": list(cfg.alpns) if cfg is not None else []}
    if cfg is not None:
        for name in _PASSED_ON:
            value = getattr(cfg, name, None)
            if value is not None:
                kwargs[name] = value
    kwargs["relay_mode"] = "disabled"
    kwargs["bind_addr"] = BIND
    kwargs["portmapper_config"] = "disabled"
    return EndpointConfig(**kwargs)


_build_node_endpoint_config = _runtime._build_node_endpoint_config
_clone_config_with_alpns = _runtime._clone_config_with_alpns


def _server_node_config(template, *, enable_hooks=False):
    return _on_loopback(_build_node_endpoint_config(template, enable_hooks=enable_hooks))


def _client_node_config(template, alpns):
    return _on_loopback(_clone_config_with_alpns(template, alpns))


_runtime._build_node_endpoint_config = _server_node_config
_runtime._clone_config_with_alpns = _client_node_config


def exit_after(seconds: float) -> None:
    """Hard bound on the process's life, whatever it is waiting for."""
    timer = threading.Timer(seconds, lambda: os._exit(3))
    timer.daemon = True
    timer.start()


def exit_when_stdin_closes(max_seconds: float = 300.0) -> None:
    """Exit the process when stdin reaches EOF, or after `max_seconds`."""

    def watch():
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except Exception:
            pass
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()
    exit_after(max_seconds)
