"""The device benchmark's steps at the tiny size on the CPU (the CUDA run is the same code at full size)."""

import json

import pytest

from tests.conftest import load_tool


def test_tiny_device_benchmark_writes_every_step(tmp_path, capsys):
    tool = load_tool('benchmark_device')
    res = tool.main(
        [
            'configs/demo/faster_rcnn_r18_patch512_demo.py',
            '--device',
            'cpu',
            '--size',
            'tiny',
            '--out-dir',
            str(tmp_path),
        ]
    )
    saved = json.loads((tmp_path / 'device_benchmark.json').read_text())
    assert saved['rows'] == json.loads(json.dumps(res['rows'])) and saved['device_name'].startswith('CPU')
    train = [r for r in res['rows'] if r['step'] == 'train' and 'note' not in r]
    assert [r['workers'] for r in train] == [0, 1]
    assert all(r['patched'] and r['iters_timed'] == 2 and r['patches_per_s'] > 0 for r in train)
    predict = [r for r in res['rows'] if r['step'] == 'predict' and 'note' not in r]
    assert [(r['what'], r['batch_size']) for r in predict[:2]] == [('ours', 1), ('ours', 8)]
    assert predict[0]['views'] == 2 and predict[2]['what'] == 'ours, single grid' and predict[2]['views'] == 1
    assert all(r['pages_per_s'] > 0 and r['patches_per_s'] >= r['pages_per_s'] for r in predict[:3])
    notes = [r['note'] for r in res['rows'] if 'note' in r]
    assert any('AMP training needs CUDA' in n for n in notes)  # a step that cannot run says why, never a blank
    table = (tmp_path / 'device_benchmark.md').read_text()
    assert table.count('\n| ') == len(res['rows']) + 1 and 'patched training' in table
    assert 'device_benchmark.md' in capsys.readouterr().out


def test_cuda_on_a_machine_without_it_is_one_line(tmp_path, capsys):
    import torch

    from kaokore_mm.utils.cli import cli_main

    if torch.cuda.is_available():
        pytest.skip('this machine has CUDA')
    rc = cli_main(load_tool('benchmark_device').main, ['--out-dir', str(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and 'CUDA is not available' in err and err.count('\n') == 1
