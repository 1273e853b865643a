"""mmctl config show."""

import json

import click

from appliance.config import config_to_dict, config_to_toml

from .common import config_option, json_option, load


@click.group()
def config():
    """The configuration."""


@config.command()
@config_option
@json_option
def show(config_path, as_json):
    """The effective configuration: built-in defaults overridden by FILE."""
    cfg = load(config_path)
    click.echo(json.dumps(config_to_dict(cfg), indent=2) if as_json else config_to_toml(cfg))
