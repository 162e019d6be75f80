"""Decides what the district reports and when. Pure: the caller passes the clock in."""

from __future__ import annotations

import heapq
import itertools
import random
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from commonwatch.domain.places import Device
from commonwatch.sim.district import DemoDistrict
from commonwatch.sim.scenarios import (
    BACKGROUND,
    HEARTBEAT,
    INFO,
    SCENARIOS,
    Emission,
    Scenario,
    can_stage,
    kits,
    stage,
)

# A building that just hosted a script sits out the next few, so incidents spread over the map.
RECENT_BUILDINGS = 8


@dataclass(frozen=True, slots=True)
class Staged:
    scenario: str
    building_id: str
    at: float


class Director:
    """Background chatter at `rate` events/s and a scenario every `scenario_every_s` (min, max).

    The first scenario is the first of `scenarios`, staged `first_scenario_s` after `start`.
    """

    def __init__(
        self,
        district: DemoDistrict,
        *,
        rate: float,
        start: float,
        seed: int = 7,
        scenario_every_s: tuple[float, float] = (20.0, 40.0),
        first_scenario_s: float = 1.0,
        scenarios: Sequence[Scenario] = SCENARIOS,
    ) -> None:
        self._rng = random.Random(seed)
        self._devices = district.devices
        self._kits = kits(district.devices)
        self._scenarios = tuple(scenarios)
        self._hosts = {
            s.name: sorted(b for b, kit in self._kits.items() if can_stage(s, kit))
            for s in self._scenarios
        }
        self._rate, self._start, self._every = rate, start, scenario_every_s
        self._next_scenario = start + first_scenario_s
        self._chatter_sent = 0
        self._pending: list[tuple[float, int, Emission]] = []
        self._order = itertools.count()
        self._recent: deque[str] = deque(maxlen=RECENT_BUILDINGS)
        self.staged: list[Staged] = []

    def due(self, now: float) -> list[Emission]:
        """Everything that should have been sent by `now` and was not yet."""
        if self._scenarios and now >= self._next_scenario:
            self._stage_next(now)
            self._next_scenario = now + self._rng.uniform(*self._every)
        return self._pop_due(now) + self._chatter(now)

    def _stage_next(self, now: float) -> None:
        if self.staged:
            weights = [s.weight for s in self._scenarios]
            scenario = self._rng.choices(self._scenarios, weights=weights)[0]
        else:
            scenario = self._scenarios[0]
        building = self._pick_host(scenario)
        if building is None:
            return
        for at, emission in stage(scenario, self._kits[building], now):
            heapq.heappush(self._pending, (at, next(self._order), emission))
        self._recent.append(building)
        self.staged.append(Staged(scenario.name, building, now))

    def _pick_host(self, scenario: Scenario) -> str | None:
        hosts = self._hosts[scenario.name]
        fresh = [b for b in hosts if b not in self._recent]
        pool = fresh or hosts
        return self._rng.choice(pool) if pool else None

    def _pop_due(self, now: float) -> list[Emission]:
        out = []
        while self._pending and self._pending[0][0] <= now:
            out.append(heapq.heappop(self._pending)[2])
        return out

    def _chatter(self, now: float) -> list[Emission]:
        owed = int((now - self._start) * self._rate) - self._chatter_sent
        burst = max(1, int(self._rate))
        # After a stall (a paused laptop, a slow broker) drop the backlog instead of flooding.
        self._chatter_sent += max(owed, 0)
        if owed <= 0 or not self._devices:
            return []
        return [self._chat(self._rng.choice(self._devices)) for _ in range(min(owed, burst))]

    def _chat(self, device: Device) -> Emission:
        options = BACKGROUND.get(device.kind, HEARTBEAT)
        chatter = self._rng.choices(options, weights=[c.weight for c in options])[0]
        value = round(self._rng.uniform(*chatter.value_range), 1) if chatter.value_range else None
        return Emission(device, chatter.type, INFO, value)
