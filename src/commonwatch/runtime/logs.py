"""Logging setup. Logs carry ids and reasons, never raw device payloads."""

from __future__ import annotations

import logging
import sys
from pathlib import Path


def setup(name: str, log_dir: Path | None, level: int = logging.INFO) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_dir is not None:
        log_dir.mkdir(parents=True, exist_ok=True)
        handlers = [logging.FileHandler(log_dir / f"{name}.log")]
    logging.basicConfig(
        level=level,
        format=f"%(asctime)s {name} %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )
    # nats-py logs whole protocol errors; keep them, but not at debug volume.
    logging.getLogger("nats").setLevel(logging.WARNING)
