"""Knowledge sources as the JSON the admin page renders, first in the template, then live.

The page and the Socket.IO updates use the same strings, so a row looks the same whether
it was rendered by the server or refreshed by the browser. Everything is data (titles,
URLs, errors and skipped pages come from admins and crawled sites): insert it as text.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from agent.core.models import KnowledgeSource, SourceKind, SourceStatus

KIND_LABELS = {
    SourceKind.WEBSITE: "Website",
    SourceKind.FILE: "File",
    SourceKind.TEXT: "Text",
    SourceKind.QA: "Q&A",
    SourceKind.PROFILE: "Business profile",
}
INTERVALS = {1: "Hourly", 24: "Daily", 168: "Weekly"}  # the form's named choices


def source_json(source: KnowledgeSource, timezone: str = "UTC") -> dict[str, Any]:
    """One row of the knowledge page: what it is, where it stands, what the last run did."""
    last_run = source.config.get("last_run") or {}
    return {
        "id": source.id,
        "kind": str(source.kind),
        "kind_label": KIND_LABELS.get(source.kind, str(source.kind)),
        "title": source.title,
        "uri": source.uri if source.kind == SourceKind.WEBSITE else "",
        "status": str(source.status),
        "progress_done": source.progress_done,
        "progress_total": source.progress_total,
        "progress_text": progress_text(source),
        "error": source.error,
        "last_refreshed_at": source.last_refreshed_at.isoformat()
        if source.last_refreshed_at
        else None,
        "last_refreshed_text": _local(source.last_refreshed_at, timezone),
        "refreshable": source.kind == SourceKind.WEBSITE,
        "refresh_interval_hours": source.refresh_interval_hours,
        "interval_text": interval_text(source.refresh_interval_hours)
        if source.kind == SourceKind.WEBSITE
        else "",
        "last_run_text": last_run_text(last_run, website=source.kind == SourceKind.WEBSITE),
        "skipped_examples": [str(x) for x in last_run.get("skipped_examples", [])],
    }


def progress_text(source: KnowledgeSource) -> str:
    if source.status == SourceStatus.QUEUED:
        return "waiting for a worker"
    if source.status != SourceStatus.RUNNING:
        return ""
    if not source.progress_total:
        return "starting"
    unit = "pages" if source.kind == SourceKind.WEBSITE else "parts"
    return f"{source.progress_done} / {source.progress_total} {unit}"


def interval_text(hours: int | None) -> str:
    if not hours:
        return "Off"
    return INTERVALS.get(hours, f"Every {hours} hours")


def last_run_text(summary: dict[str, Any], *, website: bool) -> str:
    """Non-zero counts only: "2 pages added, 1 changed · 14 passages added · 1 skipped"."""
    if not summary:
        return ""
    noun = "page" if website else "document"

    def count(key: str) -> int:
        value = summary.get(key, 0)
        return value if isinstance(value, int) else 0

    documents = _joined(
        noun,
        (count("pages_added"), "added"),
        (count("pages_changed"), "changed"),
        (count("pages_removed"), "removed"),
    )
    passages = _joined(
        "passage",
        (count("chunks_added"), "added"),
        (count("chunks_removed"), "removed"),
        (count("chunks_unchanged"), "unchanged"),
    )
    skipped = f"{count('skipped')} skipped" if count("skipped") else ""
    return " · ".join(part for part in (documents, passages, skipped) if part) or "no changes"


def _joined(noun: str, *parts: tuple[int, str]) -> str:
    """The noun goes with the first number only: "3 pages added, 1 removed"."""
    shown = [(n, verb) for n, verb in parts if n]
    words = []
    for i, (n, verb) in enumerate(shown):
        words.append(f"{n} {noun}{'' if n == 1 else 's'} {verb}" if i == 0 else f"{n} {verb}")
    return ", ".join(words)


def _local(value: datetime | None, timezone: str) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M %Z")
