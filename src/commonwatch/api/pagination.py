"""Opaque cursors: base64url of the sort key of the last item a page showed."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any, cast

import msgspec
from fastapi import HTTPException, status

_IncidentKey = tuple[datetime, str]


def _encode(value: object) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(value)).decode().rstrip("=")


def _decode(cursor: str, kind: Any) -> object:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=kind)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST, detail="invalid cursor: pass next_cursor back unchanged"
        ) from None


def incident_cursor(opened_at: datetime, incident_id: str) -> str:
    return _encode((opened_at, incident_id))


def incident_after(cursor: str | None) -> _IncidentKey | None:
    if cursor is None:
        return None
    return cast(_IncidentKey, _decode(cursor, _IncidentKey))


def id_cursor(last_id: str) -> str:
    return _encode(last_id)


def id_after(cursor: str | None) -> str:
    if cursor is None:
        return ""
    value = _decode(cursor, str)
    assert isinstance(value, str)
    return value
