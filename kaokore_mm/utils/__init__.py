from .io import atomic_write_bytes, atomic_write_text

__all__ = ['atomic_write_bytes', 'atomic_write_text']
