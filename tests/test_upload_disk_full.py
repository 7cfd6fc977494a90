"""An upload on a full disk: a clear refusal, nothing left on disk, no source.

The disk really refuses: a child process lowers its file-size limit (RLIMIT_FSIZE) the
way a full disk or quota would stop the write, and stores the upload there; the kernel
answers EFBIG (SIGXFSZ ignored), as it answers ENOSPC on a full disk.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

CHILD = textwrap.dedent(
    """
    import io, resource, signal, sys
    from pathlib import Path
    from ingestion.document import IngestError
    from ingestion.uploads import store

    folder = Path(sys.argv[1])
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))
    data = io.BytesIO(("Our opening hours are 9 to 5. " * 20000).encode())
    try:
        store(data, "price-list.txt", folder, max_bytes=10 * 1024 * 1024)
    except IngestError as exc:
        print("REFUSED:", exc)
    else:
        print("STORED")
    """
)


def test_a_full_disk_refuses_the_upload_clearly_and_keeps_nothing(tmp_path: Path):
    folder = tmp_path / "uploads" / "1"
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(folder)],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "REFUSED: price-list.txt was not saved: the server's disk is full. Free some space "
        "(or ask your administrator to), then upload it again."
    )
    assert list(folder.iterdir()) == []  # no partial file left behind
