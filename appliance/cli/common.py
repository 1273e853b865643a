"""Options and helpers shared by the mmctl commands."""

import math

import click
import numpy as np

from appliance.config import ConfigError, load_config
from shm_layout import InstanceMemory, LayoutMismatch, SegmentMissing

instance_option = click.option(
    "--instance", default="default", show_default=True, metavar="NAME",
    help="Appliance instance (one per account or market on a shared box).",
)
config_option = click.option(
    "--config", "config_path", type=click.Path(dir_okay=False), default=None, metavar="FILE",
    help="TOML configuration (built-in defaults when omitted).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


def load(config_path):
    try:
        return load_config(config_path)
    except ConfigError as e:
        raise click.ClickException(f"bad config: {e}") from None


def attach_or_fail(instance: str, writable: bool, names=None) -> InstanceMemory:
    try:
        return InstanceMemory.attach(instance, writable=writable, names=names)
    except SegmentMissing:
        raise click.ClickException(
            f"instance '{instance}' is not running (no shared memory); start it with "
            f"mmctl start --instance {instance}"
        ) from None
    except LayoutMismatch as e:
        raise click.ClickException(str(e)) from None


def jsonable(v):
    if isinstance(v, bytes):
        return v.rstrip(b"\0").decode(errors="replace")
    if isinstance(v, np.ndarray):
        return [jsonable(x) for x in v.tolist()] if v.dtype.kind in "SV" else jsonable(v.tolist())
    if isinstance(v, list):
        return [jsonable(x) for x in v]
    if isinstance(v, float | np.floating):
        f = float(v)
        return f if math.isfinite(f) else str(f)
    if isinstance(v, np.integer):
        return int(v)
    return v


def record_dict(rec: np.void) -> dict:
    """Every field of a record by name; padding left out; nested records expanded."""
    out = {}
    for name in rec.dtype.names:
        if name.startswith("_"):
            continue
        v = rec[name]
        if rec.dtype.fields[name][0].base.names is not None:
            out[name] = [record_dict(x) for x in v] if isinstance(v, np.ndarray) else record_dict(v)
        else:
            out[name] = jsonable(v)
    return out
