"""The venue's HTTP server: ``POST /info``, ``POST /exchange``, ``GET /ws`` on one port,
plus loopback-only admin routes for tests (``/_faults``, ``/_fund``).

Embedding: ``VenueServer`` (asyncio), ``VenueThread`` (its own loop in a thread, for
tests and ``mmctl start``), ``run_venue`` (foreground, until Ctrl-C/SIGTERM).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import os
import signal
import threading

import orjson
from aiohttp import web

from appliance.runtime.parent import expected_parent

from ..faults import FaultPlan
from ..matching.warm import warm_engine
from .exchange import handle_exchange
from .info import handle_info
from .market import feed_due, market_pacer, open_market, run_market
from .md_delay import MdDelay
from .settings import VenueSettings
from .state import VenueState
from .ws import WsHub

log = logging.getLogger(__name__)

JSON_PARSE = "Failed to parse the request body as JSON: "
NO_CONTENT_TYPE = "Expected request with `Content-Type: application/json`"
MAX_BODY_BYTES = 1 << 20


def _loopback(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


class VenueServer:
    def __init__(self, settings: VenueSettings, faults: FaultPlan | None = None, engine=None,
                 source=None) -> None:
        self.settings = settings
        self.faults = faults or FaultPlan(seed=settings.seed)
        self.state = VenueState(settings, self.faults, engine=engine)
        md = (MdDelay(settings.md_latency_ms, settings.md_latency_jitter_ms,
                      settings.md_latency_sigma, seed=settings.seed)
              if MdDelay.enabled(settings.md_latency_ms, settings.md_latency_jitter_ms) else None)
        self.hub = WsHub(self.state, settings.ws_idle_timeout_s, md_delay=md)
        self.state.hub = self.hub
        self.source = source if source is not None else open_market(settings)
        self.port = settings.port
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task] = []
        self.requests = {"info": 0, "exchange": 0, "failed": 0}  # for the shutdown line

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post("/info", self._info)
        app.router.add_post("/exchange", self._exchange)
        app.router.add_get("/ws", self.hub.handle)
        if self.settings.admin_endpoint:
            app.router.add_post("/_faults", self._faults)
            app.router.add_get("/_faults", self._faults)
            app.router.add_post("/_fund", self._fund)
        return app

    async def start(self) -> None:
        # Compile before listening: a kernel compiled on first use would stall the loop
        # (and every client's request) for a cold compile's tens of seconds.
        warm_s = warm_engine(self.state.engine.coins)
        pacer = market_pacer(self.state, self.source)
        feed_due(self.state, pacer)
        log.info("matching kernels ready in %.2f s", warm_s)
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.settings.host, self.settings.port, reuse_address=True)
        await site.start()
        sock = site._server.sockets[0]  # noqa: SLF001 (the bound port when 0 was asked)
        self.port = sock.getsockname()[1]
        self._tasks = [asyncio.create_task(run_market(self.state, pacer)),
                       asyncio.create_task(self.hub.reaper())]

    async def stop(self) -> None:
        for t in self._tasks:
            t.cancel()
        for t in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await t
        await self.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- REST -------------------------------------------------------------------------
    async def _read(self, request: web.Request):
        """(payload, None) or (None, error response) as axum's Json extractor answers."""
        if request.content_type != "application/json":
            return None, web.Response(status=415, text=NO_CONTENT_TYPE)
        raw = await request.read()
        try:
            return orjson.loads(raw), None
        except orjson.JSONDecodeError as exc:
            return None, web.Response(status=400, text=JSON_PARSE + str(exc))

    async def _rest(self, request: web.Request, handler) -> web.Response:
        try:
            if self.faults.take_429():
                return web.Response(status=429, body=b"null", content_type="application/json")
            payload, problem = await self._read(request)
            if problem is not None:
                return problem
            if self.faults.response_delay_ms:
                await asyncio.sleep(self.faults.delay_s)
            status, body = handler(payload, request.remote or "?")
            if status == 200 or status == 429:
                return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")
            return web.Response(status=status, text=str(body))
        except Exception:  # never a crash: log and answer like an upstream failure
            log.exception("request failed")
            self.requests["failed"] += 1
            return web.Response(status=500, text="Internal server error")

    async def _info(self, request: web.Request) -> web.Response:
        self.requests["info"] += 1
        return await self._rest(request, functools.partial(handle_info, self.state))

    async def _exchange(self, request: web.Request) -> web.Response:
        self.requests["exchange"] += 1
        return await self._rest(request, functools.partial(handle_exchange, self.state))

    def summary(self) -> dict:
        """What this venue served: requests, orders it has seen, accounts funded."""
        return {"requests": dict(self.requests), "orders_seen": len(self.state.orders),
                "accounts": len(self.state.accounts.funded_usdc)}

    # --- admin (loopback only) -----------------------------------------------------------
    async def _faults(self, request: web.Request) -> web.Response:
        if not _loopback(request):
            return web.Response(status=403, text="admin endpoints are loopback-only")
        if request.method == "GET":
            return web.json_response(self.faults.state())
        try:
            spec = orjson.loads(await request.read() or b"{}")
            return web.json_response(self.faults.apply(spec))
        except (ValueError, TypeError) as exc:
            return web.Response(status=400, text=str(exc))

    async def _fund(self, request: web.Request) -> web.Response:
        if not _loopback(request):
            return web.Response(status=403, text="admin endpoints are loopback-only")
        try:
            spec = orjson.loads(await request.read())
            addr = self.state.fund(spec["address"], float(spec["usdc"]))
            if spec.get("agent"):
                self.state.approve_agent(spec["agent"], addr)
        except (ValueError, TypeError, KeyError) as exc:
            return web.Response(status=400, text=f"expected {{address, usdc[, agent]}}: {exc}")
        return web.json_response({"address": addr})


