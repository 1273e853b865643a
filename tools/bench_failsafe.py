"""``mmctl bench failsafe``: how fast the book is empty after each death, measured
against the local venue (as its own process, as in the soak) with the venue's own
``openOrders`` polled every ``POLL_S``.

Per round: wait until orders rest, inject, time until ``openOrders`` shows none of
ours; then bring the appliance back and wait until it quotes again. Deaths:

* ``supervisor_kill9``: SIGKILL to the supervisor (children get SIGTERM from the
  kernel; the gateway cancels, the orphaned watchdog sweeps); also the time until
  no process of the set is left;
* ``gateway_kill9``: SIGKILL to the gateway while the venue refuses
  ``scheduleCancel`` (the last-resort canceller empties the book);
* ``disk_full``: the state directory's tmpfs filled (root only);
* ``kill_flag``: the kill flag raised in the control block — the gateway's own
  cancel path, the yardstick.
"""

from __future__ import annotations

import os
import signal
import statistics
import time

from appliance.hyperliquid.demo_key import DEMO_ADDRESS
from appliance.runtime.control import set_kill
from shm_layout import attach

from .soak import Soak, fill_disk, set_pids, status
from .soak_watch import venue_info

POLL_S = 0.02
DEATHS = ("supervisor_kill9", "gateway_kill9", "disk_full", "kill_flag")


def _until(pred, timeout_s: float) -> float | None:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        if pred():
            return time.monotonic() - t0
        time.sleep(POLL_S)
    return None


class FailsafeBench(Soak):
    def __init__(self, rounds: int, seed: int = 1, log=print) -> None:
        super().__init__(minutes=0, fault_every_s=0, seed=seed, workdir=None, log=log)
        self.rounds = rounds

    def _resting(self) -> bool:
        return bool(venue_info(self.url, "openOrders", DEMO_ADDRESS))

    def _empty(self) -> bool:
        return venue_info(self.url, "openOrders", DEMO_ADDRESS) == []

    def _ready(self) -> None:
        if not self._wait_healthy(180) or _until(self._resting, 120) is None:
            raise RuntimeError("the appliance did not quote again")

    def _one(self, death: str) -> dict:
        self._ready()
        out: dict = {}
        t0 = time.monotonic()
        if death == "supervisor_kill9":
            os.kill(status(self.instance)["supervisor"]["pid"], signal.SIGKILL)
            out["empty_s"] = _until(self._empty, 30)
            out["set_gone_s"] = _until(lambda: not set_pids(self.instance), 30)
            if out["set_gone_s"] is not None:
                out["set_gone_s"] += out["empty_s"] or 0.0
            self._start_app()
        elif death == "gateway_kill9":
            st = status(self.instance)
            os.kill(next(p["pid"] for p in st["processes"] if p["name"] == "gateway"), signal.SIGKILL)
            out["empty_s"] = _until(self._empty, 30)
        elif death == "disk_full":
            ballast = fill_disk(self.state)
            out["empty_s"] = _until(self._empty, 30)
            ballast.unlink()
            self._wait_healthy(60)
            self._reset_kill("bench: disk freed")
        elif death == "kill_flag":
            seg = attach(self.instance, "control", writable=True)
            try:  # raised in-process: the time of an mmctl start-up is not the gateway's
                set_kill(seg.records[0], "bench", "bench")
                out["empty_s"] = _until(self._empty, 30)
            finally:
                seg.close()
            self._reset_kill("bench: kill flag measured")
        out["round_s"] = round(time.monotonic() - t0, 2)
        return out

    def run(self) -> dict:
        self.setup()
        deaths = [d for d in DEATHS if d != "disk_full" or self.mounted]
        res: dict = {d: [] for d in deaths}
        try:
            self._start_app()
            self.t0 = time.monotonic()
            for r in range(self.rounds):
                for d in deaths:
                    m = self._one(d)
                    res[d].append(m)
                    self.log(f"round {r + 1} {d}: {m}")
        finally:
            self.teardown()
        return {"rounds": self.rounds, "poll_s": POLL_S, "deaths": res,
                "summary": {d: summarize(v) for d, v in res.items()}}


def summarize(ms: list[dict]) -> dict:
    out = {}
    for key in ("empty_s", "set_gone_s"):
        if not ms or key not in ms[0]:
            continue
        xs = [m[key] for m in ms if m.get(key) is not None]
        out[key] = {"median": round(statistics.median(xs), 3) if xs else None,
                    "max": round(max(xs), 3) if xs else None,
                    "missed": sum(1 for m in ms if m.get(key) is None)}
    return out


def render(result: dict) -> str:
    lines = [f"fail-safe bench: {result['rounds']} rounds, openOrders polled every "
             f"{result['poll_s'] * 1e3:.0f} ms",
             f"{'death':<18}{'book empty: median':>20}{'max':>8}{'missed':>8}"
             f"{'set gone: median':>18}{'max':>8}"]
    for d, s in result["summary"].items():
        e, g = s.get("empty_s", {}), s.get("set_gone_s")
        line = f"{d:<18}{e.get('median')!s:>20}{e.get('max')!s:>8}{e.get('missed')!s:>8}"
        if g:
            line += f"{g['median']!s:>18}{g['max']!s:>8}"
        lines.append(line)
    return "\n".join(lines)
