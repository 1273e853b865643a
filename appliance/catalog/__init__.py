"""The recorder's catalog: Parquet files of market data, our fills, orders and fundings,
partitioned by kind / day / coin, with readable columns (``schema``), written by the
risk process's recorder (``writer``) and read by the replay, ``mmctl data`` and
``mmctl history`` (``reader``)."""

from .reader import CatalogFile, Span, files, is_catalog, market_events, read_table, summary
from .schema import FILLS, FUNDINGS, KINDS, MARKET, ORDERS
from .writer import CatalogWriter, WriterStatus

__all__ = [
    "FILLS",
    "FUNDINGS",
    "KINDS",
    "MARKET",
    "ORDERS",
    "CatalogFile",
    "CatalogWriter",
    "Span",
    "WriterStatus",
    "files",
    "is_catalog",
    "market_events",
    "read_table",
    "summary",
]
