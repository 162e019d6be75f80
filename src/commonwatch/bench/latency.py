"""Latency at a fixed, moderate rate: from the device's timestamp to the committed row.

Two clocks bracket the commit. `stored_at` is clock_timestamp() when the row is inserted, a little
before the transaction commits (correlation and the device update still follow), so it is a
lower bound. The worker acknowledges only after commit; the bench sees that ack on the wire
($JS.ACK.>), which is an upper bound. All clocks are this machine's.

The ingest consumers ack cumulatively (AckPolicy.ALL), one consumer per partition: an event is
acknowledged by the first ack of its partition's consumer at or past its stream sequence.
"""

from __future__ import annotations

import bisect
import contextlib
import math
import time
from collections import defaultdict
from dataclasses import dataclass

from nats.aio.msg import Msg

from commonwatch.bench import traffic
from commonwatch.bench.phases import (
    INGEST_DURABLES,
    Ctx,
    PhaseSpec,
    events_counter,
    mqtt_phase,
    worker_check,
)
from commonwatch.bus import subjects
from commonwatch.bus.pull import ack_consumer, parse_ack_subject

ID_PREFIX = "lat"


class AckClock:
    """Sees the workers' acks on the wire ($JS.ACK.>): per consumer, when each sequence was
    first covered by a cumulative ack."""

    def __init__(self) -> None:
        self.acks: dict[str, list[tuple[int, float]]] = defaultdict(list)

    async def on_ack(self, msg: Msg) -> None:
        with contextlib.suppress(ValueError, IndexError):
            seq = parse_ack_subject(msg.subject)[0]
            acks = self.acks[ack_consumer(msg.subject)]
            if not acks or seq > acks[-1][0]:  # a lower one (a redelivery) covers nothing new
                acks.append((seq, time.time()))

    def acked_at(self, consumer: str, seq: int) -> float | None:
        acks = self.acks.get(consumer, [])
        i = bisect.bisect_left(acks, (seq, -math.inf))
        return acks[i][1] if i < len(acks) else None


def consumer_of(community: str, device: str) -> str:
    """The ingest consumer whose worker keeps this device's events."""
    subject = subjects.event_subject(community, device).encode()
    return subjects.ingest_consumer(subjects.partition_of(subject))


@dataclass(frozen=True, slots=True)
class Percentiles:
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


@dataclass(frozen=True, slots=True)
class LatencyRun:
    rate_per_s: float
    seconds: float
    events: int
    committed_rows: int
    achieved_rate_per_s: float
    to_stored: Percentiles
    to_acked: Percentiles
    acks_seen: int
    cpu_us_per_event: dict[str, float]
    machine: dict[str, float]


def percentiles(values: list[float]) -> Percentiles:
    """Nearest-rank percentiles, in milliseconds."""
    if not values:
        return Percentiles(math.nan, math.nan, math.nan, math.nan)
    ordered = sorted(values)

    def rank(p: float) -> float:
        return round(ordered[min(len(ordered) - 1, math.ceil(p * len(ordered)) - 1)], 2)

    return Percentiles(rank(0.50), rank(0.95), rank(0.99), round(ordered[-1], 2))


async def latency_phase(
    ctx: Ctx, rate: float, seconds: float, *, id_prefix: str = ID_PREFIX, label: str = ""
) -> LatencyRun:
    clock = AckClock()
    sub = await ctx.nc.subscribe("$JS.ACK.>", cb=clock.on_ack)
    count = int(rate * seconds)
    spec = PhaseSpec(
        f"latency at {rate:,.0f}/s{label}",
        traffic.EVENTS_TOPIC_ROOT,
        id_prefix,
        subjects.EVENTS_STREAM,
        INGEST_DURABLES,
        count,
        publishers=1,
        rate=rate,
    )
    try:
        run = await mqtt_phase(ctx, spec, events_counter(ctx, id_prefix), worker_check(ctx))
    finally:
        await sub.unsubscribe()
    ctx.worker_committed += count
    rows = await ctx.conn.fetch(
        "SELECT stream_seq, community_id, device_id, "
        "extract(epoch FROM device_ts)::float8 AS device, "
        "extract(epoch FROM stored_at)::float8 AS stored FROM events WHERE id LIKE $1",
        f"{id_prefix}%",
    )
    stored = [(r["stored"] - r["device"]) * 1000 for r in rows]
    acked = []
    for r in rows:
        at = clock.acked_at(consumer_of(r["community_id"], r["device_id"]), r["stream_seq"])
        if at is not None:
            acked.append((at - r["device"]) * 1000)
    return LatencyRun(
        rate_per_s=rate,
        seconds=seconds,
        events=count,
        committed_rows=run.committed_rows,
        achieved_rate_per_s=run.events_per_s,
        to_stored=percentiles(stored),
        to_acked=percentiles(acked),
        acks_seen=len(acked),
        cpu_us_per_event=run.cpu_us_per_event,
        machine=run.machine,
    )
