"""Rules as data: the shipped default parses; a bad rules file is refused with a clear reason."""

from __future__ import annotations

import pytest

from commonwatch.domain.rules import Rules, RulesError, parse_rules
from commonwatch.runtime.rules import default_rules_text

MINIMAL = """
[incident_types]
fire = { label = "Fire", priority = 1 }

[events]
smoke = { incident = "fire" }
"""


def test_it_parses_the_shipped_default_rules() -> None:
    rules = parse_rules(default_rules_text())
    assert rules.dedupe_window_s == 300
    assert rules.priority_of("fire") == 1
    assert rules.priority_of("water_leak") == 3


def test_it_maps_device_event_types_to_incident_types_in_the_default(default_rules: Rules) -> None:
    incidents = {name: m.incident for name, m in default_rules.events.items()}
    assert incidents["smoke"] == incidents["heat"] == incidents["camera_fire"] == "fire"
    assert incidents["duress"] == "panic"
    assert default_rules.mapping_for("heartbeat") is None


def test_it_leaves_every_default_incident_for_people_to_close(default_rules: Rules) -> None:
    auto = {name for name, m in default_rules.events.items() if m.auto_resolve_on_restore}
    assert auto == set()


def test_it_keeps_device_troubles_out_of_the_incident_queue(default_rules: Rules) -> None:
    troubles = ("tamper", "low_battery", "battery_low", "device_offline", "communication_failure")
    assert [t for t in troubles if default_rules.mapping_for(t)] == []


def test_it_groups_fire_sensors_per_building_within_two_minutes(default_rules: Rules) -> None:
    group = default_rules.group_for("camera_fire")
    assert group is not None
    assert (group.name, group.incident, group.scope, group.window_s) == (
        "fire",
        "fire",
        "building",
        120,
    )
    assert default_rules.group_for("intrusion") is None


def test_it_picks_the_first_escalation_rule_that_applies(default_rules: Rules) -> None:
    fire = default_rules.escalation_for("fire")
    anything_else = default_rules.escalation_for("water_leak")
    assert fire is not None
    assert anything_else is not None
    assert (fire.after_s, fire.repeat_every_s, fire.max_level) == (30, 60, 3)
    assert (anything_else.after_s, anything_else.max_level) == (120, 2)


def test_it_has_no_escalation_when_no_rule_applies() -> None:
    assert parse_rules(MINIMAL).escalation_for("fire") is None


def test_it_fills_in_defaults_for_a_minimal_file() -> None:
    rules = parse_rules(MINIMAL)
    assert rules.dedupe_window_s == 300
    assert rules.groups == []
    assert rules.incident_types["fire"].category == "safety"
    assert rules.events["smoke"].auto_resolve_on_restore is False


def test_it_accepts_bytes_as_well_as_text() -> None:
    assert parse_rules(MINIMAL.encode()) == parse_rules(MINIMAL)


def test_it_refuses_an_event_mapped_to_an_unknown_incident_type() -> None:
    text = MINIMAL + 'gas = { incident = "gas_leak" }\n'
    with pytest.raises(RulesError, match="incident types that are not defined: gas_leak"):
        parse_rules(text)


def test_it_refuses_a_group_for_an_unknown_incident_type() -> None:
    text = MINIMAL + '[[groups]]\nname = "g"\nincident = "blaze"\nevents = ["smoke"]\n'
    with pytest.raises(RulesError, match="not defined: blaze"):
        parse_rules(text)


def test_it_refuses_an_escalation_for_an_unknown_incident_type() -> None:
    # A typo here would otherwise mean that fires silently never escalate.
    text = MINIMAL + '[[escalations]]\nincident_types = ["fier"]\nafter_s = 30\n'
    with pytest.raises(RulesError, match="not defined: fier"):
        parse_rules(text)


def test_it_accepts_the_wildcard_escalation() -> None:
    text = MINIMAL + '[[escalations]]\nincident_types = ["*"]\nafter_s = 30\n'
    assert parse_rules(text).escalation_for("fire") is not None


def test_it_refuses_a_group_listing_an_event_type_that_is_not_mapped() -> None:
    text = MINIMAL + '[[groups]]\nname = "fire"\nincident = "fire"\nevents = ["smoke", "smok"]\n'
    with pytest.raises(RulesError, match=r"group 'fire' lists event types .*: smok$"):
        parse_rules(text)


def test_it_refuses_a_group_whose_events_open_another_incident_type() -> None:
    text = (
        MINIMAL.replace("[events]", 'flood = { label = "Flood", priority = 3 }\n\n[events]')
        + 'water_leak = { incident = "flood" }\n'
        + '[[groups]]\nname = "mixed"\nincident = "fire"\nevents = ["smoke", "water_leak"]\n'
    )
    with pytest.raises(RulesError, match=r"do not map to incident type 'fire'.*: water_leak"):
        parse_rules(text)


@pytest.mark.parametrize("priority", [0, 6, -1])
def test_it_refuses_a_priority_outside_one_to_five(priority: int) -> None:
    text = MINIMAL.replace("priority = 1", f"priority = {priority}")
    with pytest.raises(RulesError, match=f"priority must be 1 .* to 5, got {priority}"):
        parse_rules(text)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("dedupe_window = 60\n" + MINIMAL, "dedupe_window"),
        (MINIMAL.replace("priority = 1", "priority = 1, colour = 'red'"), "colour"),
        (MINIMAL.replace('"fire" }', '"fire", auto_resolve = true }'), "auto_resolve"),
    ],
)
def test_it_refuses_an_unknown_field_and_names_it(text: str, field: str) -> None:
    with pytest.raises(RulesError, match=f"unknown field `{field}`"):
        parse_rules(text)


def test_it_refuses_a_value_of_the_wrong_type_and_says_where() -> None:
    text = MINIMAL.replace("priority = 1", 'priority = "high"')
    with pytest.raises(RulesError, match=r"Expected `int`, got `str` - at `\$.incident_types"):
        parse_rules(text)


def test_it_refuses_a_file_without_incident_types() -> None:
    with pytest.raises(RulesError, match="missing required field `incident_types`"):
        parse_rules('[events]\nsmoke = { incident = "fire" }\n')


def test_it_refuses_a_group_scope_it_does_not_know() -> None:
    text = MINIMAL + '[[groups]]\nname = "g"\nincident = "fire"\nevents = ["smoke"]\n'
    with pytest.raises(RulesError, match="scope"):
        parse_rules(text + 'scope = "planet"\n')


@pytest.mark.parametrize("text", ["[incident_types\n", "fire = = 1", "\x00"])
def test_it_refuses_text_that_is_not_toml(text: str) -> None:
    with pytest.raises(RulesError, match="invalid rules file"):
        parse_rules(text)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("dedupe_window_s = 0", "dedupe_window_s"),
        ("dedupe_window_s = -5", "dedupe_window_s"),
    ],
)
def test_it_refuses_windows_that_are_not_positive(line: str, field: str) -> None:
    text = default_rules_text().replace("dedupe_window_s = 300", line)
    with pytest.raises(RulesError, match=field):
        parse_rules(text)


def test_it_refuses_an_escalation_that_fires_before_the_incident_opens() -> None:
    text = default_rules_text().replace("after_s = 30", "after_s = -1")
    with pytest.raises(RulesError, match="after_s"):
        parse_rules(text)
