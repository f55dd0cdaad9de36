"""The HTML form of a replay: one self-contained file (inline CSS and JavaScript, no external asset).

It opens with the verification verdict and the workflows by status, then one section per workflow:
a time lane with a mark per event (position = time since the workflow started, colour = stage) and
the events table (time, event, stage, emitter, step, the gate's decision with its policy versions,
time after its cause, and the payload behind a disclosure). A filter box and a status selector narrow
the workflows in the browser.

Large replays stay one file and stay usable: the workflows table and the sections are paged
(:data:`PAGE` workflows a page). The first page is plain HTML; every other workflow's summary row and
section are kept as HTML strings in an inline JSON block and put into the page only when its page is
shown (or its ``#wf-<id>`` link is opened), so a browser lays out one page at a time whatever the
number of workflows. ``#page=N`` opens page N.
"""

from __future__ import annotations

import json
from collections import Counter
from html import escape
from typing import IO

from corps.replay.html_assets import SCRIPT, STYLE
from corps.replay.render_jsonl import jsonable
from corps.replay.report import ReplayReport
from corps.replay.timeline import TimelineEntry, WorkflowStatus, WorkflowTimeline
from corps.replay.verification import Verification

__all__ = ["render_html"]

PAGE = 100
"""Workflows per page of the report (the first page is plain HTML, the others are drawn on demand)."""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _ms(value: int | None) -> str:
    if value is None:
        return ""
    return f"{value / 1000:.3f} s" if value >= 1000 else f"{value} ms"


def _verdict(verification: Verification | None) -> str:
    if verification is None:
        return '<div class="verdict">not verified (run with --verify)</div>'
    counts = ", ".join(f"{_e(k)} {v}" for k, v in sorted(verification.counts.items()))
    if verification.ok:
        head = f'<div class="verdict ok" id="verdict" data-ok="yes">verified: no discrepancy — {counts}</div>'
    else:
        head = (
            f'<div class="verdict failed" id="verdict" data-ok="no">verification failed: '
            f"{len(verification.errors)} discrepancy(ies) — {counts}</div>"
        )
    rows = "".join(
        f'<tr class="finding {_e(f.severity)}"><td>{_e(f.check)}</td><td>{_e(f.kind)}</td>'
        f"<td class=mono>{_e(f.workflow_id)}</td><td>{'' if f.sequence is None else f.sequence}</td>"
        f"<td class=mono>{_e(f.location or '')}</td><td>{_e(f.message)}</td></tr>"
        for f in verification.errors
    )
    notes = Counter(f"{f.check}/{f.kind}" for f in verification.notes)
    note_text = ", ".join(f"{_e(k)} x{v}" for k, v in sorted(notes.items()))
    table = (
        "<table id=findings><tr><th>check</th><th>kind</th><th>workflow</th><th>link</th><th>where</th>"
        f"<th>what</th></tr>{rows}</table>"
        if rows
        else ""
    )
    return head + table + (f'<p class="meta">notes: {note_text}</p>' if note_text else "")


def _decision(entry: TimelineEntry) -> str:
    parts = []
    for decision in entry.decisions:
        refs = ", ".join(f"{p}@{v}" for p, v in decision.policies if not p.startswith("set:"))
        sets = ", ".join(
            f"{p.removeprefix('set:')} v{v.partition('#')[0]}"
            for p, v in decision.policies
            if p.startswith("set:")
        )
        text = f"#{decision.sequence} <b>{_e(decision.effect)}</b>"
        if refs:
            text += f" <span class=mono>[{_e(refs)}]</span>"
        if sets:
            text += f" <span class=meta>(set {_e(sets)})</span>"
        text += f" <span class=meta>{_e(decision.reason)}</span>"
        parts.append(text)
    return "<br>".join(parts)


