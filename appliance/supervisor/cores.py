"""``--cores`` parsing and the process -> CPU assignment."""

import os

from shm_layout.constants import N_CHILDREN, PROC_NAMES


class CoresError(ValueError):
    pass


def parse_cores(text: str) -> list[int]:
    """"2-6", "0,2,4", "0-1,3" -> sorted unique CPU numbers. Errors say why."""
    cpus: list[int] = []
    for part in text.replace(" ", "").split(","):
        if not part:
            raise CoresError(f"invalid --cores {text!r}: empty element")
        lo, sep, hi = part.partition("-")
        try:
            a = int(lo)
            b = int(hi) if sep else a
        except ValueError:
            raise CoresError(f"invalid --cores {text!r}: {part!r} is not N or N-M") from None
        if a < 0 or b < a:
            raise CoresError(f"invalid --cores {text!r}: bad range {part!r}")
        cpus.extend(range(a, b + 1))
    return sorted(set(cpus))


def assign(cores_text: str) -> tuple[list[set[int] | None], list[str]]:
    """CPUs for feed, estimator, quote, gateway, risk, in that order, and warnings.
    No cores given: every process may run on every CPU it is allowed (None)."""
    if not cores_text:
        return [None] * N_CHILDREN, []
    cpus = parse_cores(cores_text)
    allowed = os.sched_getaffinity(0)
    missing = [c for c in cpus if c not in allowed]
    if missing:
        raise CoresError(
            f"invalid --cores {cores_text!r}: CPU {', '.join(map(str, missing))} not available "
            f"(this process may use {', '.join(map(str, sorted(allowed)))})"
        )
    warnings = []
    if len(cpus) < N_CHILDREN:
        warnings.append(
            f"{N_CHILDREN} processes share {len(cpus)} core(s) {cpus}: they will not each "
            "have a core of their own; use the hybrid or block wait policy"
        )
    elif len(cpus) > N_CHILDREN:
        warnings.append(f"only the first {N_CHILDREN} of {len(cpus)} cores are used")
    plan = [{cpus[i % len(cpus)]} for i in range(N_CHILDREN)]
    return plan, warnings


def describe(plan) -> str:
    return ", ".join(
        f"{PROC_NAMES[i]}={'any' if cpus is None else ','.join(map(str, sorted(cpus)))}"
        for i, cpus in enumerate(plan)
    )
