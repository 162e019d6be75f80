"""Link supervision per account (EN 50136-1 "reporting time"): which panels have gone silent.

Pure: the caller passes the time, publishes the events and stores the state. Any accepted
message, NULL link tests included, refreshes an account. After a restart nothing is declared
failed before min(window, grace) has passed: panels need a moment to reach us again, and their
silence while we were down is not theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from commonwatch.domain.model import UNASSIGNED_PATH
from commonwatch.ingest.sia.config import Account, Book

DEFAULT_GRACE_S = 60.0


@dataclass(frozen=True, slots=True)
class Watch:
    """One account's supervision state as stored."""

    account: str
    last_seen: datetime
    failed_since: datetime | None
    jpath: str = UNASSIGNED_PATH


@dataclass(slots=True)
class _State:
    last_seen: datetime
    failed_since: datetime | None = None
    dirty: bool = True


@dataclass(frozen=True, slots=True)
class Overdue:
    account: Account
    last_seen: datetime


class Supervisor:
    def __init__(self, started: datetime, *, grace_s: float = DEFAULT_GRACE_S) -> None:
        self._started = started
        self._grace_s = grace_s
        self._states: dict[str, _State] = {}

    def restore(self, watches: list[Watch]) -> None:
        """The stored state; what this process has seen itself is newer and stays."""
        for w in watches:
            self._states.setdefault(w.account, _State(w.last_seen, w.failed_since, dirty=False))

    def track(self, book: Book, now: datetime) -> None:
        """Start the clock for newly supervised accounts; forget the others."""
        supervised = {n for n, a in book.accounts.items() if a.supervision_s > 0}
        for number in supervised - self._states.keys():
            self._states[number] = _State(now)
        for number in self._states.keys() - supervised:
            del self._states[number]

    def failed(self, number: str) -> bool:
        state = self._states.get(number)
        return state is not None and state.failed_since is not None

    def seen(self, number: str, now: datetime) -> None:
        state = self._states.get(number)
        if state is not None:
            state.last_seen = max(state.last_seen, now)
            state.failed_since = None
            state.dirty = True

    def overdue(self, book: Book, now: datetime) -> list[Overdue]:
        """Supervised accounts silent for longer than their window, not yet reported."""
        out = []
        for number, state in self._states.items():
            item = book.get(number)
            if item is None or state.failed_since is not None:
                continue
            window = timedelta(seconds=item.supervision_s)
            settled = now - self._started >= min(window, timedelta(seconds=self._grace_s))
            if settled and now - state.last_seen > window:
                out.append(Overdue(item, state.last_seen))
        return out

    def mark_failed(self, number: str, at: datetime, last_seen: datetime) -> bool:
        """Record the failure just published; False when the account spoke meanwhile (the
        caller then publishes the restore at once)."""
        state = self._states.get(number)
        if state is None or state.last_seen != last_seen:
            return False
        state.failed_since = at
        state.dirty = True
        return True

    def take_dirty(self, book: Book) -> list[Watch]:
        """Changed states to store; they count as stored from now on."""
        out = []
        for number, state in self._states.items():
            if state.dirty:
                state.dirty = False
                item = book.get(number)
                jpath = item.jpath if item else UNASSIGNED_PATH
                out.append(Watch(number, state.last_seen, state.failed_since, jpath))
        return out

    def mark_dirty(self, watches: list[Watch]) -> None:
        """Storing failed: try these again next time."""
        for w in watches:
            state = self._states.get(w.account)
            if state is not None:
                state.dirty = True
