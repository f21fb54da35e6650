"""Atomic file writes: a reader never sees a half-written file, and a failed
write leaves the previous version in place."""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

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


def remove_stale_temp_files(root) -> int:
    """Remove the temporary files that a killed writer left below ``root``."""
    n = 0
    for p in Path(root).rglob(f'.*{TEMP_MARK}*'):
        p.unlink(missing_ok=True)
        n += 1
    return n
