"""Logging for every process of the appliance (the supervisor, the five, the venue).

One JSON object per line: ``time`` (UTC, ISO-8601, ms), ``level``, ``process``,
``instance``, ``pid``, ``logger``, ``message``, then the record's structured fields
(``extra={...}``: ``event``, ``coin``, ``oid``, ``cloid``, ``pred_id``, ...) and
``exc_info`` for a traceback. Where the lines go (``setup``):

* run by systemd with stderr on the journal (``JOURNAL_STREAM``): to journald, through
  its socket with the instance, process and fields as journal fields (``journald.py``),
  else the same JSON lines on stderr; no file unless ``logs.files = "always"``;
* otherwise: ``<log_dir>/<process>.log``, created 0600, rotated at
  ``logs.max_file_bytes`` keeping ``logs.keep_files`` old ones. A process the
  supervisor spawned has its stderr in ``<log_dir>/<process>.out``, which catches what
  never passes through logging (a crash's traceback, numba's warnings);
* a terminal (stderr is a tty) also gets the lines, human-readable.

Signing keys never reach a log: no module logs one (``tests/runtime/test_logs.py``
holds the demo key out of every line an e2e run writes).
"""

from __future__ import annotations

import datetime
import logging
import logging.handlers
import os
import sys
from pathlib import Path

from pythonjsonlogger.json import JsonFormatter

from appliance.config import Config, log_dir

from . import journald

FILE_MODE = 0o600  # logs name accounts, orders and P&L: the owner's only
TEXT_FORMAT = "%(asctime)s %(name)s[%(process)d] %(levelname)s %(message)s"


def _utc_iso(created_s: float) -> str:
    t = datetime.datetime.fromtimestamp(created_s, datetime.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class LineFormatter(JsonFormatter):
    """A record as one JSON object, the fixed keys first, then its fields."""

    def __init__(self, process: str, instance: str) -> None:
        super().__init__(["message"], json_ensure_ascii=False)
        self.process_name, self.instance = process, instance

    def add_fields(self, log_data: dict, record: logging.LogRecord, message_dict: dict) -> None:
        log_data["time"] = _utc_iso(record.created)
        log_data["level"] = record.levelname
        log_data["process"] = self.process_name
        log_data["instance"] = self.instance
        log_data["pid"] = record.process
        log_data["logger"] = record.name
        super().add_fields(log_data, record, message_dict)


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Size-rotated, and every file it opens is 0600 (an existing one is narrowed)."""

    def _open(self):  # noqa: ANN202 - the base class's signature
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        os.fchmod(fd, FILE_MODE)
        return os.fdopen(fd, "a", encoding=self.encoding or "utf-8", errors=self.errors)


def open_private(path: Path, max_bytes: int = 0) -> int:
    """A descriptor on ``path`` for appending, 0600; over ``max_bytes`` (when > 0) the
    file is first moved to ``<path>.1``. For the streams the supervisor redirects."""
    try:
        if max_bytes and path.stat().st_size > max_bytes:
            path.replace(path.with_name(path.name + ".1"))
    except FileNotFoundError:
        pass
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return fd


def under_journald() -> bool:
    """stderr is systemd's journal stream: ``JOURNAL_STREAM`` names its device and
    inode (the check systemd documents; a child that inherited the stream passes too)."""
    v = os.environ.get("JOURNAL_STREAM", "")
    try:
        dev, ino = (int(x) for x in v.split(":"))
        st = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError, AttributeError):
        return False
    return (st.st_dev, st.st_ino) == (dev, ino)


def _stderr_is_tty() -> bool:
    try:
        return os.isatty(sys.stderr.fileno())
    except (ValueError, OSError, AttributeError):
        return False


def setup(process: str, instance: str, cfg: Config | None = None, files: bool = True) -> Path | None:
    """Route the root logger's records as the module doc says; returns the log file
    (None when there is none). ``cfg`` None (no config read yet): stderr only.
    ``files=False``: never a file (a command run by hand)."""
    level = logging.INFO if cfg is None else getattr(logging, cfg.logs.level.upper())
    fmt = LineFormatter(process, instance)
    handlers: list[logging.Handler] = []
    journal = under_journald()
    if journal:
        h = journald.handler(process, instance)
        handlers.append(h if h is not None else logging.StreamHandler(sys.stderr))
    elif _stderr_is_tty():
        handlers.append(logging.StreamHandler(sys.stderr))
        handlers[-1].setFormatter(logging.Formatter(TEXT_FORMAT))
    path = None
    if cfg is not None and files and (cfg.logs.files == "always"
                                      or (cfg.logs.files == "auto" and not journal)):
        d = log_dir(cfg, instance)
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"{process}.log"
        handlers.append(PrivateRotatingFileHandler(path, maxBytes=cfg.logs.max_file_bytes,
                                                   backupCount=cfg.logs.keep_files))
    if not handlers:  # neither journal, terminal nor file: stderr (a pipe, a redirect)
        handlers.append(logging.StreamHandler(sys.stderr))
    for h in handlers:
        if h.formatter is None:
            h.setFormatter(fmt)
    logging.basicConfig(level=level, handlers=handlers, force=True)
    return path
