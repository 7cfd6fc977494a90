"""Keep an uploaded file for ingestion: size-capped, type-checked by content, then recorded.

The web form and the CLI both add files through ``add_upload``, so a file that is too
large or not a supported type is refused with the same message everywhere, before any
source exists, and nothing of it is left on disk.
"""

from __future__ import annotations

import errno
import os
import uuid
from pathlib import Path
from typing import BinaryIO

from agent.core.knowledge import KnowledgeService
from agent.core.models import KnowledgeSource
from ingestion.document import IngestError
from ingestion.sniff import human_size, safe_filename, sniff

CHUNK = 1024 * 1024
_NO_ROOM = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}  # no space, over quota, over the limit


def add_upload(
    knowledge: KnowledgeService,
    uploads: Path,
    workspace_id: int,
    stream: BinaryIO,
    filename: str,
    *,
    max_bytes: int,
) -> KnowledgeSource:
    """Store ``stream`` under ``uploads/<workspace>/`` and queue it as a file source.

    Raises ``IngestError`` (too large, empty, unsupported or disguised type) or the
    service's ``ValidationError``; either way no file and no source remain.
    """
    name = safe_filename(filename)
    folder = uploads / str(workspace_id)
    stored = store(stream, name, folder, max_bytes=max_bytes)
    try:
        return knowledge.add_file(workspace_id, name, stored)
    except BaseException:
        (folder / stored).unlink(missing_ok=True)
        raise


def store(stream: BinaryIO, name: str, folder: Path, *, max_bytes: int) -> str:
    """Copy the upload to a unique name in ``folder`` once it passes the checks; its name."""
    size = _size(stream)
    if size is not None and size > max_bytes:
        raise IngestError(f"{name} is {human_size(size)}; the limit is {human_size(max_bytes)}")
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{uuid.uuid4().hex[:8]}-{name}"
    partial = folder / f".{stored}.part"
    try:
        with partial.open("xb") as out:
            written = 0
            while chunk := stream.read(CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise IngestError(f"{name} is larger than the {human_size(max_bytes)} limit")
                out.write(chunk)
        sniff(partial, name, max_bytes=max_bytes)  # refuses what no parser here should open
        os.replace(partial, folder / stored)
    except OSError as exc:  # the disk is full (or the file too big for it): nothing kept
        if exc.errno in _NO_ROOM:
            raise IngestError(
                f"{name} was not saved: the server's disk is full. Free some space (or ask "
                "your administrator to), then upload it again."
            ) from None
        raise IngestError(f"{name} could not be saved on the server: {exc.strerror}") from None
    finally:
        partial.unlink(missing_ok=True)
    return stored


def _size(stream: BinaryIO) -> int | None:
    """The stream's length when it can tell without reading it (files, spooled uploads)."""
    try:
        start = stream.tell()
        end = stream.seek(0, os.SEEK_END)
        stream.seek(start)
    except (OSError, AttributeError, ValueError):
        return None
    return end - start
