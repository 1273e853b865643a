"""The venue's command line: ``mmctl venue`` and ``python -m appliance.venue``.

It lives with the venue, not in ``appliance.cli``: the venue process is started as
``python -m appliance.venue`` (by the supervisor, the soak, the benches), and a
process package never imports the CLI above it. ``mmctl`` adds this command as is.
"""

import dataclasses
import logging
import os

import click

from appliance.config import Config, ConfigError, load_config
from appliance.runtime import logs


def _load(config_path: str | None) -> Config:
    try:
        return load_config(config_path)
    except ConfigError as e:
        raise click.ClickException(f"bad config: {e}") from None


@click.command()
@click.option("--source", default=None, metavar="SPEC",
              help="replay:FILE or synthetic[:SCENARIO]. Default: venue.source, else feed.source.")
@click.option("--speed", type=click.FloatRange(min=0), default=None, metavar="X",
              help="Market pace multiplier (0 = as fast as possible).")
@click.option("--seed", type=int, default=None, help="Seed of a synthetic market and of fault draws.")
@click.option("--port", type=click.IntRange(0, 65535), default=None, metavar="P",
              help="Port (0 = any free port). Default: venue.port (8787).")
@click.option("--host", default=None, metavar="ADDR",
              help="Address to listen on. Default 127.0.0.1 (loopback only).")
@click.option("--fund", "funds", multiple=True, metavar="ADDRESS:USDC",
              help="Fund an account (repeatable), on top of venue.funded.")
@click.option("--orphan-grace", "orphan_grace_s", type=click.FloatRange(min=0), default=None,
              metavar="SECONDS", help="Stop this long after the parent process dies (set by "
              "the supervisor: the children's last cancels still reach the venue).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None,
              metavar="FILE", help="TOML configuration (built-in defaults when omitted).")
@click.option("--instance", default=None, metavar="NAME",
              help="The appliance instance this venue serves (set by the supervisor): its "
                   "log goes to the instance's log directory as venue.log. Default: stderr only.")
@click.option("--ready-file", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Once listening, write '<url> <pid>' here (set by the supervisor: the URL "
                   "comes from the venue that bound it, not from a port chosen beforehand).")
def venue(source, speed, seed, port, host, funds, orphan_grace_s, config_path, instance, ready_file):
    """Run a local Hyperliquid venue: POST /info, POST /exchange, websocket /ws.

    \b
    mmctl venue --source synthetic --port 8787
    mmctl venue --source replay:capture.gz --speed 10 --fund 0xabc...:50000
    """
    # Imported here for mmctl's start-up time: the server (aiohttp, the matching
    # kernels, the market sources) costs ~0.5 s that every other mmctl command would pay.
    from appliance.runtime.compile_log import CompileLog

    from .server import parse_fund, run_venue, settings_from_config

    compiled = CompileLog("venue")
    cfg = _load(config_path)
    logs.setup("venue", instance or "", cfg, files=instance is not None)
    for spec in funds:
        try:
            parse_fund(spec)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--fund") from None
    settings = settings_from_config(cfg, source=source, speed=speed, seed=seed, port=port, host=host)
    settings = dataclasses.replace(settings, funded=tuple(settings.funded) + tuple(funds))
    if source is not None and source.startswith("synthetic") and source != cfg.feed.source:
        settings = dataclasses.replace(
            settings, synthetic_kw=settings.synthetic_kw if source in ("synthetic", "synthetic:walk") else {})

    def ready(server):
        click.echo(f"venue listening on {server.url} (websocket {server.url.replace('http', 'ws', 1)}/ws)")
        click.echo(f"market: {settings.source} at speed {settings.speed}, coins {', '.join(settings.coins)}")
        for addr, usdc in sorted(server.state.accounts.funded_usdc.items()):
            click.echo(f"funded: {addr} {usdc:,.2f} USDC")
        if compiled.compiles:
            logging.getLogger("venue").info("compiled before listening: %s", compiled.summary())
        if ready_file:
            write_ready_file(ready_file, server.url)
        click.echo("Ctrl-C to stop", err=True)

    served = []
    try:
        run_venue(settings, on_ready=lambda server: (served.append(server), ready(server)),
                  orphan_grace_s=orphan_grace_s)
    except (ValueError, OSError) as e:
        raise click.ClickException(str(e)) from None
    if served:
        logging.getLogger("venue").info("venue stopped", extra={"event": "shutdown",
                                                                **served[0].summary()})
    click.echo("venue stopped")


def write_ready_file(path: str, url: str) -> None:
    """``<url> <pid>`` written whole (a temporary file renamed over it): a reader never
    sees half a line, and the pid tells it which venue wrote it."""
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        f.write(f"{url} {os.getpid()}\n")
    os.replace(tmp, path)
