"""The API app with the console mounted, for the console's own bench and browser tests.

`commonwatch up` serves the console once api/app.py includes its routers; until then (and for
tests that build the app themselves) this adds them, and never twice.
"""

from __future__ import annotations

from fastapi import FastAPI

from commonwatch.api.routes import console, session
from commonwatch.domain.rules import Rules

API_PREFIX = "/api/v1"


def has_console(app: FastAPI) -> bool:
    return any(getattr(route, "path", None) == "/app/{name}" for route in app.routes)


def mount_console(app: FastAPI) -> FastAPI:
    if not has_console(app):
        app.include_router(session.router, prefix=API_PREFIX)
        app.include_router(console.router, prefix=API_PREFIX)
        app.include_router(console.shell_router)
    return app


def console_app(*, database_url: str, nats_url: str, rules: Rules) -> FastAPI:
    from commonwatch.api.app import create_app

    return mount_console(create_app(database_url=database_url, nats_url=nats_url, rules=rules))
