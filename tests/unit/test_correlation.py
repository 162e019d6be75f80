"""Correlation: alarms open incidents, repeats join them, restores clear devices. Default rules."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from commonwatch.domain.correlation import dedupe_key, group_key, keys_for
from commonwatch.domain.events import (
    DeviceAlarmCleared,
    DeviceAlarmRaised,
    EventCorrelated,
    IncidentOpened,
    IncidentResolved,
)
from commonwatch.domain.model import DeviceEvent, IncidentStatus
from commonwatch.domain.rules import GroupRule, Rules, parse_rules
from commonwatch.runtime.rules import default_rules_text
from tests.unit.factories import (
    MAPLE_COURT,
    OAK_HOUSE,
    STREET,
    Desk,
    alarm,
    at,
    info,
    open_incident,
    restore,
)


def group_of(rules: Rules, event_type: str) -> GroupRule:
    group = rules.group_for(event_type)
    assert group is not None
    return group


def test_it_opens_an_incident_for_a_first_alarm(default_rules: Rules) -> None:
    smoke = alarm("smoke-kitchen", "smoke", after_s=5)
    desk = Desk(default_rules).send(smoke, MAPLE_COURT)

    assert desk.kinds() == ["DeviceAlarmRaised", "IncidentOpened"]
    fire = desk.incident("inc-1")
    assert (fire.type, fire.priority, fire.status) == ("fire", 1, IncidentStatus.NEW)
    assert (fire.jpath, fire.community_id, fire.building_id) == (
        "city.riverside.maple_court",
        "riverside",
        "maple-court",
    )
    assert (fire.opened_at, fire.last_event_at, fire.first_device_ts) == (at(5), at(5), at(3))
    assert (fire.event_count, fire.confidence) == (1, 0.5)
    assert desk.outcome.opened == {"inc-1"}
    assert desk.outcome.event_incident == {smoke.id: "inc-1"}


def test_it_describes_the_opening_in_its_domain_events(default_rules: Rules) -> None:
    smoke = alarm("smoke-kitchen", "smoke", after_s=5)
    raised, opened = Desk(default_rules).send(smoke).outcome.events

    assert raised == DeviceAlarmRaised(
        at=at(5), device_id="smoke-kitchen", event_type="smoke", event_id=smoke.id
    )
    assert opened == IncidentOpened(
        at=at(5),
        incident_id="inc-1",
        incident_type="fire",
        priority=1,
        jpath=MAPLE_COURT.jpath,
        community_id="riverside",
        building_id="maple-court",
        event_id=smoke.id,
        device_id="smoke-kitchen",
        event_type="smoke",
    )


def test_it_dedupes_a_repeat_from_the_same_device_within_the_window(default_rules: Rules) -> None:
    first, again = alarm("door-3", "intrusion", 0), alarm("door-3", "intrusion", 299)
    desk = Desk(default_rules).send_all([first, again])

    assert desk.outcome.opened == {"inc-1"}
    incident = desk.incident_of(again)
    assert incident.id == "inc-1"
    assert (incident.event_count, incident.last_event_at) == (2, at(299))
    correlated = desk.outcome.events[-1]
    assert isinstance(correlated, EventCorrelated)
    assert (correlated.incident_id, correlated.event_count, correlated.event_id) == (
        "inc-1",
        2,
        again.id,
    )


def test_it_keeps_confidence_when_the_same_device_repeats(default_rules: Rules) -> None:
    desk = Desk(default_rules).send_all([alarm("door-3", "intrusion", s) for s in (0, 10, 20)])
    assert (desk.incident("inc-1").event_count, desk.incident("inc-1").confidence) == (3, 0.5)


def test_it_still_dedupes_at_exactly_the_window_edge(default_rules: Rules) -> None:
    desk = Desk(default_rules).send_all(
        [alarm("door-3", "intrusion", 0), alarm("door-3", "intrusion", 300)]
    )
    assert desk.outcome.opened == {"inc-1"}


def test_it_opens_a_new_incident_after_the_dedupe_window(default_rules: Rules) -> None:
    first, later = alarm("door-3", "intrusion", 0), alarm("door-3", "intrusion", 301)
    desk = Desk(default_rules).send_all([first, later])

    assert desk.outcome.opened == {"inc-1", "inc-2"}
    assert desk.incident_of(later).id == "inc-2"
    assert desk.incident("inc-1").event_count == 1


def test_it_measures_the_dedupe_window_from_the_latest_event(default_rules: Rules) -> None:
    # A chattering sensor keeps one incident as long as it never pauses for a whole window.
    desk = Desk(default_rules).send_all([alarm("door-3", "intrusion", s) for s in (0, 250, 500)])
    assert desk.outcome.opened == {"inc-1"}
    assert desk.incident("inc-1").event_count == 3


def test_it_does_not_dedupe_different_event_types_of_one_device(default_rules: Rules) -> None:
    desk = Desk(default_rules).send_all(
        [alarm("hub-1", "intrusion", 0), alarm("hub-1", "panic", 5)]
    )
    assert desk.outcome.opened == {"inc-1", "inc-2"}


def test_it_groups_fire_sensors_in_one_building_into_one_rising_incident(
    default_rules: Rules,
) -> None:
    smoke = alarm("smoke-kitchen", "smoke", 0)
    heat = alarm("heat-hall", "heat", 40)
    camera = alarm("cam-stairs", "camera_fire", 100)
    desk = Desk(default_rules)

    confidences, priorities = [], []
    for event in (smoke, heat, camera):
        desk.send(event, MAPLE_COURT)
        confidences.append(desk.incident_of(event).confidence)
        priorities.append(desk.incident_of(event).priority)

    assert desk.outcome.opened == {"inc-1"}
    fire = desk.incident("inc-1")
    assert fire.devices == {"smoke-kitchen", "heat-hall", "cam-stairs"}
    assert fire.event_types == {"smoke", "heat", "camera_fire"}
    assert fire.event_count == 3
    assert confidences == [0.5, 0.75, 0.875]
    assert priorities == [1, 1, 1]  # fire starts most urgent and can go no higher


def test_it_raises_priority_one_step_per_further_device_in_a_group(default_rules: Rules) -> None:
    # water_leak starts at priority 3; the default water group raises one step per device.
    desk = Desk(default_rules)
    priorities = []
    for n, device in enumerate(["leak-1", "leak-2", "leak-3", "leak-4"]):
        event = alarm(device, "water_leak", n * 60)
        desk.send(event)
        priorities.append(desk.incident_of(event).priority)
    assert priorities == [3, 2, 1, 1]


def test_it_never_makes_a_grouped_incident_less_urgent(default_rules: Rules) -> None:
    # Escalated to 1 earlier; a second device would compute 3 - 1 = 2, but urgency only rises.
    first = alarm("leak-1", "water_leak", 0)
    escalated = open_incident(
        "inc-old",
        first,
        incident_type="water_leak",
        priority=1,
        extra_keys=[group_key(group_of(default_rules, "water_leak"), MAPLE_COURT)],
    )
    desk = Desk(default_rules, [escalated]).send(alarm("leak-2", "water_leak", 60))
    assert desk.incident("inc-old").priority == 1
    assert desk.incident("inc-old").confidence == 0.75


def test_it_keeps_fires_in_different_buildings_apart(default_rules: Rules) -> None:
    maple, oak = alarm("smoke-m", "smoke", 0), alarm("smoke-o", "smoke", 10)
    desk = Desk(default_rules).send(maple, MAPLE_COURT).send(oak, OAK_HOUSE)
    assert desk.outcome.opened == {"inc-1", "inc-2"}
    assert desk.incident_of(oak).building_id == "oak-house"


def test_it_opens_a_new_fire_incident_after_the_group_window(default_rules: Rules) -> None:
    smoke, heat = alarm("smoke-kitchen", "smoke", 0), alarm("heat-hall", "heat", 121)
    desk = Desk(default_rules).send_all([smoke, heat])
    assert desk.outcome.opened == {"inc-1", "inc-2"}
    assert desk.incident("inc-1").devices == {"smoke-kitchen"}


def test_it_does_not_group_event_types_that_have_no_group(default_rules: Rules) -> None:
    desk = Desk(default_rules).send_all(
        [alarm("door-1", "intrusion", 0), alarm("door-2", "intrusion", 5)]
    )
    assert desk.outcome.opened == {"inc-1", "inc-2"}


def test_it_groups_devices_without_a_building_across_their_community(default_rules: Rules) -> None:
    desk = Desk(default_rules)
    desk.send(alarm("kiosk-1", "smoke", 0), STREET).send(alarm("kiosk-2", "heat", 30), STREET)
    assert desk.outcome.opened == {"inc-1"}
    assert desk.incident("inc-1").building_id is None


def test_it_clears_the_device_on_restore_but_keeps_the_incident_open(default_rules: Rules) -> None:
    smoke = alarm("smoke-kitchen", "smoke", 0)
    cleared = restore("smoke-kitchen", "smoke", 60)
    desk = Desk(default_rules).send_all([smoke, cleared])

    assert desk.kinds() == ["DeviceAlarmRaised", "IncidentOpened", "DeviceAlarmCleared"]
    assert desk.outcome.events[-1] == DeviceAlarmCleared(
        at=at(60), device_id="smoke-kitchen", event_type="smoke", event_id=cleared.id
    )
    assert desk.incident("inc-1").status is IncidentStatus.NEW
    assert cleared.id not in desk.outcome.event_incident


def auto_resolving_rules() -> Rules:
    mapping = 'tamper = { incident = "intrusion", auto_resolve_on_restore = true }'
    return parse_rules(default_rules_text().replace("[events]\n", f"[events]\n{mapping}\n"))


def test_it_resolves_an_incident_on_restore_when_a_rule_says_so() -> None:
    tampered, fixed = alarm("panel-2", "tamper", 0), restore("panel-2", "tamper", 90)
    desk = Desk(auto_resolving_rules()).send_all([tampered, fixed])

    assert desk.kinds()[-2:] == ["DeviceAlarmCleared", "IncidentResolved"]
    assert desk.outcome.events[-1] == IncidentResolved(
        at=at(90),
        incident_id="inc-1",
        resolution="handled",
        by="rule:auto_resolve_on_restore",
        note="tamper restored on device panel-2",
    )
    assert desk.incident("inc-1").status is IncidentStatus.RESOLVED
    assert desk.outcome.event_incident[fixed.id] == "inc-1"


def test_it_only_clears_the_device_when_a_restore_finds_no_incident(default_rules: Rules) -> None:
    desk = Desk(default_rules).send(restore("leak-2", "water_leak", 0))
    assert desk.kinds() == ["DeviceAlarmCleared"]
    assert desk.outcome.touched == {}


def test_it_does_nothing_for_info_events(default_rules: Rules) -> None:
    desk = Desk(default_rules).send(info("smoke-kitchen", "smoke", 0))
    assert desk.outcome.events == []
    assert desk.outcome.touched == {}


@pytest.mark.parametrize("make", [alarm, restore, info])
def test_it_does_nothing_for_event_types_the_rules_do_not_map(
    default_rules: Rules, make: Callable[..., DeviceEvent]
) -> None:
    desk = Desk(default_rules).send(make("door-1", "door_open", 0))
    assert desk.outcome.events == []
    assert desk.outcome.event_incident == {}


def test_it_never_adds_events_to_a_resolved_incident() -> None:
    again = alarm("panel-2", "tamper", 120)
    desk = Desk(auto_resolving_rules()).send_all(
        [alarm("panel-2", "tamper", 0), restore("panel-2", "tamper", 60), again]
    )
    assert desk.incident_of(again).id == "inc-2"
    assert desk.incident("inc-1").event_count == 1


def test_it_ignores_a_closed_incident_it_was_handed(default_rules: Rules) -> None:
    first = alarm("door-3", "intrusion", 0)
    closed = open_incident(
        "inc-old", first, incident_type="intrusion", priority=2, status=IncidentStatus.CLOSED
    )
    desk = Desk(default_rules, [closed]).send(alarm("door-3", "intrusion", 10))
    assert desk.outcome.opened == {"inc-1"}
    assert "inc-old" not in desk.outcome.touched


def test_it_joins_an_open_incident_from_an_earlier_batch(default_rules: Rules) -> None:
    first = alarm("door-3", "intrusion", 0)
    earlier = open_incident("inc-old", first, incident_type="intrusion", priority=2)
    again = alarm("door-3", "intrusion", 30)
    desk = Desk(default_rules, [earlier]).send(again)

    assert desk.outcome.opened == set()
    assert desk.outcome.event_incident == {again.id: "inc-old"}
    assert desk.incident("inc-old").event_count == 2


def test_it_still_gathers_events_into_an_acknowledged_incident(default_rules: Rules) -> None:
    first = alarm("door-3", "intrusion", 0)
    seen = open_incident(
        "inc-old", first, incident_type="intrusion", priority=2, status=IncidentStatus.ACKNOWLEDGED
    )
    desk = Desk(default_rules, [seen]).send(alarm("door-3", "intrusion", 30))
    assert desk.outcome.opened == set()


def test_it_lets_later_events_in_a_batch_join_incidents_opened_in_that_batch(
    default_rules: Rules,
) -> None:
    batch = [alarm("smoke-kitchen", "smoke", 0), alarm("heat-hall", "heat", 1)]
    batch += [alarm("smoke-kitchen", "smoke", 2)]
    desk = Desk(default_rules).send_all(batch)

    assert desk.outcome.opened == {"inc-1"}
    assert set(desk.outcome.event_incident.values()) == {"inc-1"}
    assert desk.kinds().count("IncidentOpened") == 1
    assert desk.kinds().count("EventCorrelated") == 2


def test_it_survives_an_open_incident_whose_type_the_rules_no_longer_define(
    default_rules: Rules,
) -> None:
    # Opened under an older rules file that called it "blaze"; the fire group still matches.
    first = alarm("smoke-kitchen", "smoke", 0)
    legacy = open_incident(
        "inc-old",
        first,
        incident_type="blaze",
        priority=2,
        extra_keys=[group_key(group_of(default_rules, "smoke"), MAPLE_COURT)],
    )
    desk = Desk(default_rules, [legacy]).send(alarm("heat-hall", "heat", 10))
    assert desk.incident("inc-old").priority == 1


def test_it_gives_an_alarm_its_dedupe_and_group_keys(default_rules: Rules) -> None:
    smoke = alarm("smoke-kitchen", "smoke")
    assert keys_for(smoke, MAPLE_COURT, default_rules) == [
        "dev:smoke-kitchen:smoke",
        "grp:fire:maple-court",
    ]
    assert dedupe_key(smoke) == "dev:smoke-kitchen:smoke"


def test_it_keys_a_building_less_alarm_by_its_community(default_rules: Rules) -> None:
    keys = keys_for(alarm("kiosk-1", "smoke"), STREET, default_rules)
    assert keys == ["dev:kiosk-1:smoke", "grp:fire:c:riverside"]


def test_it_gives_an_ungrouped_alarm_only_its_dedupe_key(default_rules: Rules) -> None:
    assert keys_for(alarm("door-3", "intrusion"), MAPLE_COURT, default_rules) == [
        "dev:door-3:intrusion"
    ]


def test_it_looks_up_a_restore_by_its_dedupe_key_only(default_rules: Rules) -> None:
    assert keys_for(restore("smoke-kitchen", "smoke"), MAPLE_COURT, default_rules) == [
        "dev:smoke-kitchen:smoke"
    ]


@pytest.mark.parametrize(
    "event",
    [info("smoke-kitchen", "smoke"), alarm("door-1", "door_open"), restore("door-1", "motion")],
)
def test_it_has_no_keys_for_events_that_cannot_touch_an_incident(
    default_rules: Rules, event: DeviceEvent
) -> None:
    assert keys_for(event, MAPLE_COURT, default_rules) == []


def test_it_emits_device_alarm_raised_for_every_mapped_alarm(default_rules: Rules) -> None:
    desk = Desk(default_rules).send_all([alarm("door-3", "intrusion", s) for s in (0, 10)])
    raised = [e for e in desk.outcome.events if isinstance(e, DeviceAlarmRaised)]
    assert len(raised) == 2
