"""Running a module of ``tools/`` (benchmarks, the soak) from mmctl, as a subprocess.

The package never imports ``tools``: ``tools`` sits above every layer (it imports
the appliance, the SDK and hftbacktest) and a wheel of the appliance need not carry
it. ``mmctl bench`` and ``mmctl soak`` run ``python -m tools.<module> ARGS...`` with
the user's arguments passed through, and exit with its exit code.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Sequence

import click


def tools_module_path(module: str) -> str | None:
    """The file of ``tools.<module>`` if the ``tools`` directory is importable here,
    else None. Found without importing ``tools``."""
    spec = importlib.util.find_spec("tools")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = os.path.join(folder, f"{module}.py")
        if os.path.isfile(path):
            return path
    return None


def run_tool(module: str, args: Sequence[str]) -> int:
    """``python -m tools.<module> *args`` in the foreground; its exit code.

    Raises ``click.ClickException`` when ``tools/`` is not there (an installed wheel
    without the source tree): the benches and the soak run from a checkout."""
    if tools_module_path(module) is None:
        raise click.ClickException(
            f"tools/{module}.py not found: benchmarks and the soak run from a source checkout "
            "of hl-mm-appliance (pip install -e '.[test]' in it), not from an installed wheel")
    try:
        return subprocess.call([sys.executable, "-m", f"tools.{module}", *args])
    except KeyboardInterrupt:
        return 130
