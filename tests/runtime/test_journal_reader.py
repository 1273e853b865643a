"""A journal read for JSON tools: the records whose CRC holds, in order, each damaged
line named (the last one too), and ``mmctl journal`` printing them as JSON lines."""

from __future__ import annotations

import json
import subprocess
import sys

from appliance.config import load_config
from appliance.risk.journal import RiskJournal, journal_path
from appliance.runtime.journal import Journal
from appliance.runtime.journal_reader import records


def _journal_with_damage(path):
    """Five records; the third's body altered after its CRC, a torn write at the end."""
    with Journal(path, fsync="never") as j:
        for i in range(5):
            j.append("fill" if i % 2 else "place", cloid=f"0x{i:02x}", oid=100 + i, pred_id=i)
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b'"oid":102', b'"oid":999')
    path.write_bytes(b"\n".join(lines) + b'0badc0de {"n":6,"k":"fi')
    return path


def test_records_when_a_line_is_corrupt_and_the_last_torn_then_both_named_rest_in_order(tmp_path):
    path = _journal_with_damage(tmp_path / "gateway-journal.jsonl")
    skipped = []
    got = list(records(path, skipped))
    assert [r["n"] for r in got] == [1, 2, 4, 5] and [r["oid"] for r in got] == [100, 101, 103, 104]
    assert [(s.line_no, s.why) for s in skipped] == [(3, "crc or JSON damaged"),
                                                    (6, "no newline (torn write)")]
    assert skipped[0].byte_offset == len(b"\n".join(path.read_bytes().split(b"\n")[:2])) + 1


def _mmctl(*args):
    return subprocess.run([sys.executable, "-m", "appliance.cli", "journal", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_mmctl_journal_when_file_damaged_then_json_lines_and_strict_exit_1(tmp_path):
    path = _journal_with_damage(tmp_path / "j.jsonl")
    p = _mmctl(path)
    assert p.returncode == 0, p.stderr
    rows = [json.loads(x) for x in p.stdout.splitlines()]
    assert [(r["n"], r["k"], r["cloid"]) for r in rows] == [(1, "place", "0x00"), (2, "fill", "0x01"),
                                                           (4, "fill", "0x03"), (5, "place", "0x04")]
    assert "line 3 (byte" in p.stderr and "line 6" in p.stderr
    assert _mmctl(path, "--strict").returncode == 1


def test_mmctl_journal_when_named_risk_then_read_from_the_instance_s_state_dir(tmp_path):
    cfg_path = tmp_path / "c.toml"
    cfg_path.write_text(f'[appliance]\nstate_dir = "{tmp_path}/state-{{instance}}"\n')
    rj = RiskJournal(journal_path(load_config(cfg_path), "r1"), fsync="never")
    rj.write("kill", reason="drill", source="mmctl")
    rj.close()
    p = _mmctl("risk", "--instance", "r1", "--config", cfg_path, "--strict")
    assert p.returncode == 0, p.stderr
    (row,) = [json.loads(x) for x in p.stdout.splitlines()]
    assert (row["k"], row["reason"]) == ("kill", "drill")
    missing = _mmctl("gateway", "--instance", "nope", "--config", cfg_path)
    assert missing.returncode == 1 and "no journal at" in missing.stderr
