"""WSGI entry point (``frontdesk.wsgi:app``) for serving the web process on its own.

``frontdesk serve`` runs it on gunicorn with gevent workers (``frontdesk.server``); any
WSGI server works, e.g. ``gunicorn -k gevent -w 1 frontdesk.wsgi:app``. Settings come from
the environment, as for every command. Workers run separately (`frontdesk worker`), and
with more than one process ``REDIS_URL`` must name the shared Redis, so events reach
every web process. Running ``-w N`` workers on one port yourself, set
``FRONTDESK_WEB_PROCESSES=N`` too, so Socket.IO accepts WebSocket only (a long-polling
client's next request could reach another worker).
"""

from __future__ import annotations

import gc
import os
import sys

from agent.config import Settings
from frontdesk.web import create_app
from frontdesk.wiring import build
from ingestion.embed import shared_embedder
from ingestion.multilingual import shared_multilingual_embedder


def _gevent_patched() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return bool(monkey and monkey.is_module_patched("socket"))


os.environ.setdefault("DO_NOT_TRACK", "1")
_settings = Settings.load(dict(os.environ)).ensure_data_dir()
if _gevent_patched():
    import gevent

    # The embedding models and knowledge searches (the knowledge search box, the try-it
    # chat) are milliseconds of CPU: on native threads they leave the event loop free.
    run_in_thread = gevent.get_hub().threadpool.apply
    shared_embedder().offload(run_in_thread)
    shared_multilingual_embedder().offload(run_in_thread)
    _container = build(_settings, offload=run_in_thread)
    _container.migrate()
    app, socketio = create_app(_container, async_mode="gevent")
else:
    _container = build(_settings)
    _container.migrate()
    app, socketio = create_app(_container)

# What start-up built (the app, the container, imported modules) lives as long as the
# process: frozen out of the garbage collector's view, its full collections stop scanning
# it. Measured on benchmarks/realtime.py's paced scenario, one process: p95 83-353 ms
# frozen against 325-463 ms not (four runs each, alternating).
gc.freeze()
