"""Process memory from smaps_rollup: parsed fields, this process, a pid that is gone."""

import os
import subprocess
import sys

from appliance.runtime.proc_memory import parse_smaps_rollup, process_memory

ROLLUP = """560acb0c1000-7fffc495b000 ---p 00000000 00:00 0                          [rollup]
Rss:                2048 kB
Pss:                 512 kB
Pss_Dirty:           112 kB
Shared_Clean:       1456 kB
Private_Clean:        40 kB
Private_Dirty:       270 kB
Swap:                  0 kB
SwapPss:               0 kB
"""


def test_parse_when_rollup_text_then_mib_and_uss_is_both_private_kinds():
    m = parse_smaps_rollup(ROLLUP)
    assert m == {"rss_mib": 2.0, "pss_mib": 0.5, "uss_mib": 0.3, "swap_mib": 0.0}


def test_process_memory_when_live_or_gone_then_figures_or_none():
    m = process_memory(os.getpid())
    assert m is not None and 0 < m["uss_mib"] <= m["pss_mib"] <= m["rss_mib"]
    p = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                       capture_output=True, text=True)
    assert process_memory(int(p.stdout)) is None
