"""Where devices are, kept in the ingest worker's memory.

Every event is stored with its device's community and jurisdiction path. Asking PostgreSQL for
them in each batch (a join in the INSERT) was the largest part of the worker's database time, so
the worker remembers what the registry said. A trigger NOTIFYs `places` on any change to devices
or communities, which empties the cache; entries also expire after `max_age_s`, in case a
notification is missed while the connection is down. Devices the registry does not know are not
remembered: they are looked up again in the next batch, so registering a device takes effect at
once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence

from commonwatch.domain.model import UNASSIGNED_PATH, DeviceEvent, Place
from commonwatch.storage.incidents import Conn

CHANNEL = "places"
UNASSIGNED = "unassigned"


class PlaceCache:
    def __init__(
        self, max_age_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age_s = max_age_s
        self._clock = clock
        self._devices: dict[str, Place] = {}
        self._communities: dict[str, str] = {}
        self._born = clock()

    def forget(self, *_: object) -> None:
        """Drop everything; usable as an asyncpg notification listener."""
        self._devices.clear()
        self._communities.clear()
        self._born = self._clock()

    async def resolve(self, conn: Conn, events: Sequence[DeviceEvent]) -> list[Place]:
        """One place per event: the registered device's, else its community's, else unassigned."""
        if self._clock() - self._born > self.max_age_s:
            self.forget()
        await self._learn_devices(conn, {e.device_id for e in events})
        unknown = {e.community_id for e in events if e.device_id not in self._devices}
        await self._learn_communities(conn, unknown - {""})
        return [self._place(e) for e in events]

    def _place(self, event: DeviceEvent) -> Place:
        known = self._devices.get(event.device_id)
        if known is not None:
            return known
        community = event.community_id or UNASSIGNED
        return Place(community, None, self._communities.get(community, UNASSIGNED_PATH))

    async def _learn_devices(self, conn: Conn, ids: Iterable[str]) -> None:
        missing = [i for i in ids if i not in self._devices]
        if missing:
            rows = await conn.fetch(
                "SELECT id, community_id, building_id, jpath FROM devices WHERE id = ANY($1)",
                missing,
            )
            for r in rows:
                self._devices[r["id"]] = Place(r["community_id"], r["building_id"], r["jpath"])

    async def _learn_communities(self, conn: Conn, ids: Iterable[str]) -> None:
        missing = [i for i in ids if i not in self._communities]
        if missing:
            rows = await conn.fetch("SELECT id, jpath FROM communities WHERE id = ANY($1)", missing)
            self._communities.update((r["id"], r["jpath"]) for r in rows)
