"""What the demo district says: scripted incidents that correlate as meant, calm chatter between."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from commonwatch.bus.subjects import parse_event_subject
from commonwatch.domain.correlation import Correlator
from commonwatch.domain.events import IncidentOpened
from commonwatch.domain.model import DeviceEvent, EventState, Place
from commonwatch.domain.rules import Rules
from commonwatch.ingest.native.parse import decode_one, to_event
from commonwatch.runtime.rules import load_rules
from commonwatch.sim import wire
from commonwatch.sim.director import Director
from commonwatch.sim.district import KINDS, DemoDistrict, build_district
from commonwatch.sim.scenarios import SCENARIOS, Emission, can_stage, kits, stage

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SCRIPT = {s.name: s for s in SCENARIOS}


@pytest.fixture(scope="module")
def district() -> DemoDistrict:
    return build_district()


@pytest.fixture(scope="module")
def rules() -> Rules:
    return load_rules(None)


def correlate(rules: Rules, timed: list[tuple[float, Emission]]) -> list[IncidentOpened]:
    ids = (f"inc-{n}" for n in itertools.count(1))
    correlator = Correlator(rules, [], lambda: next(ids))
    for n, (at, e) in enumerate(sorted(timed, key=lambda pair: pair[0])):
        when = T0 + timedelta(seconds=at)
        event = DeviceEvent(
            f"e{n}", e.device.id, e.device.community_id, e.type, e.state, when, when
        )
        place = Place(e.device.community_id, e.device.building_id, e.device.jpath)
        correlator.apply(event, place)
    return [x for x in correlator.outcome.events if isinstance(x, IncidentOpened)]


def test_it_scripts_only_device_kinds_the_district_has(district: DemoDistrict) -> None:
    buildings = kits(district.devices)
    for scenario in SCENARIOS:
        assert set(scenario.needs()) <= KINDS
        assert any(can_stage(scenario, kit) for kit in buildings.values()), scenario.name


def test_it_raises_only_alarms_the_default_rules_turn_into_incidents(rules: Rules) -> None:
    for scenario in SCENARIOS:
        for step in scenario.steps:
            if step.state is not EventState.INFO:
                assert rules.mapping_for(step.type) is not None, (scenario.name, step.type)


def test_it_restores_only_alarms_its_script_raised_before() -> None:
    for scenario in SCENARIOS:
        raised: set[tuple[str, int, str]] = set()
        for step in sorted(scenario.steps, key=lambda s: s.at_s):
            key = (step.kind, step.unit, step.type)
            if step.state is EventState.ALARM:
                raised.add(key)
            elif step.state is EventState.RESTORE:
                assert key in raised, (scenario.name, step)


def test_it_stages_the_kitchen_fire_as_one_fire_incident_seen_by_three_devices(
    district: DemoDistrict, rules: Rules
) -> None:
    fire = SCRIPT["kitchen_fire"]
    kit = kits(district.devices)["c07-b2"]
    timed = stage(fire, kit, start=0.0)
    alarms = [(at, e) for at, e in timed if e.state is EventState.ALARM]
    assert max(at for at, _ in alarms) <= 30
    assert len({e.device.id for _, e in alarms}) == 3
    assert {e.device.building_id for _, e in timed} == {"c07-b2"}

    opened = correlate(rules, timed)

    assert [(o.incident_type, o.building_id) for o in opened] == [("fire", "c07-b2")]


def test_it_opens_one_incident_per_scenario_of_every_kind(
    district: DemoDistrict, rules: Rules
) -> None:
    buildings = kits(district.devices)
    for scenario in SCENARIOS:
        host = next(b for b, kit in sorted(buildings.items()) if can_stage(scenario, kit))
        opened = correlate(rules, stage(scenario, buildings[host], start=0.0))
        assert len(opened) == 1, scenario.name


def test_it_opens_the_demo_with_the_kitchen_fire_within_three_seconds(
    district: DemoDistrict,
) -> None:
    director = Director(district, rate=0, start=100.0)

    first = director.due(102.0)

    assert [s.scenario for s in director.staged] == ["kitchen_fire"]
    assert [(e.device.kind, e.type, e.state) for e in first] == [
        ("smoke_detector", "smoke", EventState.ALARM)
    ]


def test_it_stages_a_scenario_every_twenty_to_forty_seconds(district: DemoDistrict) -> None:
    director = Director(district, rate=0, start=0.0, scenario_every_s=(20, 40))
    for second in range(0, 600):
        director.due(float(second))
    starts = [s.at for s in director.staged]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert 14 <= len(starts) <= 31
    assert all(20 <= g <= 41 for g in gaps)
    assert len({s.scenario for s in director.staged}) >= 4
    assert len({s.building_id for s in director.staged}) >= len(starts) - 1


def test_it_chatters_at_the_configured_rate_without_ever_raising_an_alarm(
    district: DemoDistrict,
) -> None:
    director = Director(district, rate=20, start=0.0, scenarios=())
    emitted = [e for tick in range(1, 201) for e in director.due(tick * 0.05)]
    assert len(emitted) == 200
    assert {e.state for e in emitted} == {EventState.INFO}
    types = Counter(e.type for e in emitted)
    assert types["heartbeat"] > 0 and types["door_open"] + types["motion"] > 0
    temperatures = [e.value for e in emitted if e.type == "temperature"]
    assert all(t is not None and 15 < t < 40 for t in temperatures)


def test_it_drops_the_chatter_backlog_after_a_stall(district: DemoDistrict) -> None:
    director = Director(district, rate=20, start=0.0, scenarios=())
    assert len(director.due(60.0)) == 20
    assert len(director.due(60.05)) == 1


def test_it_says_the_same_things_for_the_same_seed(district: DemoDistrict) -> None:
    def script(seed: int) -> list[tuple[str, str]]:
        director = Director(district, rate=20, start=0.0, seed=seed)
        return [(e.device.id, e.type) for t in range(400) for e in director.due(t * 0.25)]

    assert script(7) == script(7)
    assert script(7) != script(8)


def test_it_speaks_the_native_format_on_the_device_topic(district: DemoDistrict) -> None:
    device = next(d for d in district.devices if d.kind == "heat_detector")
    emission = Emission(device, "heat", EventState.ALARM, 64.0)

    topic = wire.topic(emission.device)
    body = wire.payload(emission, ts=1_770_000_000.25, event_id="sim-ab-1")
    event = to_event(decode_one(body), fallback_id="x", received=T0, device=device.id)

    assert topic == f"commonwatch/events/{device.community_id}/{device.id}"
    assert parse_event_subject(topic.replace("/", ".")) == (device.community_id, device.id)
    assert msgspec.json.decode(body) == {
        "type": "heat", "state": "alarm", "ts": 1_770_000_000.25, "id": "sim-ab-1", "value": 64.0,
    }  # fmt: skip
    assert (event.id, event.type, event.state, event.value) == (
        "sim-ab-1", "heat", EventState.ALARM, 64.0,
    )  # fmt: skip
    assert event.device_ts == datetime.fromtimestamp(1_770_000_000.25, UTC)


def test_it_leaves_out_the_value_when_there_is_none(district: DemoDistrict) -> None:
    body = wire.payload(Emission(district.devices[0], "heartbeat", EventState.INFO), ts=1e9)
    assert msgspec.json.decode(body) == {"type": "heartbeat", "state": "info", "ts": 1e9}
