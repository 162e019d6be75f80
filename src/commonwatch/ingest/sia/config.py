"""Per-account configuration: from a TOML file, the environment, and the sia_accounts table.

Later sources win: COMMONWATCH_SIA_ACCOUNTS, then the file named by COMMONWATCH_SIA_CONFIG,
then the table (managed through the API). An account number is 3-16 hex digits, kept upper case.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from commonwatch.domain.model import UNASSIGNED_PATH
from commonwatch.ingest.sia.crypto import BadKey, parse_key

ENV_ACCOUNTS = "COMMONWATCH_SIA_ACCOUNTS"
ENV_CONFIG = "COMMONWATCH_SIA_CONFIG"

DEFAULT_PORT = 8125
DEFAULT_SUPERVISION_S = 180.0  # EN 50136-1 grade 4 reporting time is about 3 minutes
DEFAULT_BEFORE_S = 40.0
DEFAULT_AFTER_S = 20.0
MAX_WINDOW_S = 86_400.0 * 30

_NUMBER = re.compile(r"[0-9A-Fa-f]{3,16}")
_IDENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:\-]{0,95}")


class ConfigError(ValueError):
    """An account that cannot be used as configured; the message says which and why."""


@dataclass(frozen=True, slots=True)
class Account:
    number: str
    key: str | None = None  # as configured: needed to decrypt, so it is kept as given
    supervision_s: float = DEFAULT_SUPERVISION_S  # 0: not supervised
    window_before_s: float = DEFAULT_BEFORE_S
    window_after_s: float = DEFAULT_AFTER_S
    community: str | None = None
    building: str | None = None
    device: str | None = None  # the panel's device id; default sia-<number>
    jpath: str = UNASSIGNED_PATH
    keys: tuple[bytes, ...] = field(default=(), repr=False, compare=False)

    @property
    def panel(self) -> str:
        return self.device or f"sia-{self.number}"

    def device_for(self, zone: str | None) -> str:
        return f"{self.panel}-z{zone}" if zone else self.panel

    def in_window(self, stamp: datetime, now: datetime) -> bool:
        ahead = (stamp - now).total_seconds()
        return -self.window_before_s <= ahead <= self.window_after_s


def account(number: str, **options: Any) -> Account:
    """A checked Account; raises ConfigError naming the account and the field."""
    if not _NUMBER.fullmatch(number):
        raise ConfigError(f"account {number[:20]!r}: a number is 3-16 hex digits")
    clean = number.upper()
    try:
        made = Account(clean, **options)
    except TypeError as exc:
        raise ConfigError(f"account {clean}: {exc}") from None
    _check(made)
    try:
        keys = parse_key(made.key) if made.key else ()
    except BadKey as exc:
        raise ConfigError(f"account {clean}: {exc}") from None
    object.__setattr__(made, "keys", keys)
    return made


def _check(made: Account) -> None:
    for name in ("supervision_s", "window_before_s", "window_after_s"):
        value = getattr(made, name)
        if not isinstance(value, int | float) or not 0 <= value <= MAX_WINDOW_S:
            raise ConfigError(f"account {made.number}: {name} must be 0..{MAX_WINDOW_S:.0f} s")
    for name in ("community", "building", "device"):
        value = getattr(made, name)
        if value is not None and not (isinstance(value, str) and _IDENT.fullmatch(value)):
            raise ConfigError(f"account {made.number}: {name} must match {_IDENT.pattern}")
    if made.building and not made.community:
        raise ConfigError(f"account {made.number}: a building needs its community")


DEFAULT = Account("000")  # the windows used for accounts nobody configured


def from_env_text(text: str) -> list[Account]:
    """`ACCT[:KEY],ACCT[:KEY]...` (a key may not contain a comma)."""
    out = []
    for item in (part.strip() for part in text.split(",")):
        if item:
            number, _, key = item.partition(":")
            out.append(account(number.strip(), key=key.strip() or None))
    return out


_TOML_FIELDS = frozenset(
    {"number", "key", "supervision_s", "window_before_s", "window_after_s", "community",
     "building", "device"}
)  # fmt: skip


def from_toml_text(text: str) -> list[Account]:
    """`[[sia.accounts]]` tables with number, key, supervision_s, community, building..."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"SIA config is not TOML: {exc}") from None
    section = document.get("sia", {})
    items = section.get("accounts", []) if isinstance(section, dict) else None
    if not isinstance(items, list):
        raise ConfigError("[[sia.accounts]] must be an array of tables")
    return [_from_table(i, item) for i, item in enumerate(items)]


def _from_table(index: int, item: object) -> Account:
    if not isinstance(item, dict) or not isinstance(item.get("number"), str | int):
        raise ConfigError(f"sia.accounts[{index}] needs a number")
    unknown = set(item) - _TOML_FIELDS
    if unknown:
        raise ConfigError(f"sia.accounts[{index}]: unknown fields {sorted(unknown)}")
    options = {k: v for k, v in item.items() if k != "number"}
    return account(str(item["number"]), **options)


def static_accounts(environ: Mapping[str, str] | None = None) -> list[Account]:
    """The environment's accounts, then the config file's: what the table does not manage."""
    env = os.environ if environ is None else environ
    accounts = from_env_text(env.get(ENV_ACCOUNTS, ""))
    path = env.get(ENV_CONFIG)
    if path:
        accounts += from_toml_text(Path(path).expanduser().read_text())
    return accounts


@dataclass(frozen=True, slots=True)
class Book:
    """Every configured account by number; swapped whole on reload, never edited."""

    accounts: Mapping[str, Account] = field(default_factory=dict)

    def get(self, number: str) -> Account | None:
        return self.accounts.get(number.upper())

    def __len__(self) -> int:
        return len(self.accounts)


def merge(*sources: Iterable[Account]) -> Book:
    """Later sources win for the same number."""
    merged: dict[str, Account] = {}
    for source in sources:
        merged.update((a.number, a) for a in source)
    return Book(merged)
