"""The bench's JSON document, its targets with pass/fail, and the summary table."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from commonwatch.bench.latency import LatencyRun
from commonwatch.bench.phases import BacklogRun, PipelineRun
from commonwatch.bench.raw import CopyLimits, JetStreamLimits
from commonwatch.bench.watch import Sampler

TREND_POINTS = 150
# Other tenants of a shared machine using more than this share of it during a phase make its
# figures unreliable; the document says so, and the summary asks for a rerun.
NOISE_PCT = 15.0

# (key, what, unit, target, higher is better)
TARGETS = (
    ("sustained_events_per_s", "sustained, MQTT QoS 1 -> committed", "events/s", 10_000.0, True),
    ("backlog_events_per_s", "backlog drain", "events/s", 20_000.0, True),
    ("latency_p99_ms", "latency p99 at 2,000/s (device ts -> ack)", "ms", 100.0, False),
    ("pipeline_to_bare", "pipeline / bare pipeline", "ratio", 0.60, True),
)


@dataclass(frozen=True, slots=True)
class Results:
    metadata: dict[str, Any]
    copy: CopyLimits
    jetstream: JetStreamLimits
    bare: PipelineRun
    sustained: PipelineRun
    latency: LatencyRun
    latency_after_burst: LatencyRun
    backlog: BacklogRun
    correlation: dict[str, int]


def _ratio(a: float, b: float) -> float:
    return round(a / b, 3) if b else math.nan


def raw_limits(r: Results) -> dict[str, Any]:
    sus, bkl = r.sustained.events_per_s, r.backlog.events_per_s
    return {
        "jetstream": dataclasses.asdict(r.jetstream),
        "postgres_copy": dataclasses.asdict(r.copy),
        "bare_pipeline": dataclasses.asdict(r.bare),
        "ratio_pipeline_to_bare": _ratio(sus, r.bare.events_per_s),
        "ratios": {
            "sustained_to_bare_pipeline": _ratio(sus, r.bare.events_per_s),
            "sustained_to_jetstream_consume_ack_each": _ratio(
                sus, r.jetstream.consume_ack_each_per_s
            ),
            "sustained_to_jetstream_publish": _ratio(sus, r.jetstream.publish_per_s),
            "sustained_to_copy_batch_1000": _ratio(sus, r.copy.batch_1000_per_s),
            "backlog_to_jetstream_consume_ack_each": _ratio(
                bkl, r.jetstream.consume_ack_each_per_s
            ),
            "backlog_to_copy_batch_1000": _ratio(bkl, r.copy.batch_1000_per_s),
            "bare_to_jetstream_consume_ack_each": _ratio(
                r.bare.events_per_s, r.jetstream.consume_ack_each_per_s
            ),
        },
    }


def measured(r: Results) -> dict[str, float]:
    return {
        "sustained_events_per_s": r.sustained.events_per_s,
        "backlog_events_per_s": r.backlog.events_per_s,
        "latency_p99_ms": r.latency.to_acked.p99_ms,
        "pipeline_to_bare": _ratio(r.sustained.events_per_s, r.bare.events_per_s),
    }


def targets(r: Results) -> dict[str, dict[str, Any]]:
    values = measured(r)
    out = {}
    for key, what, unit, target, higher in TARGETS:
        value = values[key]
        ok = value >= target if higher else value <= target
        out[key] = {"what": what, "unit": unit, "target": target, "measured": value, "pass": ok}
    return out


def rss_trend(sampler: Sampler) -> dict[str, Any]:
    """Worker RSS over its first life, after warm-up and before the backlog: is memory flat?"""
    samples = sampler.worker
    life = [s for s in samples if s[1] not in ("warm-up", "backlog")]
    step = max(1, math.ceil(len(samples) / TREND_POINTS))
    trend: dict[str, Any] = {"columns": ["t_s", "phase", "worker_committed", "rss_mb"]}
    trend["samples"] = samples[::step]
    if life:
        sizes = [s[3] for s in life]
        trend.update(
            first_mb=sizes[0],
            last_mb=sizes[-1],
            max_mb=max(sizes),
            growth_mb=round(sizes[-1] - sizes[0], 1),
            events_between=life[-1][2] - life[0][2],
        )
    return trend


def no_loss(r: Results) -> bool:
    runs = (r.bare, r.sustained, r.backlog, r.latency, r.latency_after_burst)
    return all(x.committed_rows == x.events for x in runs)


def finite(value: Any) -> Any:
    """NaN (a percentile of nothing) as null: JSON has no NaN."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def document(r: Results, sampler: Sampler) -> dict[str, Any]:
    checks = targets(r)
    lossless = no_loss(r)
    sustained = dataclasses.asdict(r.sustained)
    sustained["lost"] = r.sustained.events - r.sustained.committed_rows
    return {
        "metadata": r.metadata,
        "sustained": sustained,
        "backlog_drain": dataclasses.asdict(r.backlog),
        "latency": dataclasses.asdict(r.latency),
        "latency_after_burst": dataclasses.asdict(r.latency_after_burst),
        "raw_limits": raw_limits(r),
        "peak_rss_mb": {k: round(v, 1) for k, v in sampler.peak.items()},
        "rss_trend": rss_trend(sampler),
        "correlation": r.correlation,
        "targets": checks,
        "no_loss": lossless,
        "pass": lossless and all(c["pass"] for c in checks.values()),
        "noise": noise(r),
    }


