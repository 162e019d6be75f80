"""Unit fixtures: the shipped rules. Everything else is a plain builder in factories.py."""

from __future__ import annotations

import pytest

from commonwatch.domain.rules import Rules
from commonwatch.runtime.rules import load_rules


@pytest.fixture(scope="session")
def default_rules() -> Rules:
    return load_rules(None)
