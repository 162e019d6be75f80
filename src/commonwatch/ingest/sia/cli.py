"""CLI: `commonwatch sia-receiver` and `commonwatch bench sia` (wired in by the top-level CLI)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from commonwatch.ingest.sia.config import DEFAULT_PORT

if TYPE_CHECKING:
    SubParsers = argparse._SubParsersAction[argparse.ArgumentParser]


def cmd_sia_receiver(ns: argparse.Namespace) -> int:
    from commonwatch.ingest.sia.receiver import main_sia
    from commonwatch.runtime import config, logs
    from commonwatch.runtime.hotpath import run_fast

    logs.setup("sia", None)
    settings = config.from_env(getattr(ns, "data_dir", None))

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await main_sia(settings, stop, host=ns.sia_host, port=ns.sia_port)

    run_fast(run())
    return 0


def cmd_bench_sia(ns: argparse.Namespace) -> int:
    from commonwatch.bench.sia import main as bench_main

    return bench_main(ns)


def register(sub: SubParsers) -> None:
    """`commonwatch sia-receiver`: the SIA DC-09 receiver (TCP and UDP on one port)."""
    p = sub.add_parser(
        "sia-receiver",
        help="receive SIA DC-09 alarm panels (TCP+UDP); needs COMMONWATCH_NATS_URL",
        description="Accounts come from COMMONWATCH_SIA_ACCOUNTS (ACCT[:KEY],...), the TOML "
        "file named by COMMONWATCH_SIA_CONFIG ([[sia.accounts]]) and /api/v1/sia/accounts.",
    )
    p.add_argument("--data-dir", type=Path, help="where embedded servers keep data")
    p.add_argument("--sia-host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--sia-port", type=int, default=DEFAULT_PORT, help="TCP and UDP port")
    p.set_defaults(func=cmd_sia_receiver)


def add_bench(bench_sub: SubParsers) -> None:
    """`commonwatch bench sia`: panels -> receiver -> JetStream -> ACK, measured."""
    p = bench_sub.add_parser("sia", help="SIA DC-09 receiver: frames/s acknowledged, ACK latency")
    p.add_argument("--data-dir", type=Path, help="where the bench's servers keep data")
    p.add_argument("--panels", type=int, default=200, help="concurrent TCP panel connections")
    p.add_argument("--seconds", type=float, default=15.0, help="length of the throughput phase")
    p.add_argument("--rate", type=float, default=500.0, help="frames/s of the latency phase")
    p.add_argument("--latency-seconds", type=float, default=10.0)
    p.add_argument("--encrypted", action="store_true", help="AES-128 frames (default clear)")
    p.add_argument("--json", type=Path, default=Path("bench-sia.json"))
    p.add_argument("--quick", action="store_true", help="a short run for a smoke test")
    p.set_defaults(func=cmd_bench_sia)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m commonwatch.ingest.sia")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    bench = sub.add_parser("bench", help="benchmarks")
    add_bench(bench.add_subparsers(dest="bench", required=True))
    ns = parser.parse_args(argv)
    try:
        return int(ns.func(ns))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
