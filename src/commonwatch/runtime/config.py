"""Settings from the environment and the command line, resolved once at start."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import platformdirs

ENV_DATABASE_URL = "COMMONWATCH_DATABASE_URL"
ENV_NATS_URL = "COMMONWATCH_NATS_URL"
ENV_DATA_DIR = "COMMONWATCH_DATA_DIR"
ENV_ADMIN_TOKEN = "COMMONWATCH_ADMIN_TOKEN"
ENV_RULES = "COMMONWATCH_RULES"


def default_data_dir() -> Path:
    return Path(os.environ.get(ENV_DATA_DIR) or platformdirs.user_data_dir("commonwatch"))


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str | None = None
    nats_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    mqtt_port: int = 1883
    nats_port: int = 4222
    rules_path: Path | None = None
    admin_token: str | None = None

    @property
    def embedded_database(self) -> bool:
        return self.database_url is None

    @property
    def embedded_nats(self) -> bool:
        return self.nats_url is None

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    def with_urls(self, *, database_url: str, nats_url: str) -> Settings:
        return replace(self, database_url=database_url, nats_url=nats_url)


def from_env(data_dir: Path | None = None, **overrides: object) -> Settings:
    rules = os.environ.get(ENV_RULES)
    base = Settings(
        data_dir=(data_dir or default_data_dir()).expanduser().resolve(),
        database_url=os.environ.get(ENV_DATABASE_URL) or None,
        nats_url=os.environ.get(ENV_NATS_URL) or None,
        rules_path=Path(rules) if rules else None,
        admin_token=os.environ.get(ENV_ADMIN_TOKEN) or None,
    )
    clean = {k: v for k, v in overrides.items() if v is not None}
    return replace(base, **clean)  # type: ignore[arg-type]


def child_env(settings: Settings) -> dict[str, str]:
    """Environment for the platform's own processes: they use the servers the parent started."""
    env = dict(os.environ)
    env[ENV_DATA_DIR] = str(settings.data_dir)
    if settings.database_url:
        env[ENV_DATABASE_URL] = settings.database_url
    if settings.nats_url:
        env[ENV_NATS_URL] = settings.nats_url
    if settings.rules_path:
        env[ENV_RULES] = str(settings.rules_path)
    return env
