"""The risk journal: every trigger, action change and reset, one CRC-checked line each.

``<state_dir>/risk-journal.jsonl``, in the gateway journal's line format
(runtime/journal.py: ``<crc32> <JSON>``, append-only). Writers: the risk watchdog
(triggers, actions, resets, PnL baselines) and ``mmctl kill`` (raise and reset, with
who and why). ``n`` counts per writer, so two writers may repeat a number: the
order of the lines is the order of events.

Writing it must never stop the watchdog: a failed write (disk full, read-only
state directory) is logged and counted, and the caller carries on.
"""

import datetime
import getpass
import logging
import os
from collections.abc import Callable
from pathlib import Path

from appliance.config import state_dir
from appliance.runtime.journal import Journal, read_journal

JOURNAL_NAME = "risk-journal.jsonl"

log = logging.getLogger(__name__)


def journal_path(cfg, instance: str) -> Path:
    return state_dir(cfg, instance) / JOURNAL_NAME


def operator() -> str:
    """Who is at the keyboard: the user behind sudo, else the login user."""
    try:
        return os.environ.get("SUDO_USER") or getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return f"uid {os.getuid()}"


def utc_iso(ts_ns: int) -> str:
    return datetime.datetime.fromtimestamp(ts_ns / 1e9, datetime.UTC).isoformat(timespec="milliseconds")


class RiskJournal:
    """Append-only; ``write`` never raises. Opened on the first write (and again after
    a failure), so a state directory that comes back is used again."""

    def __init__(self, path: str | os.PathLike[str], fsync: str = "always",
                 on_error: Callable[[], None] | None = None) -> None:
        self.path = os.fspath(path)
        self.fsync = fsync
        self.on_error = on_error
        self.errors = 0  # writes that failed
        self.written = 0
        self._j: Journal | None = None

    def write(self, kind: str, **fields: object) -> bool:
        try:
            if self._j is None:
                self._j = Journal(self.path, fsync=self.fsync)
            if not self._j.append(kind, **fields):  # 0: not written (the journal says why)
                raise OSError(getattr(self._j, "error", "") or "append failed")
        except (OSError, ValueError) as e:
            self.errors += 1
            log.error("risk journal %s: %s not written (%s)", self.path, kind, e)
            self._drop()
            if self.on_error is not None:
                self.on_error()
            return False
        self.written += 1
        return True

    def _drop(self) -> None:
        """Forget a journal that failed: the next write reopens it (which also cuts a
        torn last line)."""
        j, self._j = self._j, None
        if j is None:
            return
        try:
            j.close()
        except OSError:  # its fsync failed: close the descriptor anyway
            fd = getattr(j, "_fd", -1)
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass

    def close(self) -> None:
        self._drop()


def read_records(path: str | os.PathLike[str]) -> list[dict]:
    """Every intact line of a risk journal (tests, tools)."""
    return read_journal(path)[0]
