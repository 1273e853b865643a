"""A Hyperliquid-protocol venue on loopback: REST ``/info`` and ``/exchange`` and the
websocket ``/ws`` on one port, over the matching engine and a market source.

Embed: ``VenueThread(settings).start()`` (tests, ``mmctl start``), or
``run_venue(settings)`` in the foreground (``mmctl venue``, ``python -m appliance.venue``).
"""

from .app import VenueServer, VenueThread, run_venue
from .settings import VenueSettings, parse_fund, settings_from_config

__all__ = ["VenueServer", "VenueSettings", "VenueThread", "parse_fund", "run_venue", "settings_from_config"]
