"""The status page as JSON (/status.json and a day's /status/day/YYYY-MM-DD.json): the same read
model as the HTML. Field names are a public contract: add, never rename."""

from __future__ import annotations

from .status import Day, PublicIncident, StatusPage, day_urls, iso_utc


def _incident_json(incident: PublicIncident) -> dict:
    return {
        "id": incident.id,
        "title": incident.title,
        "status": incident.status,
        "impact": incident.impact,
        "components": list(incident.components),
        "started_at": iso_utc(incident.started_at),
        "resolved_at": iso_utc(incident.resolved_at),
        "updates": [{"at": iso_utc(u.at), "status": u.status, "body": u.body, "kind": u.kind} for u in incident.updates],
    }


def as_json(page: StatusPage) -> dict:
    """The page as JSON. `history` is a summary per day (the day's incidents in full are at
    `url`, as JSON at `json`): a day's list would make the document grow with the incidents."""
    json_url = day_urls("comms:status-day-json")
    return {
        "page": {"title": page.title, "generated_at": iso_utc(page.generated_at)},
        "status": {"state": page.state, "description": page.state_label},
        "components": [{"id": c.slug, "name": c.name, "state": c.state} for c in page.components],
        "active_incidents": [_incident_json(i) for i in page.active],
        "active_count": page.active_count,
        "history": [
            {
                "date": day.date.isoformat(), "state": day.state, "incident_count": day.count,
                "url": day.url, "json": json_url(day.date),
            }
            for day in page.history
        ],
    }


def day_json(day: Day) -> dict:
    return {"date": day.date.isoformat(), "incidents": [_incident_json(i) for i in day.incidents]}
