"""The demo workspace: a small fictional bike workshop shipped inside the package.

``frontdesk demo`` loads its profile, links, custom Q&A and website pages so a fresh
install has something real to show. Nothing here reads outside the package.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

from agent.core.models import Workspace
from agent.core.workspaces import NewMember
from frontdesk.wiring import Container

DATA = resources.files("frontdesk.demo") / "data"
PUBLIC_PAGES = ("index", "services", "pricing", "about", "faq", "contact", "blog-winter-commuting")


def profile() -> dict[str, Any]:
    return json.loads((DATA / "profile.json").read_text(encoding="utf-8"))


def site_dir() -> Path:
    """The demo website's folder (also served by ``frontdesk up`` under /demo/site/)."""
    return Path(str(DATA / "site"))


def create_demo(container: Container, admin: NewMember) -> Workspace:
    """Create the demo workspace, its admin and its knowledge (queued for ingestion)."""
    data = profile()
    qa_pairs = data.pop("qa")
    workspace = container.workspaces.create(data, admin)  # also queues the profile source
    knowledge = container.knowledge
    for pair in qa_pairs:
        knowledge.add_qa(workspace.id, pair["q"], pair["a"])
    uploads = container.settings.uploads_path / str(workspace.id)
    uploads.mkdir(parents=True, exist_ok=True)
    for page in PUBLIC_PAGES:
        name = f"{page}.html"
        shutil.copyfile(site_dir() / name, uploads / name)
        knowledge.add_file(workspace.id, name, name)
    return workspace
