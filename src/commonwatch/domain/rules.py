"""Correlation and escalation rules as data (see rules/default.toml)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Seconds = Annotated[float, msgspec.Meta(gt=0)]
Steps = Annotated[int, msgspec.Meta(ge=0, le=4)]


class IncidentType(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    label: str
    priority: int
    category: str = "safety"


class EventMapping(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """How one event type turns into an incident."""

    incident: str
    auto_resolve_on_restore: bool = False


class GroupRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Alarms of these event types at one place within a window form one incident."""

    name: str
    incident: str
    events: list[str]
    scope: Literal["building", "community"] = "building"
    window_s: Seconds = 120.0
    # Each further distinct device makes the incident this many priority steps more urgent.
    raise_priority_per_device: Steps = 1


class EscalationRule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """An incident still unacknowledged after_s seconds after opening is escalated."""

    after_s: Seconds
    incident_types: list[str] = msgspec.field(default_factory=lambda: ["*"])
    raise_priority: Steps = 1
    repeat_every_s: Seconds | None = None
    max_level: Annotated[int, msgspec.Meta(ge=1)] = 3

    def applies_to(self, incident_type: str) -> bool:
        return "*" in self.incident_types or incident_type in self.incident_types


class Rules(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    incident_types: dict[str, IncidentType]
    events: dict[str, EventMapping]
    dedupe_window_s: Seconds = 300.0
    groups: list[GroupRule] = msgspec.field(default_factory=list)
    escalations: list[EscalationRule] = msgspec.field(default_factory=list)

    def mapping_for(self, event_type: str) -> EventMapping | None:
        return self.events.get(event_type)

    def group_for(self, event_type: str) -> GroupRule | None:
        for group in self.groups:
            if event_type in group.events:
                return group
        return None

    def escalation_for(self, incident_type: str) -> EscalationRule | None:
        for rule in self.escalations:
            if rule.applies_to(incident_type):
                return rule
        return None

    def priority_of(self, incident_type: str) -> int:
        return self.incident_types[incident_type].priority


class RulesError(ValueError):
    """A rules file that cannot be used; the message names the problem."""


def parse_rules(text: bytes | str) -> Rules:
    try:
        rules = msgspec.toml.decode(text, type=Rules)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise RulesError(f"invalid rules file: {exc}") from exc
    _check_references(rules)
    return rules


def _check_references(rules: Rules) -> None:
    known = set(rules.incident_types)
    named = [m.incident for m in rules.events.values()] + [g.incident for g in rules.groups]
    # A misspelt type here would silently never escalate, which is worse than refusing to start.
    named += [t for e in rules.escalations for t in e.incident_types if t != "*"]
    unknown = sorted(set(named) - known)
    if unknown:
        raise RulesError(f"rules name incident types that are not defined: {', '.join(unknown)}")
    for itype in rules.incident_types.values():
        if not 1 <= itype.priority <= 5:
            raise RulesError(f"priority must be 1 (most urgent) to 5, got {itype.priority}")
    for group in rules.groups:
        _check_group(rules, group)


def _check_group(rules: Rules, group: GroupRule) -> None:
    """The correlator opens the incident its event mapping names, so a group must agree with it;
    an event type the [events] table does not map never reaches the group at all."""
    stray = [e for e in group.events if _incident_of(rules, e) != group.incident]
    if stray:
        raise RulesError(
            f"group {group.name!r} lists event types that do not map to incident type "
            f"{group.incident!r} in [events]: {', '.join(stray)}"
        )


def _incident_of(rules: Rules, event_type: str) -> str | None:
    mapping = rules.mapping_for(event_type)
    return mapping.incident if mapping else None
