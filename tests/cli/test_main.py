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


@pytest.mark.parametrize("argv", [["--help"], ["status", "--help"], ["kill", "--help"],
                                  ["status", "--instance", "no-such-instance"]])
def test_incident_commands_do_not_import_numba(argv):
    code = textwrap.dedent(f"""
        import sys
        from appliance.cli.main import cli
        try:
            cli.main({argv!r}, standalone_mode=False)
        except Exception as err:
            print("raised", type(err).__name__)
        print("NUMBA" if "numba" in sys.modules else "no numba")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.strip().splitlines()[-1] == "no numba", proc.stdout + proc.stderr


@pytest.mark.parametrize("argv", [["--help"], ["sweep", "--help"], ["status", "--help"]])
def test_commands_do_not_import_ray_until_a_sweep_runs(argv):
    code = textwrap.dedent(f"""
        import sys
        from appliance.cli.main import cli
        try:
            cli.main({argv!r}, standalone_mode=False)
        except Exception as err:
            print("raised", type(err).__name__)
        import appliance.research.sweep  # the sweep's own modules, before it runs
        print("RAY" if "ray" in sys.modules else "no ray")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.strip().splitlines()[-1] == "no ray", proc.stdout + proc.stderr
