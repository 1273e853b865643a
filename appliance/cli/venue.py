"""mmctl venue: run the local Hyperliquid-protocol venue in the foreground."""

import click

from .common import config_option, load


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
@config_option
def venue(source, speed, seed, port, host, funds, orphan_grace_s, config_path):
    """Run a local Hyperliquid venue: POST /info, POST /exchange, websocket /ws.

    \b
    mmctl venue --source synthetic --port 8787
    mmctl venue --source replay:capture.gz --speed 10 --fund 0xabc...:50000
    """
    from appliance.venue.server import parse_fund, run_venue, settings_from_config

    cfg = load(config_path)
    for spec in funds:
        try:
            parse_fund(spec)
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--fund") from None
    settings = settings_from_config(cfg, source=source, speed=speed, seed=seed, port=port, host=host)
    settings.funded = tuple(settings.funded) + tuple(funds)
    if source is not None and source.startswith("synthetic") and source != cfg.feed.source:
        settings.synthetic_kw = settings.synthetic_kw if source in ("synthetic", "synthetic:walk") else {}

    def ready(server):
        click.echo(f"venue listening on {server.url} (websocket {server.url.replace('http', 'ws', 1)}/ws)")
        click.echo(f"market: {settings.source} at speed {settings.speed}, coins {', '.join(settings.coins)}")
        for addr, usdc in sorted(server.state.accounts.funded_usdc.items()):
            click.echo(f"funded: {addr} {usdc:,.2f} USDC")
        click.echo("Ctrl-C to stop", err=True)

    try:
        run_venue(settings, on_ready=ready, orphan_grace_s=orphan_grace_s)
    except (ValueError, OSError) as e:
        raise click.ClickException(str(e)) from None
    click.echo("venue stopped")
