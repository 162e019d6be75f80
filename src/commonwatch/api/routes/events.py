"""POST /events: device events in the native format, made durable in JetStream before we answer."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import msgspec
import nats.errors
from fastapi import APIRouter, HTTPException, Request, Response, status
from nats.aio.client import Client
from nats.js import JetStreamContext

from commonwatch.api.deps import Ingestor, Res
from commonwatch.api.schemas import Accepted, documented, events_request_body, json_response
from commonwatch.bus import subjects
from commonwatch.ingest.native.parse import EventIn, ParseError, decode_many, device_time

router = APIRouter(tags=["events"])

MAX_BODY = 4 * 1024 * 1024
PUBLISH_TIMEOUT_S = 5.0


@router.post(
    "/events",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Hand in one event or a batch of up to 1000",
    responses=documented(Accepted, 202, errors=(400, 403, 413, 422, 503)),
    openapi_extra=events_request_body(),
)
async def post_events(request: Request, caller: Ingestor, res: Res) -> Response:
    body = await _read_body(request)
    items = parse_events(body)
    received = datetime.now(UTC)
    stamped = [_stamp(item, received) for item in items]
    await _publish(res.nc, res.js, stamped)
    return json_response(Accepted(ids=[e.id or "" for e in stamped]), status.HTTP_202_ACCEPTED)


async def _read_body(request: Request) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise HTTPException(
                status.HTTP_413_CONTENT_TOO_LARGE, detail=f"body larger than {MAX_BODY} bytes"
            )
        chunks.append(chunk)
    return b"".join(chunks)


def parse_events(body: bytes) -> list[EventIn]:
    """The events in `body`, or an HTTP error naming the field: 400 not JSON, 422 not events."""
    try:
        items = decode_many(body)
    except ParseError as exc:
        raise HTTPException(_status_of(exc), detail=exc.reason) from None
    batch = body.lstrip()[:1] == b"["
    for index, item in enumerate(items):
        _check(item, f"$[{index}]" if batch else "$")
    return items


def _status_of(exc: ParseError) -> int:
    # decode_many hides msgspec's exception; its context still tells syntax from schema.
    cause = exc.__context__
    malformed = isinstance(cause, msgspec.DecodeError) and not isinstance(
        cause, msgspec.ValidationError
    )
    return status.HTTP_400_BAD_REQUEST if malformed else status.HTTP_422_UNPROCESSABLE_CONTENT


def _check(item: EventIn, at: str) -> None:
    if not item.device:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"Object missing required field `device` - at `{at}`",
        )
    try:
        device_time(item.ts, datetime.now(UTC))
    except ParseError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=exc.reason.replace("`$", f"`{at}", 1)
        ) from None


def _stamp(item: EventIn, received: datetime) -> EventIn:
    return msgspec.structs.replace(
        item, id=item.id or str(uuid.uuid4()), received=received, source="http"
    )


async def _publish(nc: Client, js: JetStreamContext, events: list[EventIn]) -> None:
    """Publish all, wait for every JetStream ack: only then is each event durable."""
    if not nc.is_connected:
        # While reconnecting the client would buffer and we would wait out the timeout.
        raise _unavailable("not connected")
    pending = [
        js.publish(
            subjects.event_subject(e.community or "_", e.device or ""),
            msgspec.json.encode(e),
            timeout=PUBLISH_TIMEOUT_S,
            headers={"Nats-Msg-Id": e.id or ""},
        )
        for e in events
    ]
    results = await asyncio.gather(*pending, return_exceptions=True)
    failed = [r for r in results if isinstance(r, BaseException)]
    if failed:
        raise _unavailable(_describe(failed[0]))


def _unavailable(reason: str) -> HTTPException:
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail=f"event bus unavailable ({reason}); retry with the same ids",
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, nats.errors.TimeoutError | asyncio.TimeoutError):
        return "no acknowledgement in time"
    return str(exc) or type(exc).__name__
