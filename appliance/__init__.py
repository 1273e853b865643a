"""The market-making appliance. Importing it points numba's cache at this version of
the sources (see ``numba_cache``), before any kernel is compiled."""

from appliance.numba_cache import configure as _configure_numba_cache

_configure_numba_cache()
