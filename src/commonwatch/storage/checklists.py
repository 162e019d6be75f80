"""SOP checklist progress per incident, and the procedures file it is measured against.

Functions never commit.
"""

from __future__ import annotations

import functools
import os
import tomllib
from datetime import datetime
from importlib import resources
from pathlib import Path

import msgspec

from commonwatch.domain.sop import Procedures, StepState, parse_procedures
from commonwatch.storage.incidents import Conn

ENV_SOP = "COMMONWATCH_SOP"


@functools.cache
def _load(path: str | None) -> Procedures:
    if path:
        text = Path(path).read_text()
    else:
        text = (resources.files("commonwatch.rules") / "sop.toml").read_text()
    return parse_procedures(tomllib.loads(text))


def procedures() -> Procedures:
    """rules/sop.toml, or the copy COMMONWATCH_SOP names; read once per process."""
    return _load(os.environ.get(ENV_SOP) or None)


class StepRecord(msgspec.Struct, frozen=True, kw_only=True):
    step: str
    state: StepState
    reason: str | None
    actor: str
    at: datetime


async def progress(conn: Conn, incident_id: str) -> dict[str, StepState]:
    rows = await conn.fetch(
        "SELECT step, state FROM checklist_steps WHERE incident_id = $1", incident_id
    )
    return {r["step"]: StepState(r["state"]) for r in rows}


async def records(conn: Conn, incident_id: str) -> list[StepRecord]:
    rows = await conn.fetch(
        "SELECT step, state, reason, actor, at FROM checklist_steps WHERE incident_id = $1",
        incident_id,
    )
    return [
        StepRecord(
            step=r["step"], state=StepState(r["state"]), reason=r["reason"], actor=r["actor"],
            at=r["at"],
        )
        for r in rows
    ]  # fmt: skip


async def record(
    conn: Conn, *, incident_id: str, step: str, state: StepState, reason: str | None,
    actor: str, at: datetime, jpath: str,
) -> None:  # fmt: skip
    """The latest word on a step wins: done after skipped (or back) replaces the row."""
    await conn.execute(
        "INSERT INTO checklist_steps (incident_id, step, state, reason, actor, at, jpath) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7::ltree) ON CONFLICT (incident_id, step) DO UPDATE "
        "SET state = EXCLUDED.state, reason = EXCLUDED.reason, actor = EXCLUDED.actor, "
        "at = EXCLUDED.at",
        incident_id,
        step,
        state.value,
        reason,
        actor,
        at,
        jpath,
    )
