from .patched_test_loop import PatchedTestLoop
from .patched_val_loop import PatchedValLoop

__all__ = ['PatchedTestLoop', 'PatchedValLoop']
