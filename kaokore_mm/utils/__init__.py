from .io import atomic_write_bytes, atomic_write_json, atomic_write_text, json_safe

__all__ = ['atomic_write_bytes', 'atomic_write_json', 'atomic_write_text', 'json_safe']
