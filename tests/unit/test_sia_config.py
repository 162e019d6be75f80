"""SIA accounts from the environment and a TOML file, checked; later sources win."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from commonwatch.ingest.sia.config import (
    DEFAULT,
    ConfigError,
    account,
    from_env_text,
    from_toml_text,
    merge,
    static_accounts,
)

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def test_it_reads_accounts_from_the_environment() -> None:
    accounts = from_env_text(" 1234, abcd:0123456789abcdef ,,55AA:hex:" + "00" * 16)
    assert [a.number for a in accounts] == ["1234", "ABCD", "55AA"]
    assert accounts[0].keys == ()
    assert accounts[1].keys == (b"0123456789abcdef",)
    assert accounts[2].keys == (bytes(16),)


def test_it_reads_accounts_from_toml() -> None:
    accounts = from_toml_text(
        """
        [[sia.accounts]]
        number = "1234"
        key = "0123456789abcdef"
        supervision_s = 300
        community = "c-riverside"
        building = "b-7"

        [[sia.accounts]]
        number = 5678
        """
    )
    first, second = accounts
    assert (first.number, first.supervision_s, first.community, first.building) == (
        "1234", 300, "c-riverside", "b-7",
    )  # fmt: skip
    assert second.number == "5678" and second.supervision_s == 180


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("[[sia.accounts]]\nnumber = 'XYZ'", "hex digits"),
        ("[[sia.accounts]]\nkey = '0123456789abcdef'", "needs a number"),
        ("[[sia.accounts]]\nnumber = '1234'\nkye = 'x'", "unknown fields"),
        ("[[sia.accounts]]\nnumber = '1234'\nkey = 'short'", "AES key"),
        ("[[sia.accounts]]\nnumber = '1234'\nsupervision_s = -1", "supervision_s"),
        ("[[sia.accounts]]\nnumber = '1234'\nbuilding = 'b1'", "needs its community"),
        ("[[sia.accounts]]\nnumber = '1234'\ncommunity = 'a b'", "community"),
        ("sia = 1", "array of tables"),
        ("[sia]\naccounts = 3", "array of tables"),
        ("not toml [", "not TOML"),
    ],
)
def test_it_names_the_account_and_field_that_is_wrong(text: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        from_toml_text(text)


def test_it_lets_later_sources_win(tmp_path: Path) -> None:
    config = tmp_path / "sia.toml"
    config.write_text('[[sia.accounts]]\nnumber = "1234"\nsupervision_s = 60\n')
    env = {"COMMONWATCH_SIA_ACCOUNTS": "1234,9999", "COMMONWATCH_SIA_CONFIG": str(config)}
    book = merge(static_accounts(env))
    assert book.get("1234") is not None and book.get("1234").supervision_s == 60  # type: ignore[union-attr]
    assert book.get("9999") is not None and len(book) == 2


def test_it_names_devices_after_the_account_and_zone() -> None:
    plain, named = account("12ab"), account("12AB", device="gate-panel")
    assert plain.device_for(None) == "sia-12AB" and plain.device_for("3") == "sia-12AB-z3"
    assert named.device_for("3") == "gate-panel-z3"


def test_it_accepts_timestamps_within_the_window_only() -> None:
    assert DEFAULT.in_window(NOW - timedelta(seconds=40), NOW)
    assert DEFAULT.in_window(NOW + timedelta(seconds=20), NOW)
    assert not DEFAULT.in_window(NOW - timedelta(seconds=41), NOW)
    assert not DEFAULT.in_window(NOW + timedelta(seconds=21), NOW)
    wide = account("1234", window_before_s=600)
    assert wide.in_window(NOW - timedelta(seconds=599), NOW)
