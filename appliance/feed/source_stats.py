"""What a market source read: ``SourceStats``, and the check a replay must pass.

Every source counts into one ``SourceStats`` object that lives as long as the source
(``reset`` clears it in place when a pass starts), so whoever holds it, the backtest
report for one, reads the figures of the last pass and never a stale copy.
``check_replay`` turns a bad pass into an error that names the reason: no events at
all, or more malformed lines than the configured share.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

# Malformed lines whose reason is kept (the rest are only counted).
MAX_MALFORMED_REASONS = 5


class ReplayError(ValueError):
    """A replay that read nothing usable, or too much it could not read."""


@dataclass
class SourceStats:
    """Counters of one pass over a source (reset when ``chunks()`` starts)."""

    lines: int = 0  # capture lines read (blank lines excluded)
    events: int = 0  # MD_EVENT records emitted
    malformed: int = 0  # lines or items dropped because they did not parse
    skipped: int = 0  # well-formed but unused: other coins, other channels, old diffs
    gaps: int = 0  # book continuity breaks detected
    stale_trades: int = 0  # trades older than the newest event time already emitted
    # depth diffs applied to a book built without a snapshot before it was trusted
    warmup_skipped: int = 0
    merged: int = 0  # lines folded into another line's event (diffs applied at a snapshot)
    book_from_diffs: bool = False  # some book was built from diffs alone (no snapshot)
    recv_timed: int = 0  # events without an exchange time, stamped from the receive clock
    malformed_reasons: list[str] = field(default_factory=list)  # the first few, with line

    def malformed_line(self, reason: str) -> None:
        """Count one malformed line or item and keep its reason if among the first."""
        self.malformed += 1
        self.add_reason(reason)

    def add_reason(self, reason: str) -> None:
        """Keep the reason of a malformed line counted elsewhere, if among the first."""
        if len(self.malformed_reasons) < MAX_MALFORMED_REASONS:
            self.malformed_reasons.append(reason)

    def reset(self) -> None:
        """Zero every counter in place (the object stays the one others hold)."""
        for f in dataclasses.fields(self):
            setattr(self, f.name, f.default_factory() if callable(f.default_factory) else f.default)

    def to_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


def check_replay(stats: SourceStats, name: str, max_malformed_frac: float,
                 allow_malformed: bool = False, why_no_events: str = "") -> None:
    """Raise ``ReplayError`` when a finished replay of ``name`` produced no event, or
    when more than ``max_malformed_frac`` of its lines were malformed (unless
    ``allow_malformed``). ``why_no_events`` adds what the caller knows (the coins in
    the file, the coin asked for)."""
    if not 0.0 <= max_malformed_frac <= 1.0:
        raise ValueError(f"max_malformed_frac must be in [0, 1], got {max_malformed_frac}")
    reasons = "; ".join(stats.malformed_reasons) or "none recorded"
    if stats.events == 0:
        raise ReplayError(
            f"{name}: 0 events from {stats.lines:,} lines ({stats.malformed:,} malformed, "
            f"{stats.skipped:,} skipped){': ' + why_no_events if why_no_events else ''}; "
            f"first malformed: {reasons}")
    share = stats.malformed / stats.lines if stats.lines else 0.0
    if share > max_malformed_frac and not allow_malformed:
        raise ReplayError(
            f"{name}: {stats.malformed:,} of {stats.lines:,} lines malformed ({share:.2%}, "
            f"more than the {max_malformed_frac:.2%} allowed); first: {reasons}. "
            "Pass --allow-malformed to replay it anyway")
