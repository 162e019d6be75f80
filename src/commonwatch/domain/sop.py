"""Standard operating procedures: a checklist per incident type, and when it blocks resolving. Pure.

The procedures are data (rules/sop.toml); this module only reads them and decides.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from commonwatch.domain.events import DomainEvent
from commonwatch.domain.model import IllegalTransition

DEFAULT_TYPE = "default"
LANGUAGES = ("en", "zh")


class StepState(StrEnum):
    DONE = "done"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class SopStep:
    id: str
    required: bool
    labels: Mapping[str, str]  # language -> text


@dataclass(frozen=True, slots=True)
class Procedures:
    by_type: Mapping[str, tuple[SopStep, ...]]
    exempt_resolutions: frozenset[str]

    def steps_for(self, incident_type: str) -> tuple[SopStep, ...]:
        return self.by_type.get(incident_type) or self.by_type.get(DEFAULT_TYPE, ())


class ChecklistStepRecorded(DomainEvent, frozen=True, tag=True):
    incident_id: str
    step: str
    state: str
    by: str
    reason: str | None = None


class ChecklistIncomplete(IllegalTransition):
    """Resolving is refused while required steps are open (answered 409 like any lifecycle rule)."""

    def __init__(self, open_steps: list[str]) -> None:
        super().__init__(
            "required checklist steps are still open: "
            f"{', '.join(open_steps)}; mark them done or skip them with a reason"
        )
        self.open_steps = open_steps


class UnknownStep(LookupError):
    def __init__(self, incident_type: str, step: str) -> None:
        super().__init__(f"the {incident_type} checklist has no step {step!r}")


def open_required(steps: tuple[SopStep, ...], progress: Mapping[str, StepState]) -> list[str]:
    """Required steps nobody has done or skipped yet, in checklist order."""
    return [s.id for s in steps if s.required and s.id not in progress]


def require_complete(
    procedures: Procedures,
    incident_type: str,
    progress: Mapping[str, StepState],
    *,
    resolution: str,
) -> None:
    if resolution in procedures.exempt_resolutions:
        return
    missing = open_required(procedures.steps_for(incident_type), progress)
    if missing:
        raise ChecklistIncomplete(missing)


def find_step(procedures: Procedures, incident_type: str, step: str) -> SopStep:
    for candidate in procedures.steps_for(incident_type):
        if candidate.id == step:
            return candidate
    raise UnknownStep(incident_type, step)


class InvalidProcedures(ValueError):
    """The SOP file is malformed; the message names where."""


def _step(raw: object, where: str) -> SopStep:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
        raise InvalidProcedures(f"{where}: a step needs an id")
    labels = {lang: str(raw[lang]) for lang in LANGUAGES if lang in raw}
    if "en" not in labels:
        raise InvalidProcedures(f"{where}.{raw['id']}: a step needs an English label (en)")
    return SopStep(id=raw["id"], required=bool(raw.get("required", False)), labels=labels)


def parse_procedures(data: Mapping[str, object]) -> Procedures:
    types = data.get("types", {})
    if not isinstance(types, Mapping):
        raise InvalidProcedures("[types] must be a table of incident types")
    by_type: dict[str, tuple[SopStep, ...]] = {}
    for name, section in types.items():
        raw_steps = section.get("steps", []) if isinstance(section, Mapping) else None
        if not isinstance(raw_steps, list):
            raise InvalidProcedures(f"types.{name}: steps must be a list")
        by_type[str(name)] = tuple(_step(s, f"types.{name}") for s in raw_steps)
    exempt = data.get("exempt_resolutions", [])
    if not isinstance(exempt, list):
        raise InvalidProcedures("exempt_resolutions must be a list")
    return Procedures(by_type=by_type, exempt_resolutions=frozenset(str(r) for r in exempt))
