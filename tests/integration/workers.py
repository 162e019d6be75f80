"""All ingest partitions in one test process, as `up` runs one worker process per partition."""

from __future__ import annotations

from typing import Any

from commonwatch.bus.subjects import INGEST_PARTITIONS
from commonwatch.runtime.worker import IngestWorker


class Workers:
    """One IngestWorker per partition, stepped in turn."""

    def __init__(self, **kwargs: Any) -> None:
        self.all = [IngestWorker(**kwargs, partition=p) for p in range(INGEST_PARTITIONS)]

    async def start(self) -> None:
        for worker in self.all:
            await worker.start()

    async def step(self, expires_s: float = 1.0) -> int:
        """One batch from each partition; how many messages in all."""
        return sum([await w.step(expires_s=expires_s / len(self.all)) for w in self.all])
