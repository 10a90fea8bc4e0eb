"""A post-mortem as the Markdown document of the procedures' template.

Times are written in one zone named in the document (UTC unless asked), so the file reads the
same whoever downloads it. Hidden timeline rows are left out.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from incidents import formatting

from . import metrics as metrics_module
from .models import PostMortem

EMPTY = "_Not written yet._"


def _cell(text) -> str:
    """A value fit for one Markdown table cell: pipes escaped, line breaks as <br>."""
    text = str(text if text not in (None, "") else "—").strip()
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", "\n").replace("\n", "<br>")


def _block(text: str) -> str:
    return text.strip() if text and text.strip() else EMPTY


def impact_duration(postmortem: PostMortem) -> str:
    """The author's words, else from the incident: impact start (detection or declaration) to resolution."""
    if postmortem.impact_duration.strip():
        return postmortem.impact_duration.strip()
    incident = postmortem.incident
    if incident.resolved_at:
        return formatting.duration(incident.resolved_at - incident.started_at)
    return "ongoing"


def _when(at, zone: ZoneInfo) -> str:
    return formatting.local(at, formatting.MINUTE, zone)


def _header(postmortem: PostMortem, zone: ZoneInfo, time_zone: str) -> list[str]:
    incident = postmortem.incident
    owner = str(postmortem.owner) if postmortem.owner else "—"
    lines = [
        f"# Post-Mortem: {incident.reference} — {incident.title}",
        "",
        f"- **Severity:** {incident.severity}",
        f"- **Status:** {postmortem.get_status_display()}",
        f"- **Owner:** {owner}",
        f"- **Draft due:** {postmortem.draft_due:%Y-%m-%d} · **Review due:** {postmortem.review_due:%Y-%m-%d}"
        f" · **Publish due:** {postmortem.publish_due:%Y-%m-%d}",
    ]
    if postmortem.published_at:
        lines.append(f"- **Published:** {_when(postmortem.published_at, zone)} {time_zone}")
    return lines


def _heading(title: str, level: int = 2) -> list[str]:
    """A heading after a blank line; what follows adds its own blank line, so a heading right
    under another shares one."""
    return ["", f"{'#' * level} {title}"]


def _section(title: str, text: str, level: int = 2) -> list[str]:
    """A heading and the author's text under it (or that it is not written yet)."""
    return [*_heading(title, level), "", _block(text)]


def _table_head(*columns: str) -> list[str]:
    """A table's header row and rule, after a blank line."""
    return ["", f"| {' | '.join(columns)} |", "|" + "---|" * len(columns)]


def _summary_and_impact(postmortem: PostMortem) -> list[str]:
    return [
        *_section("Summary", postmortem.summary),
        *_heading("Impact"),
        "",
        f"- **Users affected:** {postmortem.users_affected.strip() or '—'}",
        f"- **Duration:** {impact_duration(postmortem)}",
        f"- **Business impact:** {postmortem.business_impact.strip() or '—'}",
    ]


def _timeline(postmortem: PostMortem, zone: ZoneInfo, time_zone: str) -> list[str]:
    lines = [*_heading("Timeline"), "", f"All times {time_zone}.", *_table_head("Time", "Event", "Notes")]
    for entry in postmortem.timeline_entries.all():
        if not entry.hidden:
            lines.append(f"| {_when(entry.occurred_at, zone)} | {_cell(entry.text)} | {_cell(entry.annotation)} |")
    return lines


def _root_cause(postmortem: PostMortem) -> list[str]:
    lines = [
        *_heading("Root Cause Analysis"),
        *_section("Immediate cause", postmortem.immediate_cause, level=3),
        *_section("Root cause", postmortem.root_cause, level=3),
        *_heading("Five whys", level=3),
        "",
    ]
    whys = list(postmortem.whys.all())
    if whys:
        for number, why in enumerate(whys, 1):
            lines.append(f"{number}. **{why.question.strip()}** {why.answer.strip() or '—'}")
    else:
        lines.append(EMPTY)
    return lines


def _reflection(postmortem: PostMortem) -> list[str]:
    """Contributing factors, what went well and what could be improved."""
    return [
        *_heading("Contributing Factors"),
        *_section("Technical", postmortem.contributing_technical, level=3),
        *_section("Process", postmortem.contributing_process, level=3),
        *_section("What Went Well", postmortem.went_well),
        *_section("What Could Be Improved", postmortem.could_improve),
    ]


def _action_items(postmortem: PostMortem) -> list[str]:
    lines = [*_heading("Action Items"), *_table_head("Action", "Owner", "Due", "Priority", "Status", "Horizon")]
    for item in postmortem.action_items.all():
        due = f"{item.due_date:%Y-%m-%d}" if item.due_date else "—"
        description = item.description + (f" ({item.ticket_url})" if item.ticket_url else "")
        lines.append(
            f"| {_cell(description)} | {_cell(item.owner or '—')} | {due} | {item.get_priority_display()} "
            f"| {item.get_status_display()} | {item.get_horizon_display()} |"
        )
    return lines


def _lessons_and_metrics(postmortem: PostMortem) -> list[str]:
    lines = [
        *_section("Lessons Learned", postmortem.lessons_learned),
        *_heading("Metrics"),
        *_table_head("Measure", "Took", "Target", "Result"),
    ]
    for metric in metrics_module.metrics(postmortem.incident):
        lines.append(f"| {metric.name} | {metric.duration_text} | {metric.target_text} | {metric.verdict} |")
    return lines


def to_markdown(postmortem: PostMortem, *, time_zone: str = "UTC") -> str:
    """The whole document, section by section in the template's order."""
    zone = ZoneInfo(time_zone)
    lines = [
        *_header(postmortem, zone, time_zone),
        *_summary_and_impact(postmortem),
        *_timeline(postmortem, zone, time_zone),
        *_root_cause(postmortem),
        *_reflection(postmortem),
        *_action_items(postmortem),
        *_lessons_and_metrics(postmortem),
    ]
    return "\n".join(lines) + "\n"


def filename(postmortem: PostMortem) -> str:
    return f"postmortem-{postmortem.incident.reference}.md"
