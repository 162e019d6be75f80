// The platform's HTTP API, as the signed-in browser calls it (the session cookie rides along).

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.detail = detail;
  }
}

export async function api(path, { method = "GET", body, signal } = {}) {
  const init = { method, signal, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401) window.dispatchEvent(new CustomEvent("cw:unauthorized"));
    throw new ApiError(response.status, data && data.detail);
  }
  return data;
}

// For endpoints other modules provide (dispatch, device sources, routing): null when the
// platform answers 404 or 405, so a panel can say "not available" instead of failing.
export async function optional(path, options) {
  try {
    return await api(path, options);
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 405)) return null;
    throw error;
  }
}

// The dispatch module's endpoints, in one place.
export const dispatch = {
  recommendations: (incidentId) => optional(`/api/v1/incidents/${encodeURIComponent(incidentId)}/recommendations`),
  assign: (incidentId, unitId) =>
    api(`/api/v1/incidents/${encodeURIComponent(incidentId)}/assign`, {
      method: "POST",
      body: { unit_id: unitId },
    }),
  units: () => optional("/api/v1/units"),
  unitStatus: (unitId, status) =>
    api(`/api/v1/units/${encodeURIComponent(unitId)}/status`, { method: "POST", body: { status } }),
  unitPosition: (unitId, position) =>
    api(`/api/v1/units/${encodeURIComponent(unitId)}/position`, { method: "POST", body: position }),
  assignments: (unitId) => optional(`/api/v1/console/assignments${unitId ? `?unit=${encodeURIComponent(unitId)}` : ""}`),
  intervals: (since) => optional(`/api/v1/reports/intervals?since=${encodeURIComponent(since)}`),
};

// The device-sources module's endpoints.
export const sources = {
  positions: () => optional("/api/v1/units/positions"),
  unhealthy: (communityId) => optional(`/api/v1/communities/${encodeURIComponent(communityId)}/unhealthy-devices`),
  evidence: (incidentId) => optional(`/api/v1/incidents/${encodeURIComponent(incidentId)}/evidence`),
};

// Lists come back either bare or as {items: [...]}; accept both.
export function itemsOf(data) {
  if (!data) return [];
  if (Array.isArray(data)) return data;
  if (Array.isArray(data.items)) return data.items;
  if (Array.isArray(data.units)) return data.units;
  return [];
}