class VenueThread:
    """The venue on its own event loop in a daemon thread: ``with VenueThread(s) as v: v.url``.

    ``call(fn, *args)`` runs ``fn`` on the venue's loop (the engine is single-threaded)."""

    def __init__(self, settings: VenueSettings, faults: FaultPlan | None = None, engine=None,
                 source=None) -> None:
        self.server = VenueServer(settings, faults, engine, source)
        self.faults = self.server.faults
        self.state = self.server.state
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="venue", daemon=True)
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except BaseException as exc:  # report to start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self.server.stop())
        self._loop.close()

    def start(self, timeout_s: float = 30.0) -> VenueThread:
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise TimeoutError("venue did not start")
        if self._error is not None:
            raise RuntimeError(f"venue failed to start: {self._error}") from self._error
        return self

    def call(self, fn, *args, timeout_s: float = 10.0):
        async def _do():
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(_do(), self._loop).result(timeout_s)

    def stop(self, timeout_s: float = 10.0) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout_s)

    def __enter__(self) -> VenueThread:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def run_venue(settings: VenueSettings, on_ready=None, orphan_grace_s: float | None = None) -> int:
    """Run in the foreground until SIGINT/SIGTERM; ``on_ready(server)`` once listening.
    ``orphan_grace_s``: also stop that long after the parent process dies."""

    async def _main() -> None:
        server = VenueServer(settings)
        await server.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        watch = None
        if orphan_grace_s is not None:
            watch = asyncio.create_task(_stop_when_orphaned(stop, orphan_grace_s))
        if on_ready is not None:
            on_ready(server)
        try:
            await stop.wait()
        finally:
            if watch is not None:
                watch.cancel()
            await server.stop()

    asyncio.run(_main())
    return 0


async def _stop_when_orphaned(stop: asyncio.Event, grace_s: float) -> None:
    parent = expected_parent() or os.getppid()
    while os.getppid() == parent:
        await asyncio.sleep(0.1)
    log.warning("parent pid %d is gone: stopping in %g s", parent, grace_s)
    await asyncio.sleep(grace_s)
    stop.set()
