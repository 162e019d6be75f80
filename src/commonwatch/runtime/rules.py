"""Loads the correlation rules: the shipped default, or the file the operator points at."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from commonwatch.domain.rules import Rules, parse_rules


def default_rules_text() -> str:
    return (resources.files("commonwatch") / "rules" / "default.toml").read_text()


def load_rules(path: Path | None) -> Rules:
    return parse_rules(path.read_bytes() if path else default_rules_text())
