"""Atomic file writes: a reader never sees a half-written file, and a failed
write leaves the previous version in place. Files get the permissions a plain
``open()`` would give them (the umask's for a new file, the old file's when one
is replaced), not ``mkstemp``'s private 0600; a write through a symbolic link
replaces its target (the link stays a link); an error of the disk (full, read-only)
names the file. :func:`folder_lock` is the lock that writers of one folder in
several processes share."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

TEMP_MARK = '.part-'  # temporary files are .<name>.part-XXXX beside their target


def current_umask() -> int:
    """The process's umask (from /proc where it is there: setting and restoring it
    would race with other threads)."""
    try:
        for line in Path('/proc/self/status').read_text().splitlines():
            if line.startswith('Umask:'):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode_for(path: Path) -> int:
    """The mode ``open(path, 'w')`` would leave: the existing file's, else 0o666 minus the umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        return 0o666 & ~current_umask()


def named_os_error(e: OSError, path) -> OSError:
    """``e`` with ``path`` as its file name when it has none (``write`` and ``fsync`` on a full
    disk raise ``ENOSPC`` without one): every error of a file says which."""
    if getattr(e, 'filename', None):
        return e
    return OSError(e.errno or errno.EIO, e.strerror or str(e), str(path))


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns ``path`` (a symbolic link's target is written)."""
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = file_mode_for(target)
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f'.{target.name}{TEMP_MARK}', dir=target.parent)
        os.fchmod(fd, mode)
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as e:
        if tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        if isinstance(e, OSError):
            raise named_os_error(e, target) from None
        raise
    return path


@contextlib.contextmanager
def folder_lock(folder) -> Iterator[None]:
    """An exclusive lock on ``folder`` held by this block, shared by every process that takes it
    (``fcntl.flock`` on ``folder/.lock``; released when the block ends or the process dies). A
    folder where the lock file cannot be made (read-only) has no writer to wait for: no lock."""
    path = Path(folder) / '.lock'
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, file_mode_for(path))
    except OSError as e:
        if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            yield
            return
        raise named_os_error(e, path) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def atomic_write_text(path, text: str, encoding: str = 'utf-8') -> Path:
    return atomic_write_bytes(path, text.encode(encoding))


def json_safe(obj) -> Any:
    """``obj`` with every NaN/inf float replaced by ``None`` (JSON has no NaN; an
    undefined metric, e.g. precision without detections, is written as ``null``),
    NumPy scalars and arrays as Python numbers and lists, tuples as lists."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if hasattr(obj, 'tolist') and not isinstance(obj, (str, bytes)):  # NumPy / torch scalars and arrays
        return json_safe(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, Path):
        return str(obj)
    return obj


def atomic_write_json(path, obj, indent: int | None = 2, ensure_ascii: bool = False) -> Path:
    """Write ``obj`` as strict JSON (``NaN``/``inf`` as ``null``), atomically."""
    text = json.dumps(json_safe(obj), indent=indent, ensure_ascii=ensure_ascii, allow_nan=False)
    return atomic_write_text(path, text + '\n')


def remove_stale_temp_files(root, recursive: bool = True) -> int:
    """Remove the temporary files that a killed writer left below ``root`` (only in
    ``root`` itself unless ``recursive``); returns how many."""
    n = 0
    for p in (Path(root).rglob if recursive else Path(root).glob)(f'.*{TEMP_MARK}*'):
        p.unlink(missing_ok=True)
        n += 1
    return n


def append_jsonl(path, records) -> int:
    """Append ``records`` as JSON lines. A last line cut by a crash or a full disk is
    ended first, so it stays one bad line of its own (skipped by :func:`read_jsonl`)
    instead of gluing itself onto the next record. Returns the records written."""
    path = Path(path)
    lines = ''.join(json.dumps(json_safe(r), ensure_ascii=False, allow_nan=False) + '\n' for r in records)
    if not lines:
        return 0
    mode = file_mode_for(path)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, mode)
        with os.fdopen(fd, 'ab') as f:
            if f.tell() > 0:
                with open(path, 'rb') as r:
                    r.seek(-1, os.SEEK_END)
                    if r.read(1) != b'\n':
                        f.write(b'\n')
            f.write(lines.encode('utf-8'))
            f.flush()
            os.fsync(f.fileno())
    except OSError as e:
        raise named_os_error(e, path) from None
    return len(records)


def read_jsonl(path, valid=None) -> tuple[list, list[int]]:
    """``(records, bad_lines)`` of a JSON-lines file: every line that is a JSON
    object (and passes ``valid(record)``), and the 1-based numbers of those that
    are not (a cut record, binary junk): a damaged line is reported, never fatal."""
    records, bad = [], []
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return records, bad
    for no, raw in enumerate(data.split(b'\n'), 1):
        if not raw.strip():
            continue
        try:
            rec = json.loads(raw.decode('utf-8'))
        except (UnicodeDecodeError, ValueError, RecursionError):
            bad.append(no)
            continue
        if not isinstance(rec, dict) or (valid is not None and not valid(rec)):
            bad.append(no)
            continue
        records.append(rec)
    return records, bad
