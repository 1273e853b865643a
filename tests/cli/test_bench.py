"""`mmctl bench` and `mmctl soak` run tools/ as a subprocess: help that names every
bench, options and exit codes passed through, a clear error without tools/."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import click
import pytest

from appliance.cli.bench import BENCHES
from appliance.cli.tools_run import run_tool, tools_module_path


def _mmctl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "appliance.cli", *args],
                          capture_output=True, text=True, timeout=120)


def test_bench_help_when_asked_then_lists_every_bench_and_how_to_see_its_options():
    r = _mmctl("bench", "--help")
    assert r.returncode == 0, r.stderr
    for name in BENCHES:
        assert name in r.stdout
    assert "mmctl bench NAME --help" in r.stdout


def test_bench_name_help_when_asked_then_the_bench_prints_its_own_options():
    r = _mmctl("bench", "quote", "--help")
    assert r.returncode == 0, r.stderr
    assert "Usage: mmctl bench quote" in r.stdout and "--calls" in r.stdout


def test_bench_when_bad_option_then_the_bench_exit_code_and_message_come_through():
    r = _mmctl("bench", "quote", "--calls", "5")
    assert r.returncode == 2 and "--calls" in r.stderr


def test_soak_when_unknown_fault_then_usage_error_from_the_soak():
    r = _mmctl("soak", "--faults", "nope")
    assert r.returncode == 2 and "unknown fault(s) nope" in r.stderr


def test_every_listed_bench_when_looked_up_then_tools_has_it():
    assert tools_module_path("bench") is not None
    r = subprocess.run([sys.executable, "-m", "tools.bench", "--help"], capture_output=True, text=True,
                       timeout=120)
    for name in BENCHES:
        assert name in r.stdout


def test_run_tool_when_tools_absent_then_clear_error(monkeypatch):
    # unit test: stands in for an installed wheel without the tools/ directory
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(click.ClickException, match="source checkout"):
        run_tool("bench", ["quote"])
