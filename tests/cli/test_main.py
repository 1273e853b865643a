"""mmctl's command table: every command loads, its listed help is its own, and the
commands an operator needs in an incident start without numba."""

import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from appliance.cli.main import COMMANDS, SHORT_HELP_WIDTH, cli


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_listed_help_is_the_commands_own(name):
    cmd = cli.get_command(None, name)
    assert cmd is not None and cmd.name == name
    assert COMMANDS[name][2] == cmd.get_short_help_str(SHORT_HELP_WIDTH)


def test_help_lists_every_command_and_unknown_is_an_error():
    runner = CliRunner()
    out = runner.invoke(cli, ["--help"])
    assert out.exit_code == 0
    for name in COMMANDS:
        assert f"  {name} " in out.output
    bad = runner.invoke(cli, ["stauts"])
    assert bad.exit_code == 2 and "No such command" in bad.output


def _loaded_after(argv: list[str], module: str, then_import: str = "") -> bool:
    """Whether running ``mmctl argv`` in a fresh interpreter (then importing
    ``then_import``) left ``module`` imported."""
    code = textwrap.dedent(f"""
        import sys
        from appliance.cli.main import cli
        try:
            cli.main({argv!r}, standalone_mode=False)
        except Exception as err:
            print("raised", type(err).__name__)
        {f"import {then_import}" if then_import else ""}
        print("LOADED" if {module!r} in sys.modules else "not loaded")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    last = proc.stdout.strip().splitlines()[-1:]
    assert last in (["LOADED"], ["not loaded"]), proc.stdout + proc.stderr
    return last == ["LOADED"]


@pytest.mark.parametrize("argv", [["--help"], ["status", "--help"], ["kill", "--help"],
                                  ["status", "--instance", "no-such-instance"]])
def test_incident_commands_do_not_import_numba(argv):
    assert not _loaded_after(argv, "numba")


@pytest.mark.parametrize("argv", [["--help"], ["sweep", "--help"], ["status", "--help"]])
def test_commands_do_not_import_ray_until_a_sweep_runs(argv):
    # the sweep's own modules too, before it runs
    assert not _loaded_after(argv, "ray", then_import="appliance.research.sweep")


def test_inspect_does_import_numba_so_the_probe_can_tell():
    assert _loaded_after(["inspect", "--help"], "numba", then_import="appliance.cli.inspect")
