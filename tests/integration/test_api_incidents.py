"""Incidents over HTTP: the queue with its filters and pages, one incident with its timeline,
and what an operator does to it, each change committed with its outbox row."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import msgspec

from commonwatch.bus import subjects
from commonwatch.domain import events as domain_events
from tests.integration.conftest import Scene

API = "/api/v1/incidents"


async def queue_of(client: httpx.AsyncClient, **params: object) -> list[dict[str, object]]:
    response = await client.get(API, params=params)
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


async def test_it_lists_the_newest_incident_first_with_every_interval_timestamp(
    scene: Scene, operator_client: httpx.AsyncClient
) -> None:
    community = await scene.community()
    smoke, leak = await scene.device(community), await scene.device(community)
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    older = await scene.alarm(smoke, "smoke", at=t0)
    newer = await scene.alarm(leak, "water_leak", at=t0 + timedelta(seconds=30))
    items = await queue_of(operator_client, community=community)
    assert [i["id"] for i in items] == [newer, older]
    first = items[0]
    assert (first["type"], first["priority"], first["status"]) == ("water_leak", 3, "new")
    assert first["device_ids"] == [leak]
    assert first["event_types"] == ["water_leak"]
    for field in ("received_at", "acknowledged_at", "dispatched_at", "on_scene_at", "resolved_at",
                  "closed_at", "resolution", "event_count", "confidence", "escalation_level",
                  "community_id", "building_id", "jpath"):  # fmt: skip
        assert field in first
    assert first["jpath"] == f"{scene.city.north}.{community.replace('-', '_')}"


async def test_it_filters_the_queue_by_status_type_priority_and_time(
    scene: Scene, operator_client: httpx.AsyncClient
) -> None:
    community = await scene.community()
    t0 = datetime.now(UTC) - timedelta(hours=1)
    fire = await scene.alarm(await scene.device(community), "smoke", at=t0)
    leak = await scene.alarm(
        await scene.device(community), "water_leak", at=t0 + timedelta(minutes=1)
    )
    intrusion = await scene.alarm(
        await scene.device(community), "intrusion", at=t0 + timedelta(minutes=2)
    )
    ack = await operator_client.post(f"{API}/{leak}/acknowledge")
    assert ack.status_code == 200
    done = await operator_client.post(f"{API}/{intrusion}/resolve", json={"reason": "test"})
    assert done.status_code == 200

    async def ids(**params: object) -> set[object]:
        return {i["id"] for i in await queue_of(operator_client, community=community, **params)}

    assert await ids(status="new") == {fire}
    assert await ids(status="new,acknowledged") == {fire, leak}
    assert await ids(status=["new", "resolved"]) == {fire, intrusion}
    assert await ids(open="true") == {fire, leak}
    assert await ids(open="false") == {intrusion}
    assert await ids(type="fire") == {fire}
    assert await ids(priority="2,3") == {leak, intrusion}
    assert await ids(since=(t0 + timedelta(seconds=30)).isoformat()) == {leak, intrusion}


async def test_it_filters_by_jurisdiction_subtree(
    scene: Scene, admin_client: httpx.AsyncClient
) -> None:
    north, south = await scene.community("north"), await scene.community("south")
    in_north = await scene.alarm(await scene.device(north), "intrusion")
    in_south = await scene.alarm(await scene.device(south), "intrusion")
    whole_city = {i["id"] for i in await queue_of(admin_client, jurisdiction=scene.city.name)}
    north_only = {i["id"] for i in await queue_of(admin_client, jurisdiction=scene.city.north)}
    assert {in_north, in_south} <= whole_city
    assert in_north in north_only
    assert in_south not in north_only


async def test_it_shows_a_scoped_operator_only_their_jurisdiction(
    scene: Scene, operator_client: httpx.AsyncClient, outsider: httpx.AsyncClient
) -> None:
    community = await scene.community("north")
    incident = await scene.alarm(await scene.device(community), "panic")
    mine = {i["id"] for i in await queue_of(operator_client, community=community)}
    theirs = {i["id"] for i in await queue_of(outsider, community=community)}
    assert mine == {incident}
    assert theirs == set()
    assert (await outsider.get(f"{API}/{incident}")).status_code == 404
    assert (await outsider.post(f"{API}/{incident}/acknowledge")).status_code == 404


async def test_it_pages_through_the_queue_without_gaps_or_repeats(
    scene: Scene, operator_client: httpx.AsyncClient
) -> None:
    community = await scene.community()
    t0 = datetime.now(UTC) - timedelta(hours=2)
    opened = [
        await scene.alarm(await scene.device(community), "intrusion", at=t0 + timedelta(seconds=i))
        for i in range(5)
    ]
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, object] = {"community": community, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = (await operator_client.get(API, params=params)).json()
        seen += [i["id"] for i in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(opened))
    assert pages == 3


async def test_it_refuses_a_cursor_it_did_not_make_and_bad_filters(
    operator_client: httpx.AsyncClient,
) -> None:
    cursor = await operator_client.get(API, params={"cursor": "bm90LWEtY3Vyc29y"})
    status = await operator_client.get(API, params={"status": "burning"})
    limit = await operator_client.get(API, params={"limit": 501})
    assert cursor.status_code == 400
    assert "invalid cursor" in cursor.json()["detail"]
    assert status.status_code == 422
    assert "unknown status burning" in status.json()["detail"]
    assert limit.status_code == 422
    assert "limit" in limit.json()["detail"]


async def test_it_shows_an_incident_with_its_timeline_in_order_and_audits_the_read(
    scene: Scene, operator_client: httpx.AsyncClient, pg: asyncpg.Connection
) -> None:
    community = await scene.community()
    building = "tower-a"
    first, second = await scene.device(community, building), await scene.device(community, building)
    t0 = datetime.now(UTC) - timedelta(minutes=1)
    incident = await scene.alarm(first, "smoke", at=t0)
    assert await scene.alarm(second, "heat", at=t0 + timedelta(seconds=10)) == incident
    await operator_client.post(f"{API}/{incident}/notes", json={"text": "Caretaker on the way"})
    response = await operator_client.get(f"{API}/{incident}")
    assert response.status_code == 200
    detail = response.json()
    kinds = [entry["kind"] for entry in detail["timeline"]]
    assert kinds == ["IncidentOpened", "EventCorrelated", "NoteAdded"]
    assert detail["timeline"][2]["data"]["text"] == "Caretaker on the way"
    assert (detail["event_count"], detail["building_id"], detail["priority"]) == (2, building, 1)
    audited = await pg.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'incident.read' AND target = $1", incident
    )
    assert audited == 1


async def test_it_answers_404_for_an_unknown_incident(operator_client: httpx.AsyncClient) -> None:
    response = await operator_client.get(f"{API}/no-such-incident")
    assert response.status_code == 404
    assert response.json()["detail"] == "no incident 'no-such-incident'"


async def test_it_acknowledges_once_and_cancels_the_escalation_timer(
    scene: Scene, operator_client: httpx.AsyncClient, pg: asyncpg.Connection
) -> None:
    incident = await scene.alarm(await scene.device(await scene.community()), "smoke")
    pending = "SELECT count(*) FROM timers WHERE incident_id = $1 AND cancelled_at IS NULL"
    assert await pg.fetchval(pending, incident) == 1
    first = await operator_client.post(f"{API}/{incident}/acknowledge")
    again = await operator_client.post(f"{API}/{incident}/acknowledge")
    assert first.status_code == 200
    assert first.json()["status"] == "acknowledged"
    assert first.json()["acknowledged_at"] is not None
    assert await pg.fetchval(pending, incident) == 0
    assert again.status_code == 409
    assert again.json()["detail"] == (
        "an incident that is acknowledged can move to dispatched, resolved, not acknowledged"
    )


async def test_it_resolves_with_a_reason_in_the_same_transaction_as_its_outbox_row(
    scene: Scene, operator_client: httpx.AsyncClient, pg: asyncpg.Connection
) -> None:
    incident = await scene.alarm(await scene.device(await scene.community()), "water_leak")
    response = await operator_client.post(
        f"{API}/{incident}/resolve", json={"reason": "false_alarm", "note": "Condensation"}
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["resolution"]) == ("resolved", "false_alarm")
    row = await pg.fetchrow(
        "SELECT o.payload, o.jpath::text AS jpath, o.created_at, i.updated_at, "
        "i.jpath::text AS ipath "
        "FROM outbox o JOIN incidents i ON i.id = $2 WHERE o.subject = $1 "
        "ORDER BY o.id DESC LIMIT 1",
        subjects.change_subject("incident", incident),
        incident,
    )
    event = domain_events.decode(bytes(row["payload"]))
    assert isinstance(event, domain_events.IncidentResolved)
    assert (event.resolution, event.note, event.by) == ("false_alarm", "Condensation", event.by)
    assert event.by.startswith("north_desk-")
    assert row["jpath"] == row["ipath"]
    # now() is the transaction's start time: equal stamps mean one transaction.
    assert row["created_at"] == row["updated_at"]


async def test_it_refuses_to_resolve_twice(
    scene: Scene, operator_client: httpx.AsyncClient, pg: asyncpg.Connection
) -> None:
    incident = await scene.alarm(await scene.device(await scene.community()), "intrusion")
    await operator_client.post(f"{API}/{incident}/resolve", json={"reason": "handled"})
    outbox_rows = "SELECT count(*) FROM outbox WHERE subject = $1"
    before = await pg.fetchval(outbox_rows, subjects.change_subject("incident", incident))
    again = await operator_client.post(f"{API}/{incident}/resolve", json={"reason": "handled"})
    after = await pg.fetchval(outbox_rows, subjects.change_subject("incident", incident))
    assert again.status_code == 409
    assert "resolved can move to closed, not resolved" in again.json()["detail"]
    assert after == before  # the refused change left no trace


async def test_it_refuses_an_unknown_reason_and_an_overlong_note(
    scene: Scene, operator_client: httpx.AsyncClient
) -> None:
    incident = await scene.alarm(await scene.device(await scene.community()), "intrusion")
    reason = await operator_client.post(f"{API}/{incident}/resolve", json={"reason": "bored"})
    note = await operator_client.post(f"{API}/{incident}/notes", json={"text": "x" * 4001})
    assert reason.status_code == 422
    assert "body.reason" in reason.json()["detail"]
    assert note.status_code == 422
    assert "at most 4000 characters - at `body.text`" in note.json()["detail"]


async def test_it_records_who_wrote_a_note_on_the_timeline_and_outbox(
    scene: Scene, admin_client: httpx.AsyncClient, pg: asyncpg.Connection
) -> None:
    incident = await scene.alarm(await scene.device(await scene.community()), "fall")
    response = await admin_client.post(
        f"{API}/{incident}/notes", json={"text": "Neighbour has a key"}
    )
    actor = await pg.fetchval(
        "SELECT actor FROM incident_timeline WHERE incident_id = $1 AND kind = 'NoteAdded'",
        incident,
    )
    payload = await pg.fetchval(
        "SELECT payload FROM outbox WHERE subject = $1 ORDER BY id DESC LIMIT 1",
        subjects.change_subject("incident", incident),
    )
    assert response.status_code == 201
    assert response.json()["status"] == "new"
    assert actor == "admin"
    assert msgspec.json.decode(bytes(payload))["kind"] == "NoteAdded"
