// The change stream (GET /api/v1/stream, Server-Sent Events). No polling: the server pushes.
// Changes are gathered and handed over once per animation frame, so a burst of hundreds costs
// one render, not hundreds. EventSource resumes by Last-Event-ID on its own after a drop.

// The server names each event by its kind; EventSource only delivers the names it listens for.
export const KINDS = [
  "IncidentOpened", "EventCorrelated", "IncidentAcknowledged", "IncidentResolved", "IncidentClosed",
  "NoteAdded", "IncidentEscalated", "DeviceAlarmRaised", "DeviceAlarmCleared", "ChecklistStepRecorded",
  "UnitDispatched", "UnitStatusChanged", "UnitArrived", "AssignmentUnacknowledged",
  "UnitPositionReported", "UnitPositionChanged", "UnitMoved", "UnitPosition", "EvidenceAttached",
  "DeviceHealthChanged", "change", "message",
];

const HIDDEN_FLUSH_MS = 250; // animation frames stop in a background tab; alarms must not

export class LiveStream {
  constructor({ onBatch, onState, url = "/api/v1/stream" }) {
    this.onBatch = onBatch;
    this.onState = onState;
    this.url = url;
    this.pending = [];
    this.scheduled = false;
    this.lastId = null;
    this.source = null;
    this.retryTimer = null;
    this.opened = null;
  }

  // Resolves once the server has subscribed us: changes from then on will arrive.
  connect() {
    this.opened = new Promise((resolve) => {
      this._resolveOpen = resolve;
    });
    this._open();
    return this.opened;
  }

  _open() {
    const url = this.lastId === null ? this.url : `${this.url}?last_event_id=${encodeURIComponent(this.lastId)}`;
    const source = new EventSource(url, { withCredentials: true });
    this.source = source;
    const receive = (event) => this._receive(event);
    for (const kind of KINDS) source.addEventListener(kind, receive);
    source.onopen = () => {
      this.onState("live");
      this._resolveOpen?.();
      this._resolveOpen = null;
    };
    source.onerror = () => {
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. the session ended, or a non-200 answer): start over by hand.
        this.onState("offline");
        source.close();
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this._open(), 5000);
      } else {
        this.onState("reconnecting");
      }
    };
  }

  _receive(event) {
    if (event.lastEventId) this.lastId = event.lastEventId;
    let data;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    this.pending.push({ kind: data.kind || event.type, data, seq: event.lastEventId });
    this._schedule();
  }

  _schedule() {
    if (this.scheduled) return;
    this.scheduled = true;
    const flush = () => this.flush();
    if (document.hidden) setTimeout(flush, HIDDEN_FLUSH_MS);
    else requestAnimationFrame(flush);
  }

  flush() {
    this.scheduled = false;
    if (!this.pending.length) return;
    const batch = this.pending;
    this.pending = [];
    this.onBatch(batch);
  }

  close() {
    clearTimeout(this.retryTimer);
    this.source?.close();
  }
}
