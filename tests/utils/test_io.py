import json
import math

import numpy as np
import pytest

from kaokore_mm.utils.io import atomic_write_json, json_safe


def test_undefined_figures_are_written_as_null(tmp_path):
    metrics = {
        'face/AP50': float('nan'),
        'face/recall': np.float64(0.5),
        'inf': float('inf'),
        'shape': (1, 2),
        'arr': np.array([1.0, np.nan]),
        'n': np.int64(3),
    }
    path = atomic_write_json(tmp_path / 'm.json', metrics)
    text = path.read_text()
    assert 'NaN' not in text and 'Infinity' not in text
    back = json.loads(text, parse_constant=lambda c: pytest.fail(f'non-JSON constant {c}'))
    assert back == {'face/AP50': None, 'face/recall': 0.5, 'inf': None, 'shape': [1, 2], 'arr': [1.0, None], 'n': 3}
    assert json_safe([math.nan]) == [None]
    assert not [p for p in tmp_path.iterdir() if p.name != 'm.json']  # no temporary file left
