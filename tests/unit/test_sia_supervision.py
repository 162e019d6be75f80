"""Link supervision: a supervised panel silent past its window is reported once, and restored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from commonwatch.ingest.sia.config import account, merge
from commonwatch.ingest.sia.supervision import Supervisor, Watch

T0 = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
BOOK = merge([account("1234", supervision_s=180), account("5678", supervision_s=0)])


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_it_reports_a_silent_account_once_after_its_window() -> None:
    sup = Supervisor(T0)
    sup.track(BOOK, T0)
    assert sup.overdue(BOOK, at(180)) == []
    (due,) = sup.overdue(BOOK, at(181))
    assert (due.account.number, due.last_seen) == ("1234", T0)
    assert sup.mark_failed("1234", at(181), T0)
    assert sup.failed("1234") and sup.overdue(BOOK, at(500)) == []


def test_it_never_supervises_an_account_with_a_zero_window() -> None:
    sup = Supervisor(T0)
    sup.track(BOOK, T0)
    assert [d.account.number for d in sup.overdue(BOOK, at(10_000))] == ["1234"]


def test_it_clears_the_failure_when_the_account_speaks_again() -> None:
    sup = Supervisor(T0)
    sup.track(BOOK, T0)
    sup.mark_failed("1234", at(181), T0)
    sup.seen("1234", at(200))
    assert not sup.failed("1234")
    assert sup.overdue(BOOK, at(380)) == [] and len(sup.overdue(BOOK, at(381))) == 1


def test_it_does_not_mark_failed_an_account_heard_during_the_report() -> None:
    sup = Supervisor(T0)
    sup.track(BOOK, T0)
    (due,) = sup.overdue(BOOK, at(181))
    sup.seen("1234", at(182))
    assert not sup.mark_failed("1234", at(183), due.last_seen)
    assert not sup.failed("1234")


def test_it_gives_panels_a_grace_period_after_a_restart() -> None:
    sup = Supervisor(at(3600), grace_s=60)
    sup.restore([Watch("1234", T0, None)])
    sup.track(BOOK, at(3600))
    assert sup.overdue(BOOK, at(3659)) == []
    assert len(sup.overdue(BOOK, at(3660))) == 1


def test_it_keeps_a_failure_raised_before_the_restart() -> None:
    sup = Supervisor(at(3600))
    sup.restore([Watch("1234", T0, at(181))])
    sup.track(BOOK, at(3600))
    assert sup.failed("1234") and sup.overdue(BOOK, at(7200)) == []


def test_it_hands_over_what_changed_for_storage_once() -> None:
    sup = Supervisor(T0)
    sup.track(BOOK, T0)
    assert [w.account for w in sup.take_dirty(BOOK)] == ["1234"]
    assert sup.take_dirty(BOOK) == []
    sup.seen("1234", at(5))
    (watch,) = sup.take_dirty(BOOK)
    assert watch.last_seen == at(5)
    sup.mark_dirty([watch])
    assert len(sup.take_dirty(BOOK)) == 1


def test_it_forgets_accounts_no_longer_configured() -> None:
    sup = Supervisor(T0)
    sup.track(BOOK, T0)
    sup.track(merge([]), at(1))
    assert sup.overdue(BOOK, at(10_000)) == []
