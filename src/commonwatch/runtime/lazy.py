"""Commands whose code is imported only when they run.

`commonwatch worker` and the other processes `up` starts share one parser with the planning and
benchmark commands. Registering a command must not import what it runs: scipy, osmium and the
browser bench would otherwise cost every process seconds of start-up and tens of megabytes.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable

Command = Callable[[argparse.Namespace], int]


def lazy(target: str) -> Command:
    """A command for `"package.module:function"`, imported on first call."""
    module_name, _, attr = target.partition(":")
    if not module_name or not attr:
        raise ValueError(f"lazy command {target!r} is not 'module:function'")

    def run(ns: argparse.Namespace) -> int:
        func: Command = getattr(importlib.import_module(module_name), attr)
        return func(ns)

    run.__qualname__ = run.__name__ = attr
    return run
