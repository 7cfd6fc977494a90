"""Socket.IO namespaces, rooms and emitters, shared by the inbox and the widget.

Rooms: ``workspace-<id>`` (the conversation list, lead alerts, knowledge sources) and
``conversation-<id>`` (the open thread, typing) on the staff's ``/inbox`` namespace;
``visitor-<workspace id>-<visitor id>`` (one web chat visitor's tabs) on ``/widget``. Web
and worker processes both publish through the Redis message queue, so any web process
can deliver any event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_socketio import SocketIO

INBOX_NAMESPACE = "/inbox"
WIDGET_NAMESPACE = "/widget"
Emit = Callable[[str, dict[str, Any], str], None]  # (event, data, room)


def workspace_room(workspace_id: int) -> str:
    return f"workspace-{workspace_id}"


def conversation_room(conversation_id: int) -> str:
    return f"conversation-{conversation_id}"


def visitor_room(workspace_id: int, visitor_id: str) -> str:
    """A web chat visitor (every tab of theirs), on the /widget namespace."""
    return f"visitor-{workspace_id}-{visitor_id}"


def socketio_emitter(socketio: SocketIO, namespace: str) -> Emit:
    def emit(event: str, data: dict[str, Any], room: str) -> None:
        socketio.emit(event, data, to=room, namespace=namespace)

    return emit


def queue_emitter(redis_url: str, channel: str, namespace: str) -> Emit:
    """For worker processes: publish through Redis without serving any client."""
    import socketio as socketio_pkg

    manager = socketio_pkg.RedisManager(redis_url, channel=channel, write_only=True)

    def emit(event: str, data: dict[str, Any], room: str) -> None:
        manager.emit(event, data, namespace=namespace, room=room)

    return emit
