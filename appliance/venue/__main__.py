"""``python -m appliance.venue [options]``: the same as ``mmctl venue``."""

from .command import venue

if __name__ == "__main__":
    venue(prog_name="python -m appliance.venue")
