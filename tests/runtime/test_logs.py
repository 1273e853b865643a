"""The appliance's log lines: one JSON object per line with the fixed keys and the
record's fields, files 0600 and rotated, journald through its socket with the
instance and process as fields, and the directories systemd names."""

from __future__ import annotations

import json
import logging
import os
import socket
import stat
import subprocess
import sys

import pytest

from appliance.config import load_config, log_dir, state_dir
from appliance.runtime import journald, logs


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    for h in root.handlers:
        if h not in handlers:
            h.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def _cfg(tmp_path, **logs_over):
    return load_config(overrides={"appliance": {"state_dir": str(tmp_path / "state-{instance}")},
                                  "logs": logs_over})


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_setup_when_not_under_journald_then_json_lines_in_a_0600_file(tmp_path, restore_logging,
                                                                      monkeypatch):
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    path = logs.setup("gateway", "t1", _cfg(tmp_path))
    logging.getLogger("gateway").info("fill %s", "BTC", extra={"event": "fill", "coin": "BTC",
                                                              "oid": 7, "pred_id": 3})
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("gateway").exception("it failed")

    assert path == tmp_path / "state-t1" / "gateway.log" and _mode(path) == 0o600
    first, second = (json.loads(x) for x in path.read_text().splitlines())
    assert list(first)[:7] == ["time", "level", "process", "instance", "pid", "logger", "message"]
    assert (first["level"], first["process"], first["instance"], first["pid"], first["message"]) == (
        "INFO", "gateway", "t1", os.getpid(), "fill BTC")
    assert (first["event"], first["coin"], first["oid"], first["pred_id"]) == ("fill", "BTC", 7, 3)
    assert first["time"].endswith("Z") and len(first["time"]) == len("2025-01-01T00:00:00.000Z")
    assert second["level"] == "ERROR" and "ValueError: boom" in second["exc_info"]


def test_file_when_past_its_size_then_rotated_keeping_n_all_0600(tmp_path, restore_logging, monkeypatch):
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    path = logs.setup("risk", "t2", _cfg(tmp_path, max_file_bytes=4096, keep_files=2))
    for i in range(300):
        logging.getLogger("risk").info("line %d", i, extra={"event": "position", "i": i})
    files = sorted(path.parent.glob("risk.log*"))
    assert [f.name for f in files] == ["risk.log", "risk.log.1", "risk.log.2"]
    kept = []
    for f in files:
        assert _mode(f) == 0o600 and f.stat().st_size <= 4096
        kept += [json.loads(x)["i"] for x in f.read_text().splitlines()]
    assert sorted(kept) == list(range(300 - len(kept), 300))  # the newest lines, none torn


def test_file_when_it_existed_world_readable_then_narrowed_to_0600(tmp_path, restore_logging, monkeypatch):
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    old = tmp_path / "state-t3" / "quote.log"
    old.parent.mkdir()
    old.write_text("")
    old.chmod(0o644)
    assert logs.setup("quote", "t3", _cfg(tmp_path)) == old and _mode(old) == 0o600


def test_open_private_when_over_the_size_then_moved_aside_and_new_file_0600(tmp_path):
    out = tmp_path / "feed.out"
    out.write_bytes(b"x" * 5000)
    os.close(logs.open_private(out, max_bytes=4096))
    assert (tmp_path / "feed.out.1").stat().st_size == 5000
    assert out.stat().st_size == 0 and _mode(out) == 0o600


def test_dirs_when_systemd_sets_them_then_state_and_logs_follow(tmp_path, monkeypatch):
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "lib"))
    monkeypatch.setenv("LOGS_DIRECTORY", str(tmp_path / "log"))
    default = load_config()
    assert state_dir(default, "prod") == tmp_path / "lib"
    assert log_dir(default, "prod") == tmp_path / "log" / "prod"
    explicit = _cfg(tmp_path, dir="{state_dir}/logs")  # the config's word wins
    assert state_dir(explicit, "prod") == tmp_path / "state-prod"
    assert log_dir(explicit, "prod") == tmp_path / "state-prod" / "logs"
    monkeypatch.delenv("LOGS_DIRECTORY")
    assert log_dir(default, "prod") == tmp_path / "lib"


def test_encode_when_value_has_a_newline_then_length_prefixed():
    data = journald.encode([("MESSAGE", "a\nb"), ("MM_COIN", "BTC")])
    assert data == b"MESSAGE\n" + (3).to_bytes(8, "little") + b"a\nb\nMM_COIN=BTC\n"


CHILD = """
import logging, sys
from appliance.config import load_config
from appliance.runtime import logs
cfg = load_config(overrides={"appliance": {"state_dir": sys.argv[1]}})
print(logs.setup("gateway", "j1", cfg), flush=True)
logging.getLogger("gateway").info("fill BTC", extra={"event": "fill", "coin": "BTC", "oid": 12,
                                                     "cloid": "0xab", "pred_id": 5})
logging.getLogger("gateway").warning("two\\nlines")
"""


def _journal_fields(datagram: bytes) -> dict:
    out, rest = {}, datagram
    while rest:
        head, _, rest = rest.partition(b"\n")
        if b"=" in head:
            k, _, v = head.partition(b"=")
        else:  # binary form
            n = int.from_bytes(rest[:8], "little")
            k, v, rest = head, rest[8:8 + n], rest[8 + n + 1:]
        out[k.decode()] = v.decode()
    return out


def test_child_when_its_stderr_is_the_journal_stream_then_records_go_to_journald_with_fields(tmp_path):
    sock_path = tmp_path / "journal.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(30)
    r, w = os.pipe()  # the child's stderr: the "journal stream" JOURNAL_STREAM names
    st = os.fstat(w)
    env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}", MM_JOURNAL_SOCKET=str(sock_path))
    try:
        p = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "state")], env=env, stderr=w,
                           stdout=subprocess.PIPE, text=True, timeout=60)
        os.close(w)
        assert p.returncode == 0, os.read(r, 65536).decode()
        first, second = _journal_fields(sock.recv(65536)), _journal_fields(sock.recv(65536))
    finally:
        sock.close()
        os.close(r)
    assert p.stdout.strip() == "None"  # files = "auto": none under journald
    assert not (tmp_path / "state").exists()
    assert (first["SYSLOG_IDENTIFIER"], first["MM_PROCESS"], first["MM_INSTANCE"]) == (
        "mm-gateway", "gateway", "j1")
    assert (first["PRIORITY"], first["MM_EVENT"], first["MM_COIN"], first["MM_OID"], first["MM_CLOID"],
            first["MM_PRED_ID"]) == ("6", "fill", "BTC", "12", "0xab", "5")
    line = json.loads(first["MESSAGE"])  # the same JSON object a file holds
    assert (line["process"], line["instance"], line["coin"], line["oid"]) == ("gateway", "j1", "BTC", 12)
    assert second["PRIORITY"] == "4" and json.loads(second["MESSAGE"])["message"] == "two\nlines"


def test_under_journald_when_stream_is_another_file_then_false(monkeypatch, tmp_path):
    other = os.stat(tmp_path)
    monkeypatch.setenv("JOURNAL_STREAM", f"{other.st_dev}:{other.st_ino}")
    assert not logs.under_journald()
    monkeypatch.setenv("JOURNAL_STREAM", "garbage")
    assert not logs.under_journald()
