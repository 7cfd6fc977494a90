"""Files that came with a customer's message, kept in the data directory.

Stored like knowledge uploads (``<data dir>/<folder>/<workspace>/<random>-<name>``): one
folder per workspace, a random prefix so names never collide or can be guessed, and
written to a temporary name first so a crash never leaves half a file under a real
name. The message's meta lists them; the inbox serves them to the workspace's staff.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

_STORED = re.compile(r"^[0-9a-f]{12}-[^/\\]{1,200}$")


class AttachmentStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def save(self, workspace_id: int, name: str, data: bytes) -> str:
        """Keep ``data`` (already size-checked by the channel); the stored file's name."""
        folder = self.root / str(int(workspace_id))
        folder.mkdir(parents=True, exist_ok=True)
        stored = f"{uuid.uuid4().hex[:12]}-{_safe(name)}"
        partial = folder / f".{stored}.part"
        try:
            with partial.open("xb") as out:
                out.write(data)
            os.replace(partial, folder / stored)
        finally:
            partial.unlink(missing_ok=True)
        return stored

    def path(self, workspace_id: int, stored: str) -> Path | None:
        """Where a stored attachment of this workspace is; None for any other name."""
        if not _STORED.match(stored) or stored.startswith("."):
            return None
        path = self.root / str(int(workspace_id)) / stored
        return path if path.is_file() else None

    def remove(self, workspace_id: int, stored: str) -> bool:
        """Delete a stored attachment (a privacy request); False when it was not there."""
        path = self.path(workspace_id, stored)
        if path is None:
            return False
        path.unlink(missing_ok=True)
        return True


def _safe(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch if ch.isprintable() and ch not in '<>:"|?*' else "_" for ch in base)
    base = " ".join(base.split()).strip(". ")[:150]
    return base or "attachment"
