"""`commonwatch bridge [--config FILE]`: run the MQTT bridge on its own."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path


def cmd_bridge(ns: argparse.Namespace) -> int:
    from commonwatch.ingest.bridge.service import main_bridge
    from commonwatch.runtime import config, logs
    from commonwatch.runtime.signals import stop_on_signals

    settings = config.from_env(getattr(ns, "data_dir", None))
    logs.setup("bridge", None)
    if not settings.database_url or not settings.nats_url:
        raise SystemExit(
            f"set {config.ENV_DATABASE_URL} and {config.ENV_NATS_URL}, "
            "or run `commonwatch up`, which starts this process for you"
        )

    async def run() -> None:
        await main_bridge(settings, stop_on_signals(), config_path=ns.config)

    asyncio.run(run())
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "bridge", help="read Frigate, Zigbee2MQTT, Home Assistant and OwnTracks over MQTT"
    )
    p.add_argument("--data-dir", type=Path, help="where embedded servers keep data")
    p.add_argument(
        "--config", type=Path, default=None,
        help="bridge TOML file (default: $COMMONWATCH_BRIDGE_CONFIG or <data dir>/bridge.toml)",
    )  # fmt: skip
    p.set_defaults(func=cmd_bridge)
