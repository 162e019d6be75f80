"""How the hot-path processes (ingest workers, SIA receiver) run their event loop.

They spend most of their time in socket calls and the event loop, which uvloop makes several
times cheaper (uvicorn[standard] brings it), and they make many short-lived containers that
reference counting frees: the default collection threshold (700) ran a collection every few
dozen messages, about 7 % of the CPU, and each one scanned every module and class loaded at start.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

GC_YOUNG_THRESHOLD = 20_000


def quiet_gc() -> None:
    """Collect less often, and never scan what was loaded at start (modules, classes)."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def fast_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed, else asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run_fast(main: Coroutine[Any, Any, T]) -> T:
    """asyncio.run for a hot-path process."""
    quiet_gc()
    with asyncio.Runner(loop_factory=fast_loop()) as runner:
        return runner.run(main)
