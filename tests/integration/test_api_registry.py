"""Communities and devices: placed in the jurisdiction tree, seen only within one's scope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from commonwatch.handlers.accounts import create_api_key
from tests.integration.conftest import Api, City, Scene, unique


async def test_it_places_a_community_under_its_district_and_creates_the_missing_jurisdictions(
    admin_client: httpx.AsyncClient, pg: asyncpg.Connection
) -> None:
    city = unique("newtown").replace("-", "_")
    body = {"id": "Harbour-View", "name": "Harbour View", "parent": f"{city}.east",
            "lat": 22.3, "lon": 114.2}  # fmt: skip
    response = await admin_client.post("/api/v1/communities", json=body)
    rows = await pg.fetch(
        "SELECT path::text AS path, kind FROM jurisdictions WHERE path <@ $1::ltree ORDER BY path",
        city,
    )
    assert response.status_code == 201, response.text
    assert response.json()["jpath"] == f"{city}.east.harbour_view"
    assert [(r["path"], r["kind"]) for r in rows] == [
        (city, "city"),
        (f"{city}.east", "district"),
        (f"{city}.east.harbour_view", "community"),
    ]
    again = await admin_client.post("/api/v1/communities", json=body)
    assert again.status_code == 409
    assert again.json()["detail"] == "community 'Harbour-View' exists"


async def test_it_refuses_a_community_without_a_valid_parent(
    admin_client: httpx.AsyncClient,
) -> None:
    body = {"id": unique("c"), "name": "Nowhere", "parent": "a.b.c"}
    response = await admin_client.post("/api/v1/communities", json=body)
    assert response.status_code == 422
    assert "body.parent" in response.json()["detail"]


async def test_it_shows_communities_only_within_scope(
    scene: Scene, operator_client: httpx.AsyncClient, outsider: httpx.AsyncClient
) -> None:
    north = await scene.community("north")
    mine = [c["id"] for c in (await operator_client.get("/api/v1/communities")).json()["items"]]
    theirs = [c["id"] for c in (await outsider.get("/api/v1/communities")).json()["items"]]
    assert north in mine
    assert north not in theirs
    assert all(c.startswith("c-north") for c in mine)
    assert (await operator_client.get(f"/api/v1/communities/{north}")).json()["id"] == north
    assert (await outsider.get(f"/api/v1/communities/{north}")).status_code == 404


async def test_it_places_a_device_in_its_building(
    scene: Scene, admin_client: httpx.AsyncClient
) -> None:
    community = await scene.community()
    body = {"id": unique("cam"), "kind": "camera", "community_id": community,
            "building_id": "Block-7", "building_name": "Block 7", "name": "Lobby"}  # fmt: skip
    response = await admin_client.post("/api/v1/devices", json=body)
    assert response.status_code == 201, response.text
    device = response.json()
    assert device["jpath"] == f"{scene.city.north}.{community.replace('-', '_')}.block_7"
    assert (device["building_id"], device["name"]) == ("Block-7", "Lobby")
    unknown = await admin_client.post(
        "/api/v1/devices", json={**body, "id": unique("cam"), "community_id": "c-none"}
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == "no community 'c-none'"


async def test_it_shows_a_device_with_its_active_alarms_and_when_it_was_last_seen(
    scene: Scene, operator_client: httpx.AsyncClient
) -> None:
    device = await scene.device(await scene.community())
    at = datetime.now(UTC) - timedelta(seconds=20)
    await scene.alarm(device, "water_leak", at=at)
    await scene.alarm(device, "tamper", at=at + timedelta(seconds=1))
    await scene.alarm(device, "tamper", at=at + timedelta(seconds=2), state="restore")
    response = await operator_client.get(f"/api/v1/devices/{device}")
    assert response.status_code == 200
    body = response.json()
    assert [a["event_type"] for a in body["alarms"]] == ["water_leak"]
    assert datetime.fromisoformat(body["last_seen_at"]) == at + timedelta(seconds=2)


async def test_it_pages_devices_by_id_within_a_community(
    scene: Scene, operator_client: httpx.AsyncClient, outsider: httpx.AsyncClient
) -> None:
    community = await scene.community()
    made = sorted([await scene.device(community) for _ in range(3)])
    first = (
        await operator_client.get("/api/v1/devices", params={"community": community, "limit": 2})
    ).json()
    rest = (
        await operator_client.get(
            "/api/v1/devices",
            params={"community": community, "limit": 2, "cursor": first["next_cursor"]},
        )
    ).json()
    hidden = (await outsider.get("/api/v1/devices", params={"community": community})).json()
    assert [d["id"] for d in first["items"] + rest["items"]] == made
    assert rest["next_cursor"] is None
    assert hidden["items"] == []
    assert (await outsider.get(f"/api/v1/devices/{made[0]}")).status_code == 404


async def test_it_lets_a_district_admin_create_only_within_their_district(
    api: Api, city: City, pg: asyncpg.Connection
) -> None:
    token = await create_api_key(pg, name="north admin", role="admin", scope=city.north)
    async with httpx.AsyncClient(
        base_url=api.base_url, headers={"Authorization": f"Bearer {token}"}
    ) as district_admin:
        outside = await district_admin.post(
            "/api/v1/communities",
            json={"id": unique("c"), "name": "Elsewhere", "parent": city.south},
        )
        inside = await district_admin.post(
            "/api/v1/communities",
            json={"id": unique("c"), "name": "Here", "parent": city.north},
        )
    assert outside.status_code == 403
    assert "outside your jurisdiction" in outside.json()["detail"]
    assert inside.status_code == 201
