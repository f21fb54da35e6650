"""The merge benchmark: timings of every merge beside torchvision's NMS, the tensor merges checked
against the first NumPy-loop implementations on the same boxes."""

import pytest

from kaokore_mm.benchmarks.merge import boxes, load_reference, merge_benchmark
from kaokore_mm.errors import UserError
from tests.conftest import load_tool
from tests.test_compat import ROOT

REFERENCE = ROOT / 'tests' / 'core' / 'merge_reference.py'


def test_clustered_boxes_come_five_per_face_and_some_are_cut():
    b, s = boxes('clustered', 100)
    assert b.shape == (100, 4) and s.shape == (100,)
    assert (b[:, 2:] > b[:, :2]).all()
    widths = b[:, 2] - b[:, 0]
    assert (widths.reshape(20, 5).min(1) < 0.8 * widths.reshape(20, 5).max(1)).any()  # cut pieces beside faces


def test_the_benchmark_times_every_merge_and_checks_them_against_the_reference():
    lines = []
    rows = merge_benchmark([50], repeat=1, ref=load_reference(REFERENCE), log=lines.append)
    assert [(r['kind'], r['boxes']) for r in rows] == [('clustered', 50), ('scattered', 50)]
    for r in rows:
        assert r['same_results'] is True
        assert all(r[k] > 0 for k in ('torchvision_batched_nms', 'nms', 'nmm', 'wbf', 'ref_nms', 'ref_nmm', 'ref_wbf'))
    assert len(lines) == 2 and 'same results' in lines[0]


def test_a_missing_reference_is_one_line(tmp_path):
    with pytest.raises(UserError, match='needs a source checkout'):
        load_reference(tmp_path / 'merge_reference.py')


def test_the_tool_writes_the_rows(tmp_path, capsys):
    rows = load_tool('benchmark_merge').main(['--boxes', '20', '--repeat', '1', '--out', str(tmp_path / 'm.json')])
    assert len(rows) == 2 and (tmp_path / 'm.json').stat().st_size > 0
    assert 'torchvision nms' in capsys.readouterr().out
