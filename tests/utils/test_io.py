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


UMASK_SCRIPT = """
import os, stat, sys
from pathlib import Path
os.umask(int(sys.argv[2], 8))
from kaokore_mm.utils.io import atomic_write_bytes, atomic_write_json
from kaokore_mm.synthetic.emaki import make_synthetic
out = Path(sys.argv[1])
atomic_write_bytes(out / 'a.bin', b'x')
atomic_write_json(out / 'b.json', {})
make_synthetic(out / 'syn', pages=2, books=1, long_side=(300, 300), face_range=(30, 40), progress=False)
for p in sorted(out.rglob('*')):
    if p.is_file():
        print(oct(stat.S_IMODE(p.stat().st_mode)), p.relative_to(out))
"""


@pytest.mark.parametrize('umask, want', [('022', '0o644'), ('077', '0o600'), ('002', '0o664')])
def test_written_files_have_the_umasks_permissions(tmp_path, umask, want):
    """Atomic writes go through mkstemp (0600): the files of every writer, synthetic
    pages and annotations included, must get what the umask gives instead."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, '-c', UMASK_SCRIPT, str(tmp_path), umask], capture_output=True, text=True, check=True
    )
    modes = [line.split()[0] for line in run.stdout.splitlines()]
    assert len(modes) >= 8 and set(modes) == {want}, run.stdout


def test_a_replaced_file_keeps_its_mode(tmp_path):
    import os
    import stat

    from kaokore_mm.utils.io import atomic_write_text

    path = atomic_write_text(tmp_path / 'shared.json', '{}')
    os.chmod(path, 0o640)
    atomic_write_text(path, '{"a": 1}')
    assert stat.S_IMODE(path.stat().st_mode) == 0o640 and path.read_text() == '{"a": 1}'
