"""Memory of one process from /proc/PID/smaps_rollup, in MiB.

RSS counts every page the process maps, shared ones in full in each process; PSS splits
each shared page among the processes that map it (five processes' PSS add up to what
they cost the machine); USS is the process's private pages (what ending it frees).
Shared memory segments count too: the rings and blocks are in every child's PSS.
"""

from __future__ import annotations

_FIELDS = {"Rss": "rss_mib", "Pss": "pss_mib", "Private_Clean": "uss_mib", "Private_Dirty": "uss_mib",
           "Swap": "swap_mib"}


def parse_smaps_rollup(text: str) -> dict[str, float]:
    """rss/pss/uss/swap in MiB from the text of a smaps_rollup file."""
    out = dict.fromkeys(_FIELDS.values(), 0.0)
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        name = _FIELDS.get(key)
        if name is not None:
            out[name] += int(rest.split()[0]) / 1024.0  # the kernel writes kB
    return {k: round(v, 1) for k, v in out.items()}


def process_memory(pid: int) -> dict[str, float] | None:
    """rss/pss/uss/swap of ``pid`` in MiB; None when it is gone or not readable (another
    user's process without the privilege)."""
    try:
        with open(f"/proc/{int(pid)}/smaps_rollup") as f:
            return parse_smaps_rollup(f.read())
    except (OSError, ValueError, IndexError):
        return None
