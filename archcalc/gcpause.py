"""Pausing Python's cyclic garbage collector while the engine builds many small objects.

Compiling a spec and summarising a graph allocate one record per layer, all of which stay alive:
the collector would scan them again and again as they accumulate (the per-row cost grew by half
between 10^3 and 10^5 rows). Nothing the engine builds holds a reference cycle worth collecting
early; the collector runs again as usual once the work is done.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def paused() -> Iterator[None]:
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
