"""Building the CLI parser must not import what only some commands need."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

import pytest

from commonwatch.runtime.lazy import lazy

HEAVY = ("numpy", "scipy", "osmium", "fastapi", "uvicorn", "playwright", "paho")


def test_parsing_a_worker_command_imports_no_heavy_library() -> None:
    code = (
        "import json, sys\n"
        "from commonwatch import cli\n"
        "cli.build_parser().parse_args(['worker'])\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_lazy_refuses_a_target_without_a_function() -> None:
    with pytest.raises(ValueError, match="module:function"):
        lazy("commonwatch.runtime.lazy")


def test_lazy_command_runs_with_the_namespace() -> None:
    ns = argparse.Namespace(data_dir=None)
    command = lazy("tests.unit.test_cli_lazy:_answer")
    assert command.__name__ == "_answer"
    assert command(ns) == 42


def _answer(ns: argparse.Namespace) -> int:
    return 42 if ns.data_dir is None else 1
