"""WSGI entry point (``frontdesk.wsgi:app``) for serving the web process on its own.

Settings come from the environment, as for every command. Workers run separately
(`frontdesk worker`), and with more than one process ``REDIS_URL`` must name the shared
Redis, so events reach every web process.
"""

from __future__ import annotations

import os

from agent.config import Settings
from frontdesk.web import create_app
from frontdesk.wiring import build

os.environ.setdefault("DO_NOT_TRACK", "1")
_container = build(Settings.load(dict(os.environ)).ensure_data_dir())
_container.migrate()
app, socketio = create_app(_container)
