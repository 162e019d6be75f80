"""GET /stream: incident and device changes as Server-Sent Events, resumable by Last-Event-ID."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Response, status

from commonwatch.api.deps import Reader, Res
from commonwatch.api.schemas import Problem, documented
from commonwatch.api.sse import ChangeStream, EventStreamResponse

router = APIRouter(tags=["stream"])

_DOC: dict[int | str, dict[str, Any]] = {
    **documented(Problem, 400, errors=(403,)),
    200: {
        "description": "text/event-stream: `id` is the stream sequence, `event` the change's "
        "kind (e.g. IncidentAcknowledged), `data` the change as JSON.",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
}


@router.get("/stream", summary="Live changes in your jurisdiction", responses=_DOC)
async def stream(
    caller: Reader,
    res: Res,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id: Annotated[int | None, Query(ge=0, description="Resume after this id")] = None,
) -> Response:
    after = _resume_point(last_event_id_header, last_event_id)
    changes = ChangeStream(
        res.nc, res.js, scope=caller.scope, after_seq=after, heartbeat_s=res.heartbeat_s
    )
    await changes.open()
    return EventStreamResponse(changes)


def _resume_point(header: str | None, query: int | None) -> int | None:
    """The header wins: a browser's EventSource sends it on reconnect, newer than the URL's."""
    if header is None or not header.strip():
        return query
    try:
        value = int(header)
    except ValueError:
        value = -1
    if value < 0:
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            detail=f"Last-Event-ID must be a stream sequence, got {header!r}",
        )
    return value
