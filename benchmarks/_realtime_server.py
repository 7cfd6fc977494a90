"""The server side of benchmarks/realtime.py: the real app in a process of its own.

``--server gevent`` is the production server (``frontdesk.server``: gunicorn, ``--processes``
gevent workers on the port, the app built inside each patched worker); ``--server
threaded`` is the Werkzeug
threaded server ``frontdesk up`` used before, kept as the baseline. Both serve the app
with no AI receptionist (messages wait for staff) and the widget limits given.
"""

from __future__ import annotations

import argparse
import gc
from typing import Any


class _StaffOnly:
    """No AI receptionist on this server: visitor messages wait for staff."""

    replies_inline = False

    def dispatch(self, workspace_id: int, conversation_id: int, message_id: int) -> None:
        pass


def _app(
    data_dir: str, redis_url: str, per_ip_limit: int, async_mode: str, processes: int = 1
) -> Any:
    from agent.config import Settings
    from frontdesk.web import create_app
    from frontdesk.wiring import build
    from widget.realtime import RateLimits

    values = {"data_dir": data_dir, "web_processes": processes}
    settings = Settings.from_values(values).ensure_data_dir()
    container = build(settings, redis_url=redis_url, dispatcher_override=_StaffOnly())
    limits = RateLimits(per_ip=per_ip_limit)
    app, _ = create_app(container, widget_limits=limits, async_mode=async_mode)
    gc.freeze()  # as frontdesk.wsgi does: start-up's objects leave the collector's view
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", choices=["gevent", "threaded"], required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--per-ip-limit", type=int, default=10_000)
    parser.add_argument("--processes", type=int, default=1, help="gevent workers (gevent only)")
    args = parser.parse_args()
    if args.server == "gevent":
        from frontdesk.server import WebServer

        def load() -> Any:
            limit = args.per_ip_limit
            return _app(args.data_dir, args.redis_url, limit, "gevent", args.processes)

        options = {"bind": f"127.0.0.1:{args.port}", "loglevel": "error"}
        WebServer({**options, "workers": args.processes}, load=load).run()
    else:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class Quiet(WSGIRequestHandler):
            def log_request(self, *args: object, **kwargs: object) -> None:
                pass

            def log_error(self, *args: object) -> None:
                pass  # sockets torn down mid-frame at the end of the run

        app = _app(args.data_dir, args.redis_url, args.per_ip_limit, "threading")
        make_server(
            "127.0.0.1", args.port, app, threaded=True, request_handler=Quiet
        ).serve_forever()


if __name__ == "__main__":
    main()
