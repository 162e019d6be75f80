"""Who may call what: bearer tokens, roles, scopes, and the administrator's first key."""

from __future__ import annotations

import asyncio

import asyncpg
import httpx

from commonwatch.handlers.accounts import create_api_key, ensure_admin, hash_token, new_token
from commonwatch.storage import accounts
from tests.integration.conftest import TOKEN_CACHE_S, Api, Keys


async def test_it_turns_away_a_call_without_a_token(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get("/api/v1/incidents")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "bearer token" in response.json()["detail"]


async def test_it_turns_away_an_unknown_token(api: Api) -> None:
    async with httpx.AsyncClient(base_url=api.base_url) as client:
        response = await client.get(
            "/api/v1/incidents", headers={"Authorization": "Bearer not-a-real-token"}
        )
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["detail"] == "invalid, revoked or disabled bearer token"


async def test_it_lets_an_integration_key_hand_in_events_but_not_read(
    integration_client: httpx.AsyncClient,
) -> None:
    read = await integration_client.get("/api/v1/incidents")
    write = await integration_client.post(
        "/api/v1/events", json={"type": "heartbeat", "device": "gw-auth-1", "state": "info"}
    )
    assert read.status_code == 403
    assert "integration" in read.json()["detail"]
    assert write.status_code == 202


async def test_it_keeps_registry_changes_and_dead_letters_for_admins(
    operator_client: httpx.AsyncClient, admin_client: httpx.AsyncClient
) -> None:
    body = {"id": "c-forbidden", "name": "No", "parent": "somewhere"}
    assert (await operator_client.post("/api/v1/communities", json=body)).status_code == 403
    assert (await operator_client.get("/api/v1/dead-letters")).status_code == 403
    assert (await admin_client.get("/api/v1/dead-letters")).status_code == 200


async def test_it_answers_an_admin(admin_client: httpx.AsyncClient) -> None:
    response = await admin_client.get("/api/v1/incidents", params={"limit": 1})
    assert response.status_code == 200
    assert set(response.json()) == {"items", "next_cursor"}


async def test_it_stops_honouring_a_revoked_key_once_the_cache_expires(
    api: Api, pg: asyncpg.Connection, keys: Keys
) -> None:
    token = await create_api_key(pg, name="temp desk", role="operator", scope="")
    async with httpx.AsyncClient(
        base_url=api.base_url, headers={"Authorization": f"Bearer {token}"}
    ) as client:
        before = await client.get("/api/v1/communities")
        await accounts.revoke_credential(pg, hash_token(token))
        await asyncio.sleep(TOKEN_CACHE_S + 0.2)
        after = await client.get("/api/v1/communities")
    assert before.status_code == 200
    assert after.status_code == 401


async def test_it_stores_only_the_hash_of_a_token(pg: asyncpg.Connection, keys: Keys) -> None:
    stored = await pg.fetchval(
        "SELECT count(*) FROM credentials WHERE token_hash = $1", hash_token(keys.operator)
    )
    plain = await pg.fetchval(
        "SELECT count(*) FROM credentials WHERE position($1::bytea in token_hash) > 0",
        keys.operator.encode(),
    )
    assert (stored, plain) == (1, 0)


async def test_it_generates_an_admin_token_only_when_creating_the_admin(
    pg: asyncpg.Connection, keys: Keys
) -> None:
    # The session already has an admin: nothing is generated, a given token is added.
    extra = new_token()
    assert await ensure_admin(pg, token=None) is None
    assert await ensure_admin(pg, token=extra) is None
    principal = await accounts.principal_for(pg, hash_token(extra))
    assert principal is not None
    assert (principal.account_id, principal.role, principal.scope) == ("admin", "admin", "")


async def test_it_generates_and_returns_a_token_for_a_fresh_admin(
    pg: asyncpg.Connection, keys: Keys
) -> None:
    # A fresh install, inside a transaction rolled back at the end: the session keeps its admin.
    tx = pg.transaction()
    await tx.start()
    try:
        await pg.execute("DELETE FROM credentials WHERE account_id = 'admin'")
        await pg.execute("DELETE FROM accounts WHERE id = 'admin'")
        token = await ensure_admin(pg, token=None)
        found = await accounts.principal_for(pg, hash_token(token or ""))
    finally:
        await tx.rollback()
    assert token is not None
    assert len(token) >= 40
    assert found is not None
    assert (found.account_id, found.role) == ("admin", "admin")