def noise(r: Results) -> dict[str, Any]:
    """How much of the machine other tenants used per phase; above the limit, rerun."""
    others = {
        "bare_pipeline": r.bare.machine["others_pct"],
        "latency": r.latency.machine["others_pct"],
        "sustained": r.sustained.machine["others_pct"],
        "latency_after_burst": r.latency_after_burst.machine["others_pct"],
        "backlog_drain": r.backlog.machine["others_pct"],
    }
    return {"others_pct": others, "limit_pct": NOISE_PCT, "noisy": max(others.values()) > NOISE_PCT}


def _fmt(value: float) -> str:
    if math.isnan(value):
        return "-"
    return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.0f}"


def summary(doc: dict[str, Any], console: Console) -> None:
    table = Table(title=f"bench ingest: {doc['metadata']['events']:,} events")
    for column in ("measure", "value", "target", ""):
        table.add_column(column, justify="right" if column in ("value", "target") else "left")
    for check in doc["targets"].values():
        mark = "[green]pass[/]" if check["pass"] else "[red]FAIL[/]"
        cmp = ">=" if check["unit"] != "ms" else "<="
        table.add_row(
            f"{check['what']} ({check['unit']})",
            _fmt(check["measured"]),
            f"{cmp} {_fmt(check['target'])}",
            mark,
        )
    raw = doc["raw_limits"]
    lat = doc["latency"]
    rows = (
        ("bare pipeline (events/s)", raw["bare_pipeline"]["events_per_s"]),
        ("JetStream lean publish (msg/s)", raw["jetstream"]["publish_per_s"]),
        ("JetStream raw pull, ack each (msg/s)", raw["jetstream"]["consume_ack_each_per_s"]),
        ("JetStream raw pull, ack all (msg/s)", raw["jetstream"]["consume_ack_all_per_s"]),
        ("COPY, batches of 1,000 (rows/s)", raw["postgres_copy"]["batch_1000_per_s"]),
        ("COPY, batches of 10,000 (rows/s)", raw["postgres_copy"]["batch_10000_per_s"]),
        (
            "latency p50 / p95 to ack (ms)",
            f"{lat['to_acked']['p50_ms']} / {lat['to_acked']['p95_ms']}",
        ),
        ("latency p99 to stored_at (ms)", lat["to_stored"]["p99_ms"]),
        (
            "latency p99 to ack, after the burst (ms)",
            doc["latency_after_burst"]["to_acked"]["p99_ms"],
        ),
        (
            "backlog incl. worker start (events/s)",
            doc["backlog_drain"]["events_per_s_incl_startup"],
        ),
        ("workers peak RSS, all partitions (MB)", doc["peak_rss_mb"].get("worker", math.nan)),
        ("all processes peak RSS (MB)", doc["peak_rss_mb"].get("all", math.nan)),
        ("workers RSS growth, first life (MB)", doc["rss_trend"].get("growth_mb", math.nan)),
    )
    for name, value in rows:
        table.add_row(name, value if isinstance(value, str) else _fmt(float(value)), "", "")
    console.print(table)
    verdict = "[green]no events lost[/]" if doc["no_loss"] else "[red]EVENTS LOST[/]"
    console.print(verdict)
    if doc["noise"]["noisy"]:
        console.print(
            f"[yellow]other processes used more than {NOISE_PCT:g} % of the machine during a "
            f"phase ({doc['noise']['others_pct']}): rerun on a quieter machine[/]"
        )
    for name, run in (
        ("sustained", doc["sustained"]),
        ("bare", raw["bare_pipeline"]),
        ("backlog", doc["backlog_drain"]),
    ):
        cpu = ", ".join(f"{k} {v:g}" for k, v in run["cpu_us_per_event"].items() if v)
        bound = run["cpu_bound_events_per_s"]
        others = run["machine"]["others_pct"]
        console.print(
            f"CPU µs/event, {name}: {cpu}; the cores could carry {bound:,.0f}/s; "
            f"other tenants used {others:g} % of the machine"
        )
