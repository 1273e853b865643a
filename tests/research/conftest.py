"""One local Ray for the research tests that call the Python API in this process
(``mmctl`` runs in a subprocess start their own)."""

from __future__ import annotations

import pytest
from ray_helpers import require_ray, start_local_ray, stop_local_ray


@pytest.fixture(scope="session")
def local_ray():
    require_ray()
    start_local_ray(2)
    try:
        yield
    finally:
        stop_local_ray()
