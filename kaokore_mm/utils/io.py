"""Atomic file writes: a reader never sees a half-written file, and a failed
write leaves the previous version in place."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMP_MARK = '.part-'  # temporary files are .<name>.part-XXXX beside their target


def atomic_write_bytes(path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{path.name}{TEMP_MARK}', dir=path.parent)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


def atomic_write_text(path, text: str, encoding: str = 'utf-8') -> Path:
    return atomic_write_bytes(path, text.encode(encoding))


def remove_stale_temp_files(root) -> int:
    """Remove the temporary files that a killed writer left below ``root``."""
    n = 0
    for p in Path(root).rglob(f'.*{TEMP_MARK}*'):
        p.unlink(missing_ok=True)
        n += 1
    return n
