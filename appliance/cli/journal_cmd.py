"""mmctl journal: a journal's verified records as JSON lines, for jq and friends."""

import sys

import click
import orjson

from appliance.config.state_files import gateway_journal_path

from .common import config_option, instance_option, load

NAMES = ("gateway", "risk", "attribution")


def _path(name: str, cfg, instance: str) -> str:
    # Imported here: the risk package is only needed for its file names.
    from appliance.risk import attribution
    from appliance.risk import journal as risk_journal

    if name == "gateway":
        return str(gateway_journal_path(cfg, instance))
    if name == "risk":
        return str(risk_journal.journal_path(cfg, instance))
    if name == "attribution":
        return str(attribution.journal_path(cfg, instance))
    return name  # a file


@click.command()
@click.argument("which", metavar="gateway|risk|attribution|FILE")
@instance_option
@config_option
@click.option("--strict", is_flag=True, help="Exit 1 when any line was skipped.")
def journal(which, instance, config_path, strict):
    """Print a journal's records (CRC checked) as JSON lines; skipped lines to stderr.

    \b
    mmctl journal gateway | jq -c 'select(.k == "fill")'
    mmctl journal risk --instance prod | jq -r '[.ts_ns, .k, .reason] | @tsv'
    mmctl journal /var/lib/mm/prod/gateway-journal.jsonl.prev --strict
    """
    from appliance.runtime.journal_reader import records  # mmctl start-up: only when run

    path = _path(which, load(config_path), instance) if which in NAMES else which
    skipped: list = []
    out = sys.stdout.buffer
    try:
        for rec in records(path, skipped):
            out.write(orjson.dumps(rec) + b"\n")
    except FileNotFoundError:
        raise click.ClickException(f"no journal at {path}") from None
    except BrokenPipeError:  # `| head`: the reader has seen enough
        sys.stderr.close()
        return
    out.flush()
    for s in skipped:
        click.echo(f"{path}: line {s.line_no} (byte {s.byte_offset}) skipped: {s.why}", err=True)
    if skipped and strict:
        raise SystemExit(1)
