"""The calibrated config overlay: TOML that the config loader reads over the defaults.

Only fitted keys are written, each in its real table (``[estimator]``,
``[estimator.hawkes]``, ...), so ``mmctl start --config``, ``mmctl backtest --config``
and ``mmctl venue --config`` take the file as it is; ``check`` loads it through the
config loader before it is written (a key the schema does not know is an error).
"""

from __future__ import annotations

import datetime as dt
import tomllib

from appliance.config import Config, ConfigError, config_from_dict


def _value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(float(f"{v:.6g}"))
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    raise TypeError(f"unsupported overlay value {v!r}")


def render(overlay: dict[str, dict], header: list[str], notes: dict[str, str] | None = None) -> str:
    """TOML text: ``header`` lines as comments, then ``{"estimator.hawkes": {...}}``
    tables in the order given (``notes``: a comment line above each table)."""
    out = [f"# {line}" if line else "#" for line in header]
    out.append("")
    for table, values in overlay.items():
        if not values:
            continue
        if notes and table in notes:
            out.append(f"# {notes[table]}")
        out.append(f"[{table}]")
        out.extend(f"{k} = {_value(v)}" for k, v in values.items())
        out.append("")
    return "\n".join(out)


def as_config_dict(overlay: dict[str, dict]) -> dict:
    """``{"estimator.hawkes": {...}}`` -> nested ``{"estimator": {"hawkes": {...}}}``."""
    data: dict = {}
    for table, values in overlay.items():
        node = data
        for part in table.split("."):
            node = node.setdefault(part, {})
        node.update(values)
    return data


def check(text: str) -> Config:
    """The overlay as the config loader reads it; raises ConfigError."""
    try:
        return config_from_dict(tomllib.loads(text))
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"overlay is not valid TOML: {err}") from None


def header_lines(data: list[str], test_data: list[str], train_frac: float, coins: list[str]) -> list[str]:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    lines = ["Calibrated by `mmctl calibrate` on " + now,
             "data: " + ", ".join(f"{p} ({c})" for p, c in zip(data, coins, strict=False))]
    if test_data:
        lines.append(f"split: the first {train_frac:.0%} of each data file trains; "
                     "out of sample: " + ", ".join(test_data))
    else:
        lines.append(f"split: time-ordered, the first {train_frac:.0%} of each file trains, "
                     f"the last {1 - train_frac:.0%} is out of sample")
    lines += ["An overlay: only fitted keys; every other key keeps its built-in default.",
              "Use as is: mmctl start|backtest|venue --config THIS_FILE"]
    return lines
