"""The running process's services, as the app factory stored them on the Flask app."""

from __future__ import annotations

from flask import Flask, current_app

from agent.services import Services

EXTENSION = "frontdesk"


def install(app: Flask, services: Services) -> None:
    app.extensions[EXTENSION] = services


def container() -> Services:
    """The services of the app handling this request or Socket.IO event."""
    return current_app.extensions[EXTENSION]