def _lane(timeline: WorkflowTimeline) -> str:
    times = [e.time for e in timeline.entries if e.time is not None]
    if not times:
        return ""
    start, end = min(times), max(times)
    span = (end - start).total_seconds() or 1.0
    marks = []
    for entry in timeline.entries:
        if entry.time is None:
            continue
        left = 2 + 96 * (entry.time - start).total_seconds() / span
        marks.append(
            f'<span class="mark stage-{_e(entry.stage)}" style="left:{left:.2f}%" '
            f'title="{_e(entry.name)} ({_e(entry.stage)}) {_e(entry.time.isoformat())}"></span>'
        )
    return f'<div class="lane" aria-label="time lane">{"".join(marks)}</div>'


def _entry_row(index: int, timeline: WorkflowTimeline, entry: TimelineEntry) -> str:
    offset = ""
    if timeline.started_at is not None and entry.time is not None:
        offset = _ms(round((entry.time - timeline.started_at).total_seconds() * 1000))
    name = entry.name
    if entry.lifecycle and entry.data and entry.data.get("step"):
        name += f" ({entry.data['step']})"
    payload = ""
    if entry.data is not None or entry.problem:
        body = json.dumps(jsonable(entry.data), indent=1, sort_keys=True, ensure_ascii=False)
        problem = f"<div class=stage-unreadable>{_e(entry.problem)}</div>" if entry.problem else ""
        payload = f"<details><summary>payload</summary>{problem}<pre>{_e(body)}</pre></details>"
    return (
        f'<tr class="event" data-event-id="{_e(entry.event_id)}" '
        f'data-type="{_e(entry.name)}" data-stage="{_e(entry.stage)}">'
        f"<td>{index}</td><td class=mono>{_e(offset)}</td><td>{_e(name)}</td>"
        f'<td class="stage-{_e(entry.stage)}">{_e(entry.stage)}</td><td>{_e(entry.source)}</td>'
        f"<td>{_e(entry.step or '')}</td><td>{_decision(entry)}</td><td>{_e(_ms(entry.since_cause_ms))}</td>"
        f"<td class=mono>{_e(' '.join(entry.locations))}{payload}</td></tr>"
    )


def _section(timeline: WorkflowTimeline) -> str:
    search = _search(timeline)
    extra = []
    if timeline.duration_ms is not None:
        extra.append(_ms(timeline.duration_ms))
    if timeline.failed_step:
        extra.append(f"failed step {timeline.failed_step}")
    if timeline.reason:
        extra.append(timeline.reason)
    if timeline.approvals:
        extra.append(
            "approvals: " + ", ".join(f"{a.outcome} {a.approver}".strip() for a in timeline.approvals)
        )
    rows = "".join(_entry_row(i, timeline, e) for i, e in enumerate(timeline.entries))
    return (
        f'<section class="workflow" id="wf-{_e(timeline.workflow_id)}" '
        f'data-workflow="{_e(timeline.workflow_id)}" '
        f'data-status="{_e(timeline.status)}" data-search="{_e(search)}">'
        f"<h3><span class=mono>{_e(timeline.workflow_id)}</span> · tenant {_e(timeline.tenant)} · "
        f'<span class="status-{_e(timeline.status)}">{_e(timeline.status)}</span></h3>'
        f'<div class="meta">{_e(" · ".join(extra))}</div>{_lane(timeline)}'
        "<table class=events><tr><th>#</th><th>+time</th><th>event</th><th>stage</th><th>emitter</th>"
        "<th>step</th><th>gate decision</th><th>after cause</th><th>where</th></tr>"
        f"{rows}</table></section>"
    )


def _summary_row(t: WorkflowTimeline) -> str:
    effects = " ".join(f"{k.lower()} {v}" for k, v in t.effects().items())
    return (
        f'<tr class="workflow-row" data-workflow="{_e(t.workflow_id)}" data-status="{_e(t.status)}">'
        f'<td class=mono><a href="#wf-{_e(t.workflow_id)}">{_e(t.workflow_id)}</a></td>'
        f"<td>{_e(t.tenant)}</td>"
        f'<td class="status-{_e(t.status)}">{_e(t.status)}</td><td>{_e(_ms(t.duration_ms))}</td>'
        f"<td>{len(t.entries)}</td><td>{_e(effects)}</td><td>{len(t.compensations)}</td>"
        f"<td>{len(t.approvals)}</td><td>{t.retries}</td></tr>"
    )


