"""The estimator process's cold compile, alone and in one process: what its first step
compiles (``init_state``, the ring cursors, ``drain`` and all it calls), with every
compile logged, without starting an appliance.

    HL_MM_CACHE_DIR=$(mktemp -d) python -m tools.compile_estimator LOG [--write-params-only]
    python -m tools.compile_profile LOG

Give it an empty cache directory (a warm cache compiles nothing). It makes a throw-away
instance's shared memory (named after its pid, so runs side by side never collide) and
removes it at the end. Prints the compiles and the process's CPU seconds.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from appliance.runtime.compile_log import CompileLog


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.compile_estimator", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("log", help="the compile log to append to (JSON lines)")
    ap.add_argument("--write-params-only", action="store_true",
                    help="compile init_state and write_params only (the MarketParams writer)")
    a = ap.parse_args(argv)
    log = CompileLog("estimator", a.log)
    # imported after the listener is registered: nothing compiles at import, but be sure
    from appliance.config import load_config
    from appliance.estimator import kernel
    from appliance.estimator.process import MAX_EVENTS_PER_STEP, drain
    from appliance.ipc import byte_rows, ring
    from shm_layout import InstanceMemory, records

    instance = f"compile{os.getpid()}"
    mem = InstanceMemory.create(instance)
    try:
        cpu0_s = time.process_time()
        cfg0 = load_config(None, {})
        n = len(cfg0.appliance.coins)
        cfg = kernel.config_vector(cfg0.estimator, cfg0.appliance.coins)
        states = mem.estate.records["state"]
        for c in range(n):
            kernel.init_state(states[c], cfg)
        out = np.zeros(mem.params.spec.n_records, records.MARKET_PARAMS)
        if a.write_params_only:
            kernel.write_params(states[0], cfg, 0, out[0], 0)
        else:
            cursors = np.zeros(4, np.int64)
            cursors[0] = ring.start_cursor(mem.md.ring_words, from_start=True)
            cursors[2] = ring.start_cursor(mem.fills.ring_words, from_start=True)
            ev = np.zeros(1, records.MD_EVENT)
            fill = np.zeros(1, records.FILL_EVENT)
            cfgs = np.zeros(1, cfg.dtype)
            cfgs[0] = cfg
            drain(mem.md.ring_words, mem.md.seqs, mem.md.rows, mem.fills.ring_words, mem.fills.seqs,
                  mem.fills.rows, cursors, ev.view(np.uint8), ev, fill.view(np.uint8), fill, states,
                  cfgs, n, out, byte_rows(out), mem.params.seqs, mem.params.rows, MAX_EVENTS_PER_STEP)
        print(f"coins {n}: {log.compiles} compiles, {log.top_level_s:.1f} s compiling (wall), "
              f"process CPU {time.process_time() - cpu0_s:.1f} s")
    finally:
        mem.close()
        InstanceMemory.unlink_all(instance)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
