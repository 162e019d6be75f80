// The shift at a glance: open incidents by priority (live), today's response intervals against
// their targets (from the dispatch module's report), and communities with no incident this month.

import { api, dispatch } from "./api.js";
import { h, replace } from "./dom.js";
import { t } from "./i18n.js";
import { PRIORITY_COLOURS } from "./map.js";
import { defaultZone, formatDuration } from "./time.js";

export class Dashboard {
  constructor(root, store) {
    this.root = root;
    this.store = store;
    this.priorities = h("div", { class: "tiles" });
    this.intervals = h("div", { class: "card-body" });
    this.quiet = h("div", { class: "card-body" });
    replace(
      root,
      card("dashboard.open_by_priority", this.priorities),
      card("dashboard.intervals", this.intervals),
      card("dashboard.quiet", this.quiet),
    );
  }

  async show() {
    this.renderPriorities();
    const [overview, report] = await Promise.all([
      api("/api/v1/console/overview").catch(() => null),
      dispatch.intervals(todayParams()).catch(() => null),
    ]);
    this._quiet(overview);
    this._intervals(report);
  }

  renderPriorities() {
    const counts = this.store.countsByPriority();
    replace(
      this.priorities,
      counts.map((n, i) =>
        h("div", { class: "tile", style: `--c:${PRIORITY_COLOURS[i]}`, dataset: { priority: String(i + 1) } },
          h("span", { class: "tile-n" }, String(n)),
          h("span", { class: "tile-label" }, t("priority.n", { n: i + 1 }))),
      ),
    );
  }

  _quiet(overview) {
    if (!overview) {
      replace(this.quiet, h("p", { class: "muted" }, t("common.not_available")));
      return;
    }
    const items = overview.quiet_communities;
    replace(
      this.quiet,
      h("p", { class: "big-number" }, String(items.length)),
      items.length ? h("ul", { class: "chips" }, items.map((c) => h("li", {}, c.name))) : h("p", { class: "muted" }, t("dashboard.none_quiet")),
    );
  }

  _intervals(report) {
    const rows = report && Array.isArray(report.intervals) ? report.intervals : null;
    if (!rows) {
      replace(this.intervals, h("p", { class: "muted not-available" }, t("dashboard.intervals_not_available")));
      return;
    }
    replace(
      this.intervals,
      h(
        "table",
        { class: "board" },
        h("thead", {}, h("tr", {}, ["dashboard.interval", "dashboard.count", "P50", "P90", "dashboard.target", "dashboard.within"].map((k) => h("th", { scope: "col" }, t(k))))),
        h("tbody", {}, rows.map((r) =>
          h("tr", { class: r.passed === false ? "fail" : r.passed ? "pass" : "" },
            h("th", { scope: "row", title: r.standard || "" }, t(`interval.${r.interval}`)),
            h("td", { class: "num" }, String(r.count)),
            h("td", { class: "num" }, formatDuration(r.p50)),
            h("td", { class: "num" }, formatDuration(r.p90)),
            h("td", { class: "num" }, `${formatDuration(r.target_s)} @ ${Math.round((r.fraction || 0.9) * 100)}%`),
            h("td", { class: "num" }, r.within_share === null || r.within_share === undefined ? "–" : `${Math.round(r.within_share * 100)}%`)))),
      ),
    );
  }
}

function card(titleKey, body) {
  return h("section", { class: "card" }, h("h2", { "data-i18n": titleKey }, t(titleKey)), body);
}

// Midnight today in the operator's jurisdiction, as an absolute instant.
function todayParams() {
  const zone = defaultZone();
  const now = new Date();
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" })
      .formatToParts(now).map((p) => [p.type, p.value]),
  );
  const sinceMidnight = (Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second)) * 1000;
  return new Date(now.getTime() - sinceMidnight - now.getMilliseconds()).toISOString();
}
