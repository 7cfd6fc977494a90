"""The widget's public HTTP endpoints: the loader script, its config, and the chat frame.

No login and no cookies: a workspace is named by its public widget key, and the sites
allowed to show its chat are checked on every request that a site can make (config,
frame). The Socket.IO side is in ``widget.realtime``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, render_template, request, send_from_directory

from agent.core.models import Workspace
from web.context import container
from widget.identity import frame_token
from widget.origins import REFUSED, allowed_origins, normalise_origin, origin_allowed, origin_of
from widget.presenters import widget_config
from widget.snippet import snippet_base

bp = Blueprint(
    "widget",
    __name__,
    url_prefix="/widget",
    static_folder="static",
    template_folder="templates",
)
FRAME_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; object-src 'none'; "
    "frame-ancestors {host}"
)
# Seconds the frame waits for the server to acknowledge a message before showing it as
# failed, with a Retry button (the messages after it go on meanwhile).
ANSWER_TIMEOUT = 30


def _workspace(key: str) -> Workspace:
    with container().uow() as uow:
        workspace = uow.workspace_by_widget_key(key)
    if workspace is None:
        abort(404, description="There is no chat widget with this key.")
    return workspace


def _base() -> str:
    return snippet_base(container().settings.public_url, request.host_url)


def _allowed(workspace: Workspace) -> list[str]:
    return allowed_origins(workspace.widget or {}, _base())


def _config(workspace: Workspace) -> dict[str, Any]:
    return widget_config(workspace, _base(), container().settings.max_message_chars)


@bp.get("/v1/<key>/loader.js")
def loader(key: str):  # type: ignore[no-untyped-def]
    _workspace(key)
    response = send_from_directory(
        bp.static_folder, "loader.js", mimetype="application/javascript", max_age=300
    )
    response.cache_control.public = True
    return response


@bp.get("/v1/<key>/config.json")
def config(key: str):  # type: ignore[no-untyped-def]
    """Read cross-origin by the loader: CORS only for the sites on the allow-list."""
    workspace = _workspace(key)
    origin = request.headers.get("Origin")
    if origin is not None and not origin_allowed(origin, _allowed(workspace)):
        response = jsonify(error=REFUSED)  # readable by the loader, so the site owner sees why
        response.status_code = 403
    else:
        response = jsonify(_config(workspace))
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Vary"] = "Origin"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/v1/<key>/frame")
def frame(key: str):  # type: ignore[no-untyped-def]
    """The chat document inside the iframe; only the host site may frame it."""
    workspace = _workspace(key)
    try:
        host = normalise_origin(request.args.get("host", ""))
    except ValueError:
        abort(403, description=REFUSED)
    referer = request.headers.get("Referer")
    if not origin_allowed(host, _allowed(workspace)) or (
        referer is not None and origin_of(referer) != host
    ):
        abort(403, description=REFUSED)
    mode = "embedded" if request.args.get("mode") == "embedded" else "floating"
    secret = str(container().settings.secret_key)
    page = render_template(
        "widget/frame.html",
        config=_config(workspace),
        frame_token=frame_token(secret, workspace.id or 0, host),
        mode=mode,
        host=host,
        answer_timeout=ANSWER_TIMEOUT,
    )
    headers = {"Content-Security-Policy": FRAME_CSP.format(host=host), "Cache-Control": "no-store"}
    return page, 200, headers
