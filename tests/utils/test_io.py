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


@pytest.mark.processes
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


def test_a_write_through_a_symlink_updates_its_target(tmp_path):
    """A training COCO shared by a link (``train.json -> shared/pages.json``): the shared file is
    updated and the link stays a link (before, the link was replaced by a file of its own)."""
    from kaokore_mm.utils.io import atomic_write_text

    shared = tmp_path / 'shared' / 'pages.json'
    shared.parent.mkdir()
    shared.write_text('old')
    link = tmp_path / 'train.json'
    link.symlink_to(shared)
    atomic_write_text(link, 'new')
    assert link.is_symlink() and shared.read_text() == 'new' and link.read_text() == 'new'
    assert sorted(p.name for p in shared.parent.iterdir()) == ['pages.json']  # no temporary file left


def test_a_full_disk_names_the_file_and_leaves_the_old_one(tmp_path, monkeypatch):
    """``fsync`` (like ``write``) raises ENOSPC without a file name: the error names the file (the
    tools' boundary prints it as one line); an atomic write leaves the old version and no
    temporary file; an append says which log it could not finish."""
    import errno
    import os

    from kaokore_mm.utils.cli import input_error_message
    from kaokore_mm.utils.io import append_jsonl, atomic_write_text

    target = tmp_path / 'pages.json'
    target.write_text('old')
    log = tmp_path / 'page.log.jsonl'

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', full)
    for write, path in (
        (lambda: atomic_write_text(target, 'new' * 1000), target),
        (lambda: append_jsonl(log, [{}]), log),
    ):
        with pytest.raises(OSError) as e:
            write()
        assert e.value.filename == str(path) and e.value.errno == errno.ENOSPC
        assert str(path) in input_error_message(e.value)
    monkeypatch.undo()
    assert target.read_text() == 'old' and sorted(p.name for p in tmp_path.iterdir()) == [
        'page.log.jsonl',
        'pages.json',
    ]


LOCK_SCRIPT = """
import sys, time
from pathlib import Path
from kaokore_mm.utils.io import folder_lock
folder, log = Path(sys.argv[1]), Path(sys.argv[2])
with folder_lock(folder):
    with open(log, 'a') as f:
        f.write('A in\\n')
    print('locked', flush=True)
    time.sleep(1.0)
    with open(log, 'a') as f:
        f.write('A out\\n')
"""


@pytest.mark.processes
def test_the_folder_lock_holds_across_processes(tmp_path):
    import subprocess
    import sys

    from kaokore_mm.utils.io import folder_lock

    log = tmp_path / 'log'
    proc = subprocess.Popen(
        [sys.executable, '-c', LOCK_SCRIPT, str(tmp_path), str(log)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == 'locked'
    with folder_lock(tmp_path):  # waits for the other process to leave its block
        with open(log, 'a') as f:
            f.write('B in\n')
    proc.wait(30)
    assert log.read_text().splitlines() == ['A in', 'A out', 'B in']


def test_a_read_only_folder_has_no_lock_to_take(tmp_path, monkeypatch):
    """Corrections read from a read-only copy (a CD, a mount): no writer there to wait for."""
    import errno
    import os

    from kaokore_mm.utils.io import folder_lock

    def read_only(path, flags, *args):
        raise OSError(errno.EROFS, 'Read-only file system', str(path))

    monkeypatch.setattr(os, 'open', read_only)
    with folder_lock(tmp_path):
        entered = True
    assert entered
