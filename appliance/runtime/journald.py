"""Records to journald over its native protocol: no C library, one datagram each.

A datagram is ``FIELD=value`` lines (``sd_journal_sendv``'s wire form, documented in
systemd's "Native Journal Protocol"); a value holding a newline is sent as the name, a
newline, its length as 64-bit little-endian, the bytes and a newline. Each record
carries:

* ``MESSAGE``: the record's JSON line, as in a log file (``journalctl -o cat | jq``);
* ``PRIORITY`` (syslog levels), ``SYSLOG_IDENTIFIER=mm-<process>``;
* ``MM_INSTANCE``, ``MM_PROCESS`` and each structured field as ``MM_<NAME>``
  (``journalctl MM_PROCESS=gateway MM_EVENT=fill``).

A datagram the socket refuses (too large, journald restarting) goes to stderr as the
JSON line instead: under systemd stderr is the journal's stream too.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import struct
import sys

SOCKET_PATH = "/run/systemd/journal/socket"
SOCKET_ENV = "MM_JOURNAL_SOCKET"  # another socket (tests; a container's journal)
_NOT_FIELD = re.compile(r"[^A-Z0-9_]")
# logging level -> syslog priority
_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6,
             logging.DEBUG: 7}
# LogRecord attributes that are not fields of ours
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message",
                                                                                     "asctime"}


def socket_path() -> str:
    return os.environ.get(SOCKET_ENV) or SOCKET_PATH


def field_name(key: str) -> str:
    """A journal field name for a structured field: upper case, [A-Z0-9_], prefixed."""
    return "MM_" + _NOT_FIELD.sub("_", key.upper())


def encode(fields: list[tuple[str, str]]) -> bytes:
    out = bytearray()
    for name, value in fields:
        v = value.encode("utf-8", "replace")
        if b"\n" in v:
            out += name.encode() + b"\n" + struct.pack("<Q", len(v)) + v + b"\n"
        else:
            out += name.encode() + b"=" + v + b"\n"
    return bytes(out)


class JournalHandler(logging.Handler):
    def __init__(self, path: str, process: str, instance: str) -> None:
        super().__init__()
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.fixed = [("SYSLOG_IDENTIFIER", f"mm-{process}"), ("MM_INSTANCE", instance),
                      ("MM_PROCESS", process)]
        self.refused = 0  # records sent to stderr instead

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            fields = [("MESSAGE", line), ("PRIORITY", str(_PRIORITY.get(record.levelno, 6))),
                      *self.fixed]
            fields += [(field_name(k), str(v)) for k, v in vars(record).items()
                       if k not in _RECORD_ATTRS and not k.startswith("_")]
            try:
                self.sock.sendto(encode(fields), self.path)
            except OSError:
                self.refused += 1
                sys.stderr.write(line + "\n")
                sys.stderr.flush()
        except Exception:  # noqa: BLE001 - logging never raises into the caller
            self.handleError(record)

    def close(self) -> None:
        self.sock.close()
        super().close()


def handler(process: str, instance: str) -> JournalHandler | None:
    """A handler on journald's socket, or None when there is no such socket."""
    path = socket_path()
    if not os.path.exists(path):
        return None
    return JournalHandler(path, process, instance)
