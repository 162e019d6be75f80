"""Frigate messages to Commonwatch events, evidence links and availability changes.

Ids are deterministic (frigate:<frigate id>:<event type>): Frigate repeats an object in every
update, and the same id makes every repeat one stored event.
"""

from __future__ import annotations

from datetime import UTC, datetime

from commonwatch.domain.model import EventState
from commonwatch.ingest.bridge.changes import Target, change_events, flag_changes, merge
from commonwatch.ingest.bridge.outputs import Context, Evidence, Native, Output, StateLookup
from commonwatch.ingest.frigate import mapping, parse
from commonwatch.ingest.frigate.config import FrigateConfig
from commonwatch.ingest.frigate.parse import Kind, ReviewItem, TrackedObject
from commonwatch.ingest.native.parse import device_time

SOURCE = "frigate"


class FrigateTranslator:
    source = SOURCE

    def __init__(self, config: FrigateConfig) -> None:
        self.config = config
        self.prefix = config.topic_prefix.strip("/")

    def claims(self, topic: str) -> bool:
        return topic.startswith(self.prefix + "/")

    def translate(
        self, topic: str, payload: bytes, ctx: Context, states: StateLookup
    ) -> list[Output]:
        where = parse.classify(topic, self.prefix)
        if where.kind is Kind.EVENTS:
            return self._event(parse.parse_event(payload), ctx)
        if where.kind is Kind.REVIEWS:
            review = parse.parse_review(payload)
            return self._review(review.type, review.after, ctx)
        if where.kind is Kind.AVAILABLE:
            offline = mapping.SERVER_OFFLINE[parse.parse_available(payload)]
            return self._availability("server", self.config.server_device, offline, ctx, states)
        if where.kind is Kind.CAMERA_STATUS and where.camera and where.role:
            return self._camera_status(where.camera, where.role, payload, ctx, states)
        # tracked_object_update (faces, plates, descriptions) is dropped unread, like the rest.
        return []

    def _event(self, msg: parse.EventMessage, ctx: Context) -> list[Output]:
        obj = msg.after
        if obj.false_positive:
            return []
        hits = self._hits(obj.camera, [obj.label], obj.zones)
        if not hits:
            return self._info(obj, ctx) if msg.type == "new" else []
        community = self.config.community_of(obj.camera, ctx.community)
        start = _when(obj.frame_time or obj.start_time, ctx)
        end = _when(obj.end_time or obj.frame_time, ctx)
        out: list[Output] = []
        for event_type, device in hits:
            event_id = f"frigate:{obj.id}:{event_type}"
            out += _pair(
                event_id, event_type, device, community, start, end if msg.type == "end" else None
            )
            out += self._evidence(event_id, obj.id, obj, device, community)
        return out

    def _review(self, change: str, item: ReviewItem, ctx: Context) -> list[Output]:
        if self.config.alarms_from != "reviews":
            return []
        labels = [*item.data.objects, *item.data.audio]
        community = self.config.community_of(item.camera, ctx.community)
        start, end = _when(item.start_time, ctx), _when(item.end_time, ctx)
        out: list[Output] = []
        for event_type, device in self._hits(item.camera, labels, set(item.data.zones)):
            event_id = f"frigate-review:{item.id}:{event_type}"
            out += _pair(
                event_id, event_type, device, community, start, end if change == "end" else None
            )
            for detection in item.data.detections[:1]:
                out += self._evidence(event_id, detection, None, device, community)
        return out

    def _hits(self, camera: str, labels: list[str], zones: set[str]) -> list[tuple[str, str]]:
        """(event type, device) for every label rule the detection satisfies, once each."""
        hits: dict[str, str] = {}
        restricted = self.config.restricted(camera, zones)
        for label in labels:
            rule = mapping.LABELS.get(label)
            if rule is None or rule.event_type in hits:
                continue
            if rule.where is mapping.Where.ANYWHERE:
                hits[rule.event_type] = self.config.camera_device(camera)
            elif restricted:
                zone = restricted[0]
                device = self.config.camera_device(camera)
                hits[rule.event_type] = (
                    device if zone == "*" else self.config.zone_device(camera, zone)
                )
        return sorted(hits.items())

    def _info(self, obj: TrackedObject, ctx: Context) -> list[Output]:
        device = self.config.camera_device(obj.camera)
        community = self.config.community_of(obj.camera, ctx.community)
        ts = _when(obj.start_time or obj.frame_time, ctx)
        etype = mapping.info_type(obj.label)
        return [
            Native(f"frigate:{obj.id}:info", device, community, etype, EventState.INFO, ts, SOURCE)
        ]

    def _evidence(
        self, event_id: str, frigate_id: str, obj: TrackedObject | None, device: str,
        community: str | None,
    ) -> list[Output]:  # fmt: skip
        out: list[Output] = []
        kinds = (
            ("snapshot", obj.has_snapshot if obj else None),
            ("clip", obj.has_clip if obj else None),
        )
        for kind, present in kinds:
            url = self.config.evidence_url(frigate_id, kind)
            # Unknown (None) still links: old Frigate versions do not always say.
            if url and present is not False:
                out.append(Evidence(event_id, kind, url, device, community))
        return out

    def _availability(
        self, key: str, device: str, offline: bool, ctx: Context, states: StateLookup
    ) -> list[Output]:
        prev = states(key)
        snapshot = merge(SOURCE, key, prev, {mapping.OFFLINE: offline})
        if snapshot is None:
            return []
        changes = flag_changes(prev, snapshot, {mapping.OFFLINE: offline})
        community = self.config.community or ctx.community
        target = Target(SOURCE, "frigate", device, community)
        return change_events(target, snapshot, changes, ctx.received)

    def _camera_status(
        self, camera: str, role: str, payload: bytes, ctx: Context, states: StateLookup
    ) -> list[Output]:
        offline = mapping.CAMERA_OFFLINE[parse.parse_camera_status(payload)]
        key = f"camera:{camera}"
        prev = states(key)
        before = prev.values if prev else {}
        roles = {k: v is True for k, v in before.items() if k.startswith("role:")}
        roles[f"role:{role[:32]}"] = bool(offline)
        values: dict[str, bool] = {**roles, mapping.OFFLINE: any(roles.values())}
        snapshot = merge(SOURCE, key, prev, values)
        if snapshot is None:
            return []
        changes = flag_changes(prev, snapshot, {mapping.OFFLINE: values[mapping.OFFLINE]})
        device = self.config.camera_device(camera)
        target = Target(SOURCE, "frigate", device, self.config.community_of(camera, ctx.community))
        return change_events(target, snapshot, changes, ctx.received)


def _pair(
    event_id: str, event_type: str, device: str, community: str | None, start: datetime,
    end: datetime | None,
) -> list[Output]:  # fmt: skip
    """The alarm, and its restore once the object (or review) has ended."""
    alarm = Native(event_id, device, community, event_type, EventState.ALARM, start, SOURCE)
    if end is None:
        return [alarm]
    restore = Native(
        f"{event_id}:end", device, community, event_type, EventState.RESTORE, end, SOURCE
    )
    return [alarm, restore]


def _when(epoch: float | None, ctx: Context) -> datetime:
    """Frigate's own clock when it gave one in range; else when the bridge received it."""
    if epoch is None:
        return ctx.received
    return device_time(epoch, ctx.received).astimezone(UTC)
