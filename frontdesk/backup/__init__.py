"""Backups: one archive holding an install's data, and restoring it safely.

``plan`` decides what an archive holds and checks what comes back (pure); ``archive``
writes one; ``restore`` reads one into a data directory without ever losing what is there.
"""
