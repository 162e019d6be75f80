"""SOP checklists as data, and password hashing: the pure parts of the operations console."""

from __future__ import annotations

import pytest

from commonwatch.domain.sop import (
    ChecklistIncomplete,
    InvalidProcedures,
    StepState,
    UnknownStep,
    find_step,
    open_required,
    parse_procedures,
    require_complete,
)
from commonwatch.handlers.accounts import hash_password, verify_password
from commonwatch.runtime.rules import load_rules
from commonwatch.storage.checklists import procedures

SOP = {
    "exempt_resolutions": ["duplicate"],
    "types": {
        "default": {"steps": [{"id": "verify", "required": True, "en": "Verify"}]},
        "fire": {
            "steps": [
                {
                    "id": "call",
                    "required": True,
                    "en": "Call the fire service",
                    "zh": "拨打消防电话",
                },
                {"id": "camera", "en": "Check the camera"},
                {"id": "warn", "required": True, "en": "Warn residents"},
            ]
        },
    },
}


def test_it_lists_the_open_required_steps_in_checklist_order() -> None:
    fire = parse_procedures(SOP).steps_for("fire")
    assert open_required(fire, {}) == ["call", "warn"]
    assert open_required(fire, {"warn": StepState.SKIPPED}) == ["call"]
    assert open_required(fire, {"call": StepState.DONE, "warn": StepState.DONE}) == []


def test_it_refuses_to_resolve_while_required_steps_are_open_unless_exempt() -> None:
    sop = parse_procedures(SOP)
    with pytest.raises(ChecklistIncomplete, match="still open: call, warn"):
        require_complete(sop, "fire", {}, resolution="handled")
    require_complete(sop, "fire", {}, resolution="duplicate")
    require_complete(
        sop, "fire", {"call": StepState.DONE, "warn": StepState.SKIPPED}, resolution="handled"
    )


def test_it_falls_back_to_the_default_checklist_for_other_types() -> None:
    sop = parse_procedures(SOP)
    assert [s.id for s in sop.steps_for("gas_leak")] == ["verify"]
    with pytest.raises(UnknownStep, match="no step 'call'"):
        find_step(sop, "gas_leak", "call")


def test_it_names_what_is_wrong_with_a_malformed_file() -> None:
    with pytest.raises(InvalidProcedures, match="needs an English label"):
        parse_procedures({"types": {"fire": {"steps": [{"id": "x", "zh": "只有中文"}]}}})
    with pytest.raises(InvalidProcedures, match="steps must be a list"):
        parse_procedures({"types": {"fire": {"steps": "call"}}})


def test_it_ships_a_checklist_in_english_and_chinese_for_every_incident_type() -> None:
    shipped = procedures()
    for incident_type in load_rules(None).incident_types:
        steps = shipped.steps_for(incident_type)
        assert steps, incident_type
        assert all({"en", "zh"} <= set(s.labels) for s in steps), incident_type


def test_it_hashes_passwords_with_a_salt_and_verifies_them() -> None:
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second  # a salt per hash
    assert first.startswith("scrypt$16384$8$1$")
    assert verify_password("correct horse", first)
    assert not verify_password("wrong horse", first)
    assert not verify_password("correct horse", "scrypt$garbage")
