"""Settings > Knowledge: what the AI answers from, for admins, with live ingestion status.

Forms post back here; a refused input re-renders the page with the message next to the
form it came from (and what was typed), success redirects with a note. Status and
progress arrive over Socket.IO (``knowledge`` events, see ``inbox.realtime``); the search
box shows what retrieval would hand the AI for a question.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import RequestEntityTooLarge

from agent.core.errors import FrontdeskError, ValidationError
from agent.core.models import KnowledgeSource
from inbox.knowledge_presenters import INTERVALS, interval_text, source_json
from ingestion.sniff import SUPPORTED
from ingestion.uploads import add_upload
from web.context import container
from web.security import admin_required, current, signed_in

bp = Blueprint("knowledge_admin", __name__)
PAGE = "/settings/knowledge"
MAX_QUERY_CHARS = 500
FIELD_LABELS = {
    "url": "Website address",
    "refresh_interval_hours": "Refresh interval",
    "max_pages": "Page limit",
}


def _workspace_timezone(workspace_id: int) -> str:
    with container().uow() as uow:
        return uow.workspace(workspace_id).workspace().timezone


def _rows(workspace_id: int) -> list[dict[str, Any]]:
    timezone = _workspace_timezone(workspace_id)
    return [source_json(s, timezone) for s in container().knowledge.sources(workspace_id)]


def _page(
    *, form: str = "", error: str = "", values: dict[str, str] | None = None, status: int = 200
) -> tuple[str, int]:
    """The page, with ``error`` shown on ``form`` and what the admin typed kept there."""
    staff = current()
    return render_template(
        "knowledge/index.html",
        sources=_rows(staff.workspace_id),
        errors={form: error} if error else {},
        values={form: values or {}} if form else {},
        intervals=INTERVALS,
        supported=SUPPORTED,
        max_upload_mb=container().settings.max_upload_mb,
    ), status


def _refused(form: str, exc: FrontdeskError, status: int = 400) -> tuple[str, int]:
    error = str(exc)
    if isinstance(exc, ValidationError):
        label = FIELD_LABELS.get(exc.field, exc.field.replace("_", " ").capitalize())
        error = f"{label}: {exc.message}"
    kept = {k: v for k, v in request.form.items() if k != "csrf_token"}
    return _page(form=form, error=error, values=kept, status=status)


def _added(source: KnowledgeSource) -> Response:
    flash(f"Added “{source.title}”: it is queued for ingestion.")
    return redirect(url_for("knowledge_admin.index"))


@bp.get(PAGE)
@admin_required
def index():  # type: ignore[no-untyped-def]
    return _page()


# -- adding ----------------------------------------------------------------------------


@bp.post(f"{PAGE}/website")
@admin_required
def add_website():  # type: ignore[no-untyped-def]
    workspace_id = current().workspace_id
    try:
        # The service refuses what the crawler would: private addresses in any spelling.
        source = container().knowledge.add_website(
            workspace_id,
            request.form.get("url", ""),
            refresh_hours=interval_from(request.form),
            max_pages=_whole(request.form.get("max_pages") or "500", "max_pages"),
        )
    except FrontdeskError as exc:
        return _refused("website", exc)
    return _added(source)


@bp.post(f"{PAGE}/file")
@admin_required
def add_file():  # type: ignore[no-untyped-def]
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _refused("file", ValidationError("file", "choose a file to upload"))
    settings = container().settings
    try:
        source = add_upload(
            container().knowledge,
            settings.uploads_path,
            current().workspace_id,
            upload.stream,
            upload.filename,
            max_bytes=settings.max_upload_mb * 1024 * 1024,
        )
    except FrontdeskError as exc:
        return _refused("file", exc)
    return _added(source)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(exc: RequestEntityTooLarge):  # type: ignore[no-untyped-def]
    """Werkzeug stops reading a body over MAX_CONTENT_LENGTH; say so on the page."""
    if request.path.startswith("/api/"):
        return jsonify(error="The request is too large."), 413
    limit = container().settings.max_upload_mb
    form = "file" if request.endpoint == "knowledge_admin.add_file" else ""
    message = (
        f"The file is larger than the {limit} MB upload limit; nothing was stored."
        if form
        else "What you sent is too large; nothing was stored."
    )
    staff = signed_in()
    if staff is None or not staff.is_admin:  # the body was refused before any sign-in check
        return render_template("error.html", status=413, message=message), 413
    return _page(form=form, error=message, status=413)


@bp.post(f"{PAGE}/text")
@admin_required
def add_text():  # type: ignore[no-untyped-def]
    form = request.form
    try:
        source = container().knowledge.add_text(
            current().workspace_id, form.get("title", ""), form.get("body", "")
        )
    except FrontdeskError as exc:
        return _refused("text", exc)
    return _added(source)


@bp.post(f"{PAGE}/qa")
@admin_required
def add_qa():  # type: ignore[no-untyped-def]
    form = request.form
    try:
        source = container().knowledge.add_qa(
            current().workspace_id, form.get("question", ""), form.get("answer", "")
        )
    except FrontdeskError as exc:
        return _refused("qa", exc)
    return _added(source)


# -- acting on one source --------------------------------------------------------------


@bp.post(f"{PAGE}/<int:source_id>/refresh")
@admin_required
def refresh(source_id: int):  # type: ignore[no-untyped-def]
    source = container().knowledge.refresh(current().workspace_id, source_id)
    flash(f"“{source.title}” is queued for a refresh.")
    return redirect(url_for("knowledge_admin.index"))


@bp.post(f"{PAGE}/<int:source_id>/interval")
@admin_required
def set_interval(source_id: int):  # type: ignore[no-untyped-def]
    workspace_id = current().workspace_id
    knowledge = container().knowledge
    try:
        source = knowledge.set_refresh_interval(
            workspace_id, source_id, interval_from(request.form)
        )
    except ValidationError as exc:
        _source(workspace_id, source_id)  # another workspace's id is "not found", not invalid
        return _refused(f"interval-{source_id}", exc)
    how = interval_text(source.refresh_interval_hours).lower()
    flash(f"Automatic refresh of “{source.title}”: {how}.")
    return redirect(url_for("knowledge_admin.index"))


@bp.get(f"{PAGE}/<int:source_id>/remove")
@admin_required
def confirm_remove(source_id: int):  # type: ignore[no-untyped-def]
    source = _source(current().workspace_id, source_id)
    return render_template("knowledge/remove.html", source=source_json(source))


@bp.post(f"{PAGE}/<int:source_id>/remove")
@admin_required
def remove(source_id: int):  # type: ignore[no-untyped-def]
    workspace_id = current().workspace_id
    source = _source(workspace_id, source_id)
    container().knowledge.remove(workspace_id, source_id)
    flash(f"Removed “{source.title}”: the AI no longer answers from it.")
    return redirect(url_for("knowledge_admin.index"))


def _source(workspace_id: int, source_id: int) -> KnowledgeSource:
    with container().uow() as uow:
        return uow.workspace(workspace_id).knowledge.get(source_id)


# -- JSON: the rows (after a reconnect) and what the AI would retrieve -----------------------


@bp.get("/api/knowledge/sources")
@admin_required
def sources_json():  # type: ignore[no-untyped-def]
    return jsonify(sources=_rows(current().workspace_id))


@bp.get("/api/knowledge/search")
@admin_required
def search():  # type: ignore[no-untyped-def]
    query = (request.args.get("q") or "").strip()
    if not query:
        return jsonify(error="Type a question to search for."), 400
    if len(query) > MAX_QUERY_CHARS:
        return jsonify(error=f"Keep the question under {MAX_QUERY_CHARS} characters."), 400
    passages = container().index.search(current().workspace_id, query, k=5)
    return jsonify(
        query=query,
        passages=[
            {
                "citation": p.citation,
                "similarity": round(p.similarity, 3),
                "text": p.text,
                "kind": p.kind,
                "source_id": p.source_id,
            }
            for p in passages
        ],
    )


# -- input rules the service does not own ---------------------------------------------


def interval_from(form: Any) -> int | None:
    """A typed number of hours wins over the off/hourly/daily/weekly choice; 0 means off."""
    raw = (form.get("hours") or "").strip() or (form.get("interval") or "0").strip()
    hours = _whole(raw, "refresh_interval_hours")
    return hours or None


def _whole(raw: str, field: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ValidationError(field, f"{raw!r} is not a whole number") from None
