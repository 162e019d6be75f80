"""What the demo district says, as data: incident scripts and everyday background chatter. Pure.

Every script plays out inside one building. The kitchen fire is timed so that the default rules
(group "fire", scope building, window 120 s) correlate its three alarms into one incident.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from commonwatch.domain.model import EventState
from commonwatch.domain.places import Device

ALARM, RESTORE, INFO = EventState.ALARM, EventState.RESTORE, EventState.INFO


@dataclass(frozen=True, slots=True)
class Step:
    """At `at_s` seconds into the script, device number `unit` of `kind` reports `type`."""

    at_s: float
    kind: str
    type: str
    state: EventState
    unit: int = 0  # 0 = the building's first device of that kind, 1 = its second, ...
    value: float | None = None


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    weight: float  # how often it is picked, relative to the others
    steps: tuple[Step, ...]

    def needs(self) -> Counter[str]:
        """How many devices of each kind a building must have to stage this script."""
        needed: Counter[str] = Counter()
        for step in self.steps:
            needed[step.kind] = max(needed[step.kind], step.unit + 1)
        return needed


SMOKE, HEAT, EBIKE = "smoke_detector", "heat_detector", "ebike_charger_monitor"

SCENARIOS: tuple[Scenario, ...] = (
    # First in the table: the demo opens with it.
    Scenario("kitchen_fire", 3.0, (
        Step(0, SMOKE, "smoke", ALARM, unit=0),
        Step(12, HEAT, "heat", ALARM, value=64.0),
        Step(25, SMOKE, "smoke", ALARM, unit=1),
        Step(150, SMOKE, "smoke", RESTORE, unit=0),
        Step(165, SMOKE, "smoke", RESTORE, unit=1),
        Step(180, HEAT, "heat", RESTORE, value=31.0),
    )),
    Scenario("water_leak", 2.0, (
        Step(0, "water_sensor", "water_leak", ALARM),
        Step(60, "water_sensor", "water_leak", RESTORE),
    )),
    Scenario("panic_button", 1.5, (
        Step(0, "panic_button", "panic", ALARM),
        Step(90, "panic_button", "panic", RESTORE),  # reset by the caretaker
    )),
    Scenario("ebike_overheat", 2.0, (
        Step(0, EBIKE, "temperature", INFO, value=47.5),
        Step(10, EBIKE, "temperature", INFO, value=58.0),
        Step(20, EBIKE, "ebike_overheat", ALARM, value=71.5),
        Step(140, EBIKE, "ebike_overheat", RESTORE, value=39.0),
    )),
    Scenario("fall", 1.5, (
        Step(0, "fall_sensor", "fall", ALARM),  # a fall has no restore: a person must look
    )),
    Scenario("gas_leak", 1.0, (
        Step(0, "gas_detector", "gas", ALARM),
        Step(120, "gas_detector", "gas", RESTORE),
    )),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Chatter:
    """An everyday report a device kind makes; never an alarm."""

    weight: float
    type: str
    value_range: tuple[float, float] | None = None


HEARTBEAT = (Chatter(1.0, "heartbeat"),)
BACKGROUND: Mapping[str, tuple[Chatter, ...]] = {
    "door_contact": (Chatter(3.0, "door_open"), Chatter(3.0, "door_close"), *HEARTBEAT),
    "motion_sensor": (Chatter(5.0, "motion"), *HEARTBEAT),
    "heat_detector": (Chatter(1.0, "temperature", (21.0, 31.0)), *HEARTBEAT),
    EBIKE: (Chatter(1.0, "temperature", (20.0, 36.0)), *HEARTBEAT),
}


@dataclass(frozen=True, slots=True)
class Emission:
    """One event a device is about to send."""

    device: Device
    type: str
    state: EventState
    value: float | None = None


# Device kind -> the building's devices of that kind, in unit order.
Kit = Mapping[str, Sequence[Device]]


def kits(devices: Sequence[Device]) -> dict[str, Kit]:
    """Building id -> its kit."""
    result: dict[str, dict[str, list[Device]]] = {}
    for device in sorted(devices, key=lambda d: _unit_order(d.id)):
        if device.building_id is not None:
            result.setdefault(device.building_id, {}).setdefault(device.kind, []).append(device)
    return dict(result)


def _unit_order(device_id: str) -> tuple[str, int]:
    # c07-b2-smoke-10 comes after c07-b2-smoke-9.
    stem, _, number = device_id.rpartition("-")
    return (stem, int(number)) if number.isdigit() else (device_id, 0)


def can_stage(scenario: Scenario, kit: Kit) -> bool:
    return all(len(kit.get(kind, ())) >= count for kind, count in scenario.needs().items())


def stage(scenario: Scenario, kit: Kit, start: float) -> list[tuple[float, Emission]]:
    """The script cast onto one building's devices: (when, emission) pairs."""
    return [
        (start + s.at_s, Emission(kit[s.kind][s.unit], s.type, s.state, s.value))
        for s in scenario.steps
    ]
