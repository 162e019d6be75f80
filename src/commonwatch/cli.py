"""The `commonwatch` command."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from commonwatch.runtime import config
from commonwatch.runtime.config import Settings

Command = Callable[[argparse.Namespace], int]


def _settings(ns: argparse.Namespace) -> Settings:
    return config.from_env(
        getattr(ns, "data_dir", None),
        http_host=getattr(ns, "http_host", None),
        http_port=getattr(ns, "http_port", None),
        mqtt_port=getattr(ns, "mqtt_port", None),
        nats_port=getattr(ns, "nats_port", None),
        rules_path=getattr(ns, "rules", None),
    )


def _rules(settings: Settings) -> object:
    from commonwatch.runtime.rules import load_rules

    return load_rules(settings.rules_path)


def _require_urls(settings: Settings) -> tuple[str, str]:
    if not settings.database_url or not settings.nats_url:
        raise SystemExit(
            f"set {config.ENV_DATABASE_URL} and {config.ENV_NATS_URL}, "
            "or run `commonwatch up`, which starts this process for you"
        )
    return settings.database_url, settings.nats_url


def cmd_up(ns: argparse.Namespace) -> int:
    from commonwatch.runtime.supervisor import Platform
    from commonwatch.runtime.up import up

    return up(Platform(_settings(ns), demo=ns.demo, sim_rate=ns.sim_rate, sia_port=ns.sia_port))


def cmd_worker(ns: argparse.Namespace) -> int:
    from commonwatch.runtime import logs
    from commonwatch.runtime.rules import load_rules
    from commonwatch.runtime.worker import main as worker_main

    settings = _settings(ns)
    logs.setup("worker", None)
    database_url, nats_url = _require_urls(settings)
    asyncio.run(worker_main(database_url, nats_url, load_rules(settings.rules_path), ns.partition))
    return 0


def cmd_api(ns: argparse.Namespace) -> int:
    from commonwatch.runtime import logs
    from commonwatch.runtime.processes import api_main
    from commonwatch.runtime.rules import load_rules

    settings = _settings(ns)
    logs.setup("api", None)
    database_url, nats_url = _require_urls(settings)
    rules = load_rules(settings.rules_path)
    main = api_main(database_url, nats_url, rules, host=settings.http_host, port=settings.http_port)
    asyncio.run(main)
    return 0


def cmd_simulate(ns: argparse.Namespace) -> int:
    from commonwatch.runtime import logs
    from commonwatch.runtime.processes import simulate_main

    settings = _settings(ns)
    logs.setup("simulator", None)
    database_url, _ = _require_urls(settings)
    asyncio.run(simulate_main(database_url, settings.mqtt_port, ns.rate))
    return 0


def cmd_dead_letters(ns: argparse.Namespace) -> int:
    from commonwatch.runtime.tools import show_dead_letters

    return asyncio.run(show_dead_letters(_settings(ns), limit=ns.limit, as_json=ns.json))


def cmd_migrate(ns: argparse.Namespace) -> int:
    from commonwatch.runtime.tools import run_migrations

    return asyncio.run(run_migrations(_settings(ns)))


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", type=Path, help="where embedded servers keep data")
    p.add_argument("--rules", type=Path, help="correlation rules file (TOML)")


def _ports(p: argparse.ArgumentParser, *, http: bool, mqtt: bool) -> None:
    if http:
        p.add_argument("--http-host", default=None, help="HTTP bind address (default 127.0.0.1)")
        p.add_argument("--http-port", type=int, default=None, help="HTTP port (default 8080)")
    if mqtt:
        p.add_argument("--mqtt-port", type=int, default=None, help="MQTT port (default 1883)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="commonwatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="run the platform (embedded PostgreSQL and NATS by default)")
    _common(up)
    _ports(up, http=True, mqtt=True)
    up.add_argument("--nats-port", type=int, default=None, help="NATS client port (default 4222)")
    up.add_argument("--demo", action="store_true", help="seed a demo district and simulate it")
    up.add_argument("--sia-port", type=int, default=None, help="SIA DC-09 TCP+UDP port (8125)")
    up.add_argument("--sim-rate", type=float, default=20.0, help="demo background events/s")
    up.set_defaults(func=cmd_up)

    w = sub.add_parser("worker", help="run an ingest worker (started by `up`, one per partition)")
    _common(w)
    w.add_argument("--partition", type=int, default=0, help="which ingest partition to consume")
    w.set_defaults(func=cmd_worker)

    api = sub.add_parser("api", help="run the HTTP API, outbox relay and timers (started by `up`)")
    _common(api)
    _ports(api, http=True, mqtt=False)
    api.set_defaults(func=cmd_api)

    sim = sub.add_parser("simulate", help="seed the demo district and publish its traffic")
    _common(sim)
    _ports(sim, http=False, mqtt=True)
    sim.add_argument("--rate", type=float, default=20.0, help="background events/s")
    sim.set_defaults(func=cmd_simulate)

    dl = sub.add_parser("dead-letters", help="show input that could not be used, with reasons")
    _common(dl)
    dl.add_argument("--limit", type=int, default=20)
    dl.add_argument("--json", action="store_true", help="print JSON lines")
    dl.set_defaults(func=cmd_dead_letters)

    mig = sub.add_parser("migrate", help="apply database migrations")
    _common(mig)
    mig.set_defaults(func=cmd_migrate)

    from commonwatch.bench import cli as bench_cli

    bench = sub.add_parser("bench", help="benchmarks that write JSON")
    bench_sub = bench.add_subparsers(dest="bench", required=True)
    bench_cli.register(bench_sub)
    for register in _extensions():
        register(sub)
    return parser


def _extensions() -> list[Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None]]:
    """Subcommands that packages register themselves; dispatch goes last (it extends others)."""
    from commonwatch import dispatch_cli
    from commonwatch.ingest.bridge import cli as bridge_cli
    from commonwatch.ingest.sia import cli as sia_cli
    from commonwatch.planning import cli as planning_cli
    from commonwatch.routing import cli as routing_cli

    return [
        bridge_cli.register,
        sia_cli.register,
        routing_cli.register,
        planning_cli.register,
        dispatch_cli.register,
    ]


def main(argv: Sequence[str] | None = None) -> int:
    ns = build_parser().parse_args(argv)
    func: Command = ns.func
    try:
        return func(ns)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
