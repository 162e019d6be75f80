"""Imported CAD calls and unit responses (tables cad_calls, cad_responses). Never commits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from commonwatch.cad.sffd import CadCall, CadResponse
from commonwatch.storage.incidents import Conn

_UPSERT_CALL = """
INSERT INTO cad_calls (id, format, call_number, call_type, incident_type, jpath, lat, lon,
    received_at, answered_at, dispatched_at, en_route_at, on_scene_at)
VALUES ($1, $2, $3, $4, $5, $6::ltree, $7, $8, $9, $10, $11, $12, $13)
ON CONFLICT (id) DO UPDATE SET
    call_type = EXCLUDED.call_type, incident_type = EXCLUDED.incident_type,
    jpath = EXCLUDED.jpath, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
    received_at = EXCLUDED.received_at, answered_at = EXCLUDED.answered_at,
    dispatched_at = EXCLUDED.dispatched_at, en_route_at = EXCLUDED.en_route_at,
    on_scene_at = EXCLUDED.on_scene_at, imported_at = now()
"""

_UPSERT_RESPONSE = """
INSERT INTO cad_responses (call_id, unit_id, unit_type, sequence, dispatched_at, en_route_at,
    on_scene_at, available_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (call_id, unit_id) DO UPDATE SET
    unit_type = EXCLUDED.unit_type, sequence = EXCLUDED.sequence,
    dispatched_at = EXCLUDED.dispatched_at, en_route_at = EXCLUDED.en_route_at,
    on_scene_at = EXCLUDED.on_scene_at, available_at = EXCLUDED.available_at
"""


async def upsert_calls(conn: Conn, calls: Sequence[CadCall]) -> None:
    """Insert or refresh: importing the same file again changes nothing."""
    await conn.executemany(
        _UPSERT_CALL,
        [
            (
                c.id,
                c.format,
                c.call_number,
                c.call_type,
                c.incident_type,
                c.jpath,
                c.lat,
                c.lon,
                c.received_at,
                c.answered_at,
                c.dispatched_at,
                c.en_route_at,
                c.on_scene_at,
            )
            for c in calls
        ],
    )
    await conn.executemany(
        _UPSERT_RESPONSE,
        [
            (
                c.id,
                r.unit_id,
                r.unit_type,
                r.sequence,
                r.dispatched_at,
                r.en_route_at,
                r.on_scene_at,
                r.available_at,
            )
            for c in calls
            for r in c.responses
        ],
    )


async def count_calls(conn: Conn, fmt: str) -> tuple[int, int]:
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM cad_calls WHERE format = $1) AS calls, "
        "(SELECT count(*) FROM cad_responses r JOIN cad_calls c ON c.id = r.call_id "
        "WHERE c.format = $1) AS responses",
        fmt,
    )
    assert row is not None
    return int(row["calls"]), int(row["responses"])


async def load_calls(conn: Conn, fmt: str) -> list[CadCall]:
    """Every imported call of a format with its responses, oldest first."""
    responses: dict[str, list[CadResponse]] = defaultdict(list)
    for r in await conn.fetch(
        "SELECT r.* FROM cad_responses r JOIN cad_calls c ON c.id = r.call_id "
        "WHERE c.format = $1 ORDER BY r.call_id, r.unit_id",
        fmt,
    ):
        responses[r["call_id"]].append(
            CadResponse(
                r["unit_id"],
                r["unit_type"],
                r["sequence"],
                r["dispatched_at"],
                r["en_route_at"],
                r["on_scene_at"],
                r["available_at"],
            )
        )
    rows = await conn.fetch(
        "SELECT * FROM cad_calls WHERE format = $1 ORDER BY received_at, id", fmt
    )
    return [
        CadCall(
            r["id"],
            r["format"],
            r["call_number"],
            r["call_type"],
            r["incident_type"],
            r["jpath"],
            r["lat"],
            r["lon"],
            r["received_at"],
            r["answered_at"],
            tuple(responses[r["id"]]),
        )
        for r in rows
    ]
