"""The reference client the Rust server tests run (aster-rpc 0.1.2).

    python drive.py ADDRESS SCENARIO [SCENARIO ...]

Runs each scenario against the server at ADDRESS (an `aster1...` ticket) and
prints ONE line on stdout: a JSON object {scenario: observations}. It checks
nothing itself: the Rust test asserts on what was observed. A failed call is
recorded as {"error": {"code": N, "message": "..."}}; anything unexpected as
{"exception": "..."} so the Rust side can show it.

Every scenario is bounded (SCENARIO_SECONDS) and so is the process
(REF_MAX_SECONDS, default 120).
"""

import asyncio
import dataclasses
import json
import os
import sys
import time
import traceback

import loopback  # noqa: E402  (must come before the rest of aster)

from aster import AsterClient, RpcError  # noqa: E402
from aster.contract.identity import contract_id_from_service  # noqa: E402

from contracts import (  # noqa: E402
    AgentSession, Command, CountRequest, Echo, EchoProbe, EchoRequest, Heartbeat,
    MetricPoint, MissionControl, StatusRequest, Tally, TallyProbe,
)

SCENARIO_SECONDS = 30.0
CALL_SECONDS = 10.0


def plain(value):
    """Dataclasses, lists and dicts as JSON-able values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def error_of(exc):
    if isinstance(exc, RpcError):
        return {"error": {"code": int(exc.code), "message": exc.message, "class": type(exc).__name__}}
    return {"exception": f"{type(exc).__name__}: {exc}"}


async def outcome(awaitable, seconds=CALL_SECONDS):
    """{"ok": value} or {"error": {code, message}}, bounded in time."""
    try:
        return {"ok": plain(await asyncio.wait_for(awaitable, seconds))}
    except Exception as exc:  # noqa: BLE001 -- reported, not swallowed
        return error_of(exc)


async def stream_outcome(aiter, seconds=CALL_SECONDS):
    """The items of a stream, then its error if it ended with one."""
    items = []

    async def drain():
        async for item in aiter:
            items.append(plain(item))

    try:
        await asyncio.wait_for(drain(), seconds)
        return {"items": items}
    except Exception as exc:  # noqa: BLE001
        return {"items": items, **error_of(exc)}


async def agen(items):
    for item in items:
        yield item


# -- scenarios ------------------------------------------------------------------


async def admission(c, address):
    local = {cls.__aster_service_info__.name: contract_id_from_service(cls)
             for cls in (Echo, Tally, MissionControl, AgentSession)}
    return {
        "services": [
            {"name": s.name, "version": s.version, "pattern": s.pattern,
             "contract_id": s.contract_id, "serialization_modes": list(s.serialization_modes)}
            for s in c.services
        ],
        "python_contract_ids": local,
    }


async def typed_echo(c, address):
    echo = await c.client(Echo)
    r = {}
    r["unary"] = await outcome(echo.echo(EchoRequest(message="hello")))
    r["unicode"] = await outcome(echo.echo(EchoRequest(message="héllo ✓ 😀")))
    r["latin1"] = await outcome(echo.echo(EchoRequest(message="café")))
    r["empty"] = await outcome(echo.echo(EchoRequest(message="")))
    big = await outcome(echo.echo(EchoRequest(message="z" * 100_000)))
    r["big_len"] = len(big["ok"]["reply"]) if "ok" in big else big
    r["server_stream"] = await stream_outcome(echo.count_up(CountRequest(count=3)))
    r["server_stream_empty"] = await stream_outcome(echo.count_up(CountRequest(count=0)))
    r["server_stream_error"] = await stream_outcome(echo.count_up(CountRequest(count=-2)))
    r["client_stream"] = await outcome(echo.join(agen([EchoRequest(message=m) for m in "abc"])))
    r["client_stream_empty"] = await outcome(echo.join(agen([])))
    joined = await outcome(echo.join(agen([EchoRequest(message="y" * 50_000), EchoRequest(message="end")])))
    r["client_stream_big_len"] = len(joined["ok"]["reply"]) if "ok" in joined else joined

    async def chat():
        # Interactive: each reply is read before the next request is sent.
        replies = []
        async with echo.chat() as ch:
            for m in ("x", "y", "z"):
                await ch.send(EchoRequest(message=m))
                replies.append((await ch.recv()).reply)
            await ch.close()
            end = await ch.recv()
            code, message = await ch.wait_for_trailer()
        return {"replies": replies, "end": end, "trailer": [code, message]}

    r["bidi"] = await outcome(chat())
    return r


async def json_proxy(c, address):
    p = c.proxy("Echo")  # synchronous in 0.1.2
    r = {}
    r["unary"] = await outcome(p.echo({"message": "hello"}))
    r["unary_kwargs"] = await outcome(p.echo(message="kw"))
    r["server_stream"] = await stream_outcome(p.count_up.stream({"count": 3}))
    r["server_stream_error"] = await stream_outcome(p.count_up.stream({"count": -2}))
    r["client_stream"] = await outcome(p.join(agen([{"message": m} for m in "abc"])))

    async def chat():
        ch = p.chat.bidi()
        await ch.open()
        replies = []
        for m in ("x", "y"):
            await ch.send({"message": m})
            # 0.1.2's _ProxyBidiChannel.__anext__ calls a method the channel
            # does not have, so read through the underlying channel.
            replies.append(await ch._channel.recv())
        await ch.close()
        end = await ch._channel.recv()
        return {"replies": replies, "end": end, "trailer": list(await ch._channel.wait_for_trailer())}

    r["bidi"] = await outcome(chat())
    return r


async def sessions(c, address):
    r = {}
    t = await c.client(Tally)
    r["typed_add"] = [await outcome(t.add(CountRequest(count=n))) for n in (2, 5)]
    r["typed_add_error"] = await outcome(t.add(CountRequest(count=-1)))
    r["typed_after_error"] = await outcome(t.add(CountRequest(count=1)))
    r["typed_countdown"] = await outcome(t.countdown(CountRequest(count=3)))
    r["typed_sum"] = await outcome(t.sum(agen([CountRequest(count=10), CountRequest(count=20)])))
    r["typed_running"] = await outcome(t.running(agen([CountRequest(count=1), CountRequest(count=2)])))
    r["typed_after_streams"] = await outcome(t.add(CountRequest(count=0)))
    # 0.1.2's SessionStub.cancel() with no call in flight: CANCEL, then it
    # waits for the CANCELLED trailer.
    r["typed_idle_cancel"] = await outcome(t.cancel())
    r["typed_after_cancel"] = await outcome(t.add(CountRequest(count=0)))
    await t.close()

    t2 = await c.client(Tally)
    r["typed_second_session"] = await outcome(t2.add(CountRequest(count=1)))
    await t2.close()

    s = await c.session("Tally")
    r["json_add"] = [await outcome(s.add({"count": 4})), await outcome(s.add(count=6))]
    r["json_add_error"] = await outcome(s.add({"count": -3}))
    r["json_unknown_field"] = await outcome(s.add({"count": 1, "bogus": 2}))
    r["json_after_errors"] = await outcome(s.add({"count": 1}))
    await s.close()
    return r


async def errors(c, address):
    r = {}
    echo = await c.client(Echo)
    probe = await c.client(EchoProbe)
    r["typed_unknown_method"] = await outcome(probe.missing(EchoRequest(message="x")))
    r["typed_handler_error"] = await outcome(echo.fail(EchoRequest(message="bob")))
    t0 = time.monotonic()
    r["typed_deadline"] = await outcome(echo.slow(EchoRequest(message="x"), timeout=0.5))
    r["typed_deadline_elapsed"] = time.monotonic() - t0
    r["typed_after_deadline"] = await outcome(echo.echo(EchoRequest(message="still here")))

    p = c.proxy("Echo")
    r["json_unknown_method"] = await outcome(p.missing({"message": "x"}))
    r["json_handler_error"] = await outcome(p.fail({"message": "bob"}))
    r["json_unknown_field"] = await outcome(p.echo({"message": "x", "bogus": 1}))
    r["json_wrong_type"] = await outcome(p.echo({"message": 5}))
    return r


async def refusal_races(c, address, tries=40):
    """Calls the server refuses while this client is still sending them.

    0.1.2 writes a session call's CALL and request frames, and a bidi call's
    HEADER and first request, in separate writes. If the server stops the
    stream's receive side as soon as it has refused, the second write fails
    and 0.1.2 raises a transport error instead of reading the trailer.
    Reports {outcome: count} over `tries` attempts of each.
    """

    def tally(counts, result):
        key = json.dumps(result, sort_keys=True)
        counts[key] = counts.get(key, 0) + 1

    session, bidi = {}, {}
    for _ in range(tries):
        tp = await c.client(TallyProbe)
        tally(session, await outcome(tp.missing(CountRequest(count=1))))
        try:
            await tp.close()
        except Exception:  # noqa: BLE001 -- the server may be gone already
            pass
    probe = await c.client(EchoProbe)
    for _ in range(tries):
        async def chat():
            async with probe.missing_chat() as ch:
                await ch.send(EchoRequest(message="x"))
                return await ch.recv()
        tally(bidi, await outcome(chat()))
    return {"session_unknown_method": session, "bidi_unknown_method": bidi}


async def mission(c, address):
    """The walkthrough's agent and operator, against one server."""
    r = {}
    mc = c.proxy("MissionControl")
    r["status"] = await outcome(mc.getStatus({"agent_id": "py-agent-1"}))
    r["submit"] = await outcome(mc.submitLog({
        "timestamp": time.time(), "level": "info", "message": "agent started", "agent_id": "py-agent-1",
    }))

    def points():
        for i in range(1000):
            point = {"name": "cpu.usage", "value": i / 10, "timestamp": 1_700_000_000.0 + i}
            if i % 100 == 0:
                point["tags"] = {"host": f"h{i}"}
            yield point

    r["ingest"] = await outcome(mc.ingestMetrics(agen(list(points()))))

    typed = await c.client(MissionControl)
    r["typed_status"] = await outcome(typed.getStatus(StatusRequest(agent_id="typed")))
    tagged = [MetricPoint(name="mem", value=float(i), timestamp=2.0, tags={"host": f"h{i}", "rack": "r1"}) for i in range(10)]
    r["typed_ingest"] = await outcome(typed.ingestMetrics(agen(tagged)))

    # Operator: another client tails warn+ entries that this client submits.
    operator = AsterClient(address=address)
    await asyncio.wait_for(operator.connect(), CALL_SECONDS)
    seen: asyncio.Queue = asyncio.Queue()

    async def tail():
        async for entry in operator.proxy("MissionControl").tailLogs.stream({"level": "warn"}):
            await seen.put(entry)

    tailer = asyncio.create_task(tail())
    entries = []
    try:
        # The tail is live once a ping comes back; until then pings may be missed.
        for _ in range(100):
            await mc.submitLog({"level": "warn", "message": "ping", "agent_id": "py-agent-1"})
            try:
                entries.append(await asyncio.wait_for(seen.get(), 0.1))
                break
            except asyncio.TimeoutError:
                continue
        for level, message in (("info", "hidden"), ("error", "real-1"), ("warn", "real-2")):
            await mc.submitLog({"timestamp": 1.5, "level": level, "message": message, "agent_id": "py-agent-1"})
        for _ in range(100):
            entry = await asyncio.wait_for(seen.get(), CALL_SECONDS)
            entries.append(entry)
            if entry.get("message") == "real-2":
                break
    except Exception as exc:  # noqa: BLE001
        r["tail_error"] = error_of(exc)
    finally:
        tailer.cancel()
        try:
            await tailer
        except BaseException:  # noqa: BLE001 -- cancelled on purpose
            pass
        await operator.close()
    r["tail"] = [e for e in entries if e.get("message") != "ping"]
    r["tail_got_ping"] = any(e.get("message") == "ping" for e in entries)

    a = await c.client(AgentSession)
    hb = Heartbeat(agent_id="py-agent-1", capabilities=["gpu", "arm64"], load_avg=0.5)
    r["register"] = await outcome(a.register(hb))
    r["heartbeat"] = await outcome(a.heartbeat(hb))
    r["run_command"] = await outcome(a.runCommand(agen([Command(command="uptime"), Command(command="ls -l")])))
    await a.close()

    js = await c.session("AgentSession")
    r["json_register"] = await outcome(js.register({"agent_id": "py-agent-2", "capabilities": ["cpu"], "load_avg": 1.5}))
    r["json_heartbeat"] = await outcome(js.heartbeat({"agent_id": "py-agent-2"}))
    await js.close()
    return r


SCENARIOS = {
    "admission": admission,
    "typed_echo": typed_echo,
    "json_proxy": json_proxy,
    "sessions": sessions,
    "errors": errors,
    "refusal_races": refusal_races,
    "mission": mission,
}


async def run(address, names):
    results = {}
    for name in names:
        client = AsterClient(address=address)
        try:
            await asyncio.wait_for(client.connect(), CALL_SECONDS)
            results[name] = await asyncio.wait_for(SCENARIOS[name](client, address), SCENARIO_SECONDS)
        except Exception:  # noqa: BLE001
            results[name] = {"exception": traceback.format_exc()}
        finally:
            try:
                await asyncio.wait_for(client.close(), CALL_SECONDS)
            except Exception:  # noqa: BLE001
                pass
    return results


def main():
    loopback.exit_after(float(os.environ.get("REF_MAX_SECONDS", "120")))
    address, names = sys.argv[1], sys.argv[2:]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown or not names:
        sys.exit(f"unknown scenario(s) {unknown}; known: {sorted(SCENARIOS)}")
    results = asyncio.run(run(address, names))
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
