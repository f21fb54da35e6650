"""Synthetic emaki pages and face crops with known faces, status and gender cues (NumPy + OpenCV):
the demo data and the test fixtures (``make_synthetic``, ``ensure_synthetic``).
"""