def _search(timeline: WorkflowTimeline) -> str:
    return " ".join(
        [timeline.workflow_id, timeline.tenant, timeline.status.value, *(e.name for e in timeline.entries)]
    ).lower()


def _script_json(value: object) -> str:
    """JSON that cannot end or comment out the ``<script>`` element holding it."""
    return (
        json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        .replace("</", "<\\/")
        .replace("<!--", "<\\u0021--")
    )


def _deferred(out: IO[str], timelines: list[WorkflowTimeline]) -> None:
    """The workflows past the first page: [id, status, search text, summary row, section] each."""
    out.write('<script type="application/json" id="deferred-workflows">[')
    for index, timeline in enumerate(timelines):
        item = [timeline.workflow_id, timeline.status.value, _search(timeline)]
        item += [_summary_row(timeline), _section(timeline)]
        out.write(("," if index else "") + _script_json(item))
    out.write("]</script>")


def render_html(
    report: ReplayReport, out: IO[str], *, digest: str | None = None, title: str | None = None
) -> None:
    """Write the report as one HTML document.

    Args:
        report: The replay.
        out: Where to write (text, UTF-8).
        digest: The JSONL digest of the same replay, shown for cross-checking.
        title: The page title (default: ``corps replay — <workflow>``).
    """
    name = title or f"corps replay — {report.workflow}"
    statuses = report.by_status()
    chips = "".join(
        f'<span class="status-{_e(k)}" data-status="{_e(k)}">{_e(k)} <b>{v}</b></span>'
        for k, v in statuses.items()
        if v
    )
    options = "".join(f'<option value="{_e(s.value)}">{_e(s.value)}</option>' for s in WorkflowStatus)
    shown, deferred = report.timelines[:PAGE], report.timelines[PAGE:]
    meta = (
        f"topology {_e(report.workflow)} v{report.topology_version} · {report.records} records from "
        f"{len(report.topics)} topics · {len(report.timelines)} workflows · {report.events} events"
        + (f" · {report.unreadable} unreadable records" if report.unreadable else "")
    )
    out.write(
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(name)}</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{_e(name)}</h1><div class=meta>{meta}</div>"
        f"<div class=meta>topics: <span class=mono>{_e(', '.join(report.topics))}</span></div>"
        + (
            f"<div class=meta>JSONL digest <span class=mono id=digest>{_e(digest)}</span></div>"
            if digest
            else ""
        )
        + "</header><main>"
        + _verdict(report.verification)
        + f'<div class="chips" id="statuses">{chips}</div>'
        + '<h2>Workflows</h2><div class="toolbar">'
        '<input id="filter-text" placeholder="filter: id, tenant, event">'
        f'<select id="filter-status"><option value="">any status</option>{options}</select>'
        '<span class="meta"><span id="shown"></span> shown</span> '
        '<span class="pager"><button id="page-prev" type="button">&lsaquo; previous</button> '
        '<span class="meta">page <span id="page-at">1</span> of <span id="page-count">1</span></span> '
        '<button id="page-next" type="button">next &rsaquo;</button></span></div>'
        "<table id=workflows><tr><th>workflow</th><th>tenant</th><th>status</th>"
        "<th>duration</th><th>events</th><th>decisions</th><th>compensations</th><th>approvals</th>"
        f"<th>retries</th></tr>{''.join(_summary_row(t) for t in shown)}</table>"
        "<h2>Timelines</h2><div id=sections>"
    )
    for timeline in shown:
        out.write(_section(timeline))
    out.write("</div></main>")
    _deferred(out, deferred)
    out.write(f"<script>var CORPS_PAGE = {PAGE};{SCRIPT}</script></body></html>\n")
