"""Dispatch rules as data: what each incident type needs, interval targets, CAD mappings."""

from __future__ import annotations

import pytest

from commonwatch.domain.intervals import Interval
from commonwatch.domain.rules import Rules
from commonwatch.domain.units import (
    DispatchRules,
    DispatchRulesError,
    Unit,
    UnitKind,
    parse_dispatch_rules,
)
from commonwatch.handlers.dispatch import load_dispatch_rules

PATROLS = {UnitKind.PATROL_CAR, UnitKind.FOOT_PATROL, UnitKind.EBIKE_PATROL}

MINIMAL = """
[requirements]
fire = [{ role = "engine", kinds = ["fire_engine"], count = 2 }]

[intervals.answering]
target_s = 10
[intervals.processing]
target_s = 60
[intervals.turnout]
target_s = 80
by_type = { medical = 60 }
[intervals.travel]
target_s = 240
[intervals.total]
target_s = 380
"""


@pytest.fixture(scope="module")
def shipped(default_rules: Rules) -> DispatchRules:
    return load_dispatch_rules(incident_types=list(default_rules.incident_types))


def test_it_ships_requirements_for_every_incident_type_the_correlator_opens(
    default_rules: Rules, shipped: DispatchRules
) -> None:
    assert set(default_rules.incident_types) <= set(shipped.requirements)


def test_it_sends_two_engines_and_a_patrol_to_a_fire(shipped: DispatchRules) -> None:
    engine, patrol = shipped.slots_for("fire")
    assert (engine.kinds, engine.count) == ([UnitKind.FIRE_ENGINE], 2)
    assert (set(patrol.kinds), patrol.count) == (PATROLS, 1)


def test_it_sends_the_nearest_patrol_or_guard_to_a_panic_alarm(shipped: DispatchRules) -> None:
    [responder] = shipped.slots_for("panic")
    assert set(responder.kinds) == PATROLS | {UnitKind.SECURITY_GUARD}
    assert responder.count == 1


def test_it_sends_an_ambulance_and_first_aid_volunteers_to_a_fall(shipped: DispatchRules) -> None:
    ambulance, volunteers = shipped.slots_for("medical_fall")
    assert ambulance.kinds == [UnitKind.AMBULANCE]
    assert volunteers.kinds == [UnitKind.VOLUNTEER_TEAM]
    assert volunteers.capabilities == ["first_aid"]


def test_it_ships_the_nfpa_targets_as_defaults(shipped: DispatchRules) -> None:
    targets = shipped.intervals
    assert (targets[Interval.ANSWERING].target_s, targets[Interval.ANSWERING].fraction) == (10, 0.9)
    assert targets[Interval.PROCESSING].target_s == 60
    assert targets[Interval.TURNOUT].seconds_for("fire") == 80
    assert targets[Interval.TURNOUT].seconds_for("medical") == 60
    assert targets[Interval.TRAVEL].target_s == 240
    assert "NFPA 1710" in targets[Interval.TRAVEL].standard


def test_it_ships_settings_for_timeouts_arrival_and_coverage(shipped: DispatchRules) -> None:
    settings = shipped.settings
    assert settings.ack_timeout_s == 60
    assert settings.arrival_radius_m == 75
    assert settings.stale_position_s > 0
    assert 0 <= settings.busy_probability < 1


def test_it_maps_every_sffd_call_type_to_a_known_requirement(shipped: DispatchRules) -> None:
    sffd = shipped.cad["sffd"]
    assert sffd.incident_type_of("Medical Incident") == "medical"
    assert sffd.incident_type_of("Structure Fire") == "fire"
    assert sffd.incident_type_of("Something new") == sffd.default_incident_type
    assert sffd.unit_types["ENGINE"].kind is UnitKind.FIRE_ENGINE
    assert "CHIEF" not in sffd.unit_types


def test_it_takes_a_minimal_file_with_default_settings() -> None:
    rules = parse_dispatch_rules(MINIMAL)
    assert rules.settings.ack_timeout_s == 60
    assert rules.slots_for("unknown") == []


def test_it_refuses_an_incident_type_without_requirements() -> None:
    with pytest.raises(DispatchRulesError, match="no requirements for incident type panic"):
        parse_dispatch_rules(MINIMAL, incident_types=["fire", "panic"])


def test_it_refuses_an_unknown_unit_kind() -> None:
    broken = MINIMAL.replace('"fire_engine"', '"fire_truck"')
    with pytest.raises(DispatchRulesError, match="fire_truck"):
        parse_dispatch_rules(broken)


def test_it_refuses_a_missing_interval_target() -> None:
    broken = MINIMAL.replace("[intervals.travel]\ntarget_s = 240\n", "")
    with pytest.raises(DispatchRulesError, match="no target for interval travel"):
        parse_dispatch_rules(broken)


def test_it_refuses_a_cad_mapping_to_an_unknown_type() -> None:
    broken = MINIMAL + (
        '[cad.x]\ntimezone = "UTC"\ndefault_incident_type = "fire"\n'
        '[cad.x.call_types]\n"Boat" = "boat_fire"\n'
    )
    with pytest.raises(DispatchRulesError, match=r"cad\.x maps to unknown type boat_fire"):
        parse_dispatch_rules(broken)


def test_it_says_which_capability_a_unit_lacks(shipped: DispatchRules) -> None:
    _, volunteers = shipped.slots_for("medical_fall")
    team = Unit("V1", "Block 5 volunteers", UnitKind.VOLUNTEER_TEAM, "base", "city")
    guard = Unit("G1", "Gate guard", UnitKind.SECURITY_GUARD, "office", "city")
    assert volunteers.misfit(team) == "wrong capability: lacks first_aid"
    assert volunteers.misfit(guard) == (
        "wrong capability: a security_guard does not serve as volunteers"
    )
    trained = Unit(
        "V2",
        "First aiders",
        UnitKind.VOLUNTEER_TEAM,
        "base",
        "city",
        capabilities=frozenset({"first_aid", "cpr"}),
    )
    assert volunteers.misfit(trained) is None
