"""Small shared helpers of the tools and APIs: one-line user errors (``cli``), config edits and the one
patch setting (``config``), checks before the Runner (``preflight``), launchers with gloo on CPU (``dist``),
atomic writes and strict JSON (``io``), face crops (``image_ops``), the detector's smallest anchor (``anchors``).
"""

from .io import atomic_write_bytes, atomic_write_json, atomic_write_text, json_safe

__all__ = ['atomic_write_bytes', 'atomic_write_json', 'atomic_write_text', 'json_safe']
