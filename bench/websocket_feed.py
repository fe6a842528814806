"""Scenario `websocket`: a masked WebSocket feed, through the gateway vs straight to the upstream.

Two measurements per target, on one connection each:

- round trip: the client sends `next`, the upstream answers one message frame; the median round
  trip through the gateway less the direct one is the latency the gateway adds per frame;
- burst: the client asks for N frames at once and times their arrival: frames per second, and
  the gateway's CPU per frame (from /proc, as for HTTP).

Targets: `direct`, `gateway_agent` (every frame parsed, masked, serialised) and `gateway_admin`
(masking off for that role: frames relayed as they are), which isolates the masking share.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.processes import Server
from bench.stack import Stack

PATH = "/bench/live"
CLEAR_SENDER_PHONE = "+1415823"  # every frame's structured phone starts so when unmasked


@dataclass(frozen=True)
class FeedSettings:
    rounds: int  # round trips timed
    frames: int  # frames in the burst


async def _round_trips(ws: aiohttp.ClientWebSocketResponse, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        await ws.send_str("next")
        message = await ws.receive()
        times.append(time.perf_counter() - started)
        if message.type != aiohttp.WSMsgType.TEXT:
            raise RuntimeError(f"websocket feed ended early: {message.type!r}")
    return times


async def _burst(ws: aiohttp.ClientWebSocketResponse, frames: int) -> tuple[float, bool]:
    """Seconds to receive `frames` frames, and whether they all came masked."""
    started = time.perf_counter()
    await ws.send_str(f"burst {frames}")
    masked = True
    for _ in range(frames):
        message = await ws.receive()
        if message.type != aiohttp.WSMsgType.TEXT:
            raise RuntimeError(f"websocket feed ended early: {message.type!r}")
        masked = masked and CLEAR_SENDER_PHONE not in message.data
    return time.perf_counter() - started, masked


async def measure(
    url: str, token: str, settings: FeedSettings, gateway: Server | None
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(url + PATH, headers=headers, max_msg_size=0) as ws,
    ):
        await _round_trips(ws, max(10, settings.rounds // 10))  # warm-up
        times = sorted(await _round_trips(ws, settings.rounds))
        cpu_before = gateway.cpu() if gateway else 0.0
        seconds, masked = await _burst(ws, settings.frames)
        cpu_after = gateway.cpu() if gateway else 0.0
    return {
        "rtt_p50_ms": times[len(times) // 2] * 1000,
        "rtt_p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))] * 1000,
        "frames": settings.frames,
        "frames_per_s": settings.frames / seconds,
        "gateway_cpu_us_per_frame": (cpu_after - cpu_before) * 1e6 / settings.frames
        if gateway
        else None,
        "all_frames_masked": masked,
    }


async def _run(stack: Stack, settings: FeedSettings) -> dict[str, Any]:
    rows = {
        "direct": await measure(stack.upstream.url, stack.agent, settings, None),
        "gateway_agent": await measure(stack.gateway.url, stack.agent, settings, stack.gateway),
        "gateway_admin": await measure(stack.gateway.url, stack.admin, settings, stack.gateway),
    }
    direct = rows["direct"]["rtt_p50_ms"]
    for name in ("gateway_agent", "gateway_admin"):
        rows[name]["added_latency_p50_ms"] = rows[name]["rtt_p50_ms"] - direct
    return rows


def run(stack: Stack, settings: FeedSettings) -> dict[str, Any]:
    return asyncio.run(_run(stack, settings))
