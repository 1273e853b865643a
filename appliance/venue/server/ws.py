"""The venue's websocket at ``/ws``: subscriptions, fan-out, ping, post, idle close.

Each connection has a writer task draining its own queue, so one slow client never
blocks the market loop, and so faults (stall, duplicate, reorder, corrupt) apply per
connection in one place. The server closes a connection it has sent nothing to for
``idle_timeout_s`` (60 s on the real venue); a ping earns a pong, which counts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict

import orjson
from aiohttp import WSMsgType, web

from .exchange import handle_exchange
from .info import handle_info
from .md_delay import MD_CHANNELS, MdDelay
from .subscriptions import USER_CHANNEL, BadSubscription, parse_subscription

log = logging.getLogger(__name__)

GREETING = "Websocket connection established."
QUEUE_LIMIT = 10_000  # frames; a client this far behind is cut off


def _dumps(obj) -> str:
    return orjson.dumps(obj).decode()


def _parse_error(text: str) -> str:
    return _dumps({"channel": "error", "data": f"Error parsing JSON into valid websocket request: {text}"})


class Conn:
    def __init__(self, ws: web.WebSocketResponse, ip: str) -> None:
        self.ws = ws
        self.ip = ip
        self.subs: dict[tuple, dict] = {}
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()
        self.last_sent_mono = time.monotonic()
        self.closed = False


class WsHub:
    def __init__(self, venue, idle_timeout_s: float, md_delay: MdDelay | None = None) -> None:
        self.venue = venue  # VenueState: info/exchange handlers, snapshots, faults
        self.md_delay = md_delay  # market-data latency (None = frames leave at once)
        self.faults = venue.faults
        self.idle_timeout_s = float(idle_timeout_s)
        self.conns: set[Conn] = set()
        self.index: dict[tuple, set[Conn]] = defaultdict(set)
        self._drops_seen = 0

    # --- fan-out -------------------------------------------------------------------
    def subscribers(self, key: tuple) -> set[Conn]:
        return self.index.get(key) or set()

    def has(self, key: tuple) -> bool:
        return bool(self.index.get(key))

    def publish(self, key: tuple, channel: str, data) -> None:
        conns = self.index.get(key)
        if not conns:
            return
        frame = _dumps({"channel": channel, "data": data})
        if self.md_delay is not None and channel in MD_CHANNELS:
            self.md_delay.push(self._fan_out, key, frame)  # to the subscribers of then
            return
        for c in conns:
            self.enqueue(c, frame)

    def _fan_out(self, key: tuple, frame: str) -> None:
        for c in self.index.get(key) or ():
            self.enqueue(c, frame)

    def publish_user(self, typ: str, user: str, data) -> None:
        self.publish((typ, user), USER_CHANNEL[typ], data)

    def enqueue(self, conn: Conn, frame: str) -> None:
        if conn.closed:
            return
        if conn.queue.qsize() > QUEUE_LIMIT:
            log.warning("ws client %s too slow, closing", conn.ip)
            conn.closed = True
            conn.queue.put_nowait(None)
            return
        conn.queue.put_nowait(frame)

    # --- connection lifecycle -----------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = Conn(ws, request.remote or "?")
        self.conns.add(conn)
        writer = asyncio.create_task(self._writer(conn))
        self.enqueue(conn, GREETING)
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_text(conn, msg.data)
                elif msg.type == WSMsgType.BINARY:
                    self.enqueue(conn, _parse_error(msg.data.decode("utf-8", "replace")))
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self._forget(conn)
            conn.queue.put_nowait(None)
            writer.cancel()
            await ws.close()
        return ws

    def _forget(self, conn: Conn) -> None:
        conn.closed = True
        self.conns.discard(conn)
        for key in conn.subs:
            s = self.index.get(key)
            if s is not None:
                s.discard(conn)
                if not s:
                    del self.index[key]
        conn.subs.clear()

    async def _writer(self, conn: Conn) -> None:
        held: str | None = None  # a frame held back to be sent after the next (reorder)
        f = self.faults
        try:
            while True:
                frame = await conn.queue.get()
                if frame is None:
                    break
                while f.ws_stalled():
                    await asyncio.sleep(0.02)
                if frame is GREETING or frame.startswith('{"channel":"pong"'):
                    out = [frame]
                elif held is None and f.reorder_frame():
                    held = frame
                    continue
                else:
                    if f.corrupt_frame():
                        frame = frame[: max(1, len(frame) // 2)]
                    out = [frame, frame] if f.duplicate_frame() else [frame]
                    if held is not None:
                        out.append(held)
                        held = None
                for fr in out:
                    await conn.ws.send_str(fr)
                conn.last_sent_mono = time.monotonic()
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass

    async def reaper(self) -> None:
        """Close idle connections and carry out requested drops."""
        while True:
            await asyncio.sleep(min(0.05, self.idle_timeout_s / 4))
            drop = self.faults.drops_requested != self._drops_seen
            self._drops_seen = self.faults.drops_requested
            now = time.monotonic()
            for conn in list(self.conns):
                if drop:
                    self._forget(conn)
                    # An abrupt end: no close handshake, as when a link dies.
                    transport = conn.ws._req.transport if conn.ws._req else None  # noqa: SLF001
                    if transport is not None:
                        transport.abort()
                elif now - conn.last_sent_mono > self.idle_timeout_s and conn.queue.empty():
                    self._forget(conn)
                    await conn.ws.close(code=1000, message=b"idle")

    async def close_all(self) -> None:
        if self.md_delay is not None:
            await self.md_delay.close()
        for conn in list(self.conns):
            self._forget(conn)
            await conn.ws.close(code=1001, message=b"server shutdown")

    # --- client messages -------------------------------------------------------------
    async def _on_text(self, conn: Conn, text: str) -> None:
        try:
            msg = orjson.loads(text)
        except orjson.JSONDecodeError:
            self.enqueue(conn, _parse_error(text))
            return
        method = msg.get("method") if isinstance(msg, dict) else None
        if method == "ping":
            self.enqueue(conn, '{"channel":"pong"}')
        elif method in ("subscribe", "unsubscribe"):
            self._on_sub(conn, method, msg.get("subscription"), text)
        elif method == "post":
            await self._on_post(conn, msg, text)
        else:
            self.enqueue(conn, _parse_error(text))

    def _on_sub(self, conn: Conn, method: str, sub, text: str) -> None:
        try:
            key, echo = parse_subscription(sub)
        except BadSubscription:
            self.enqueue(conn, _parse_error(text))
            return
        if method == "subscribe":
            if key in conn.subs:
                self.enqueue(conn, _dumps({"channel": "error", "data": f"Already subscribed: {_dumps(sub)}"}))
                return
            conn.subs[key] = echo
            self.index[key].add(conn)
            self.enqueue(conn, _dumps({"channel": "subscriptionResponse",
                                       "data": {"method": "subscribe", "subscription": echo}}))
            for channel, data in self.venue.snapshot_for(key):
                frame = _dumps({"channel": channel, "data": data})
                if self.md_delay is not None and channel in MD_CHANNELS:
                    # the engine-time state, behind the frames produced before it
                    self.md_delay.push(self.enqueue, conn, frame)
                else:
                    self.enqueue(conn, frame)
        else:
            if key not in conn.subs:
                self.enqueue(conn, _dumps({"channel": "error",
                                           "data": f"Already unsubscribed: {_dumps(sub)}"}))
                return
            del conn.subs[key]
            s = self.index.get(key)
            if s is not None:
                s.discard(conn)
                if not s:
                    del self.index[key]
            self.enqueue(conn, _dumps({"channel": "subscriptionResponse",
                                       "data": {"method": "unsubscribe", "subscription": echo}}))

    async def _on_post(self, conn: Conn, msg: dict, text: str) -> None:
        req_id = msg.get("id")
        request = msg.get("request")
        if (not isinstance(req_id, int) or isinstance(req_id, bool) or not isinstance(request, dict)
                or request.get("type") not in ("info", "action")
                or not isinstance(request.get("payload"), dict)):
            self.enqueue(conn, _parse_error(text))
            return
        if self.faults.delay_s:
            await asyncio.sleep(self.faults.delay_s)
        payload = request["payload"]
        if request["type"] == "info":
            status, body = handle_info(self.venue, payload, conn.ip)
            if status == 200:
                response = {"type": "info", "payload": {"type": payload.get("type"), "data": body}}
            else:
                response = {"type": "error", "payload": f"{status} {_dumps(body) if body is None else body}"}
        else:
            status, body = handle_exchange(self.venue, payload, conn.ip)
            if status == 200:
                response = {"type": "action", "payload": body}
            else:
                response = {"type": "error", "payload": f"{status} {_dumps(body) if body is None else body}"}
        self.enqueue(conn, _dumps({"channel": "post", "data": {"id": req_id, "response": response}}))
        self.venue.after_request()
