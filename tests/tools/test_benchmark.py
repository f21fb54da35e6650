"""The inference benchmark from its command line: figures measured side by side in one run."""

import importlib.util
import json

import pytest

from kaokore_mm.utils.cli import cli_main
from tests.conftest import load_tool


def test_benchmark_on_two_pages_writes_its_figures(tiny_data, tmp_path, capsys):
    out = tmp_path / 'bench.json'
    args = [
        'configs/demo/faster_rcnn_r18_patch512_demo.py',
        '--pages',
        str(tiny_data / 'annotations' / 'pages.json'),
        '--max-pages',
        '2',
        '--warmup',
        '0',
        '--repeat',
        '1',
        '--score-thr',
        '0.0',
        '--vs-one-view',
        '--out',
        str(out),
    ]
    assert cli_main(load_tool('benchmark').main, args) == 0
    res = json.loads(out.read_text())
    assert res['pages'] == 2 and res['patches'] >= 2 and res['patch_size'] == [512, 512]
    assert res['time_s'] > 0 and res['pure_forward_s'] > 0 and 0 < res['forward_share'] <= 1
    assert res['decode_s'] + res['forward_s'] + res['merge_s'] <= res['time_s'] * 1.01
    assert 0 <= res['recall'] <= 1  # the COCO's faces: random weights, any recall, but computed
    # the demo config's views (rate 1 and the whole page) against its rate-1 patches alone: one input more a page
    assert len(res['views']) == 2 and res['patches'] == res['one_view_patches'] + 2
    assert res['views_vs_one_view'] == res['time_s'] / res['one_view_time_s'] > 0 and 0 <= res['one_view_recall'] <= 1
    out_text = capsys.readouterr().out
    assert 'page time / pure forward' in out_text and 'views/one view time = ' in out_text


def test_benchmark_refuses_a_missing_page_folder(tmp_path, capsys):
    rc = cli_main(
        load_tool('benchmark').main,
        ['configs/demo/faster_rcnn_r18_patch512_demo.py', '--pages', str(tmp_path / 'nothere')],
    )
    assert rc == 2 and 'nothere' in capsys.readouterr().err


@pytest.mark.skipif(importlib.util.find_spec('sahi') is not None, reason='SAHI is installed here')
def test_benchmark_says_at_once_that_sahi_is_missing(tiny_data, capsys):
    args = ['configs/demo/faster_rcnn_r18_patch512_demo.py', '--pages', str(tiny_data / 'annotations' / 'pages.json')]
    assert cli_main(load_tool('benchmark').main, [*args, '--vs-sahi', '--warmup', '0']) == 2
    err = capsys.readouterr().err
    assert 'pip install -e .[bench]' in err and 'Traceback' not in err and len(err.strip().splitlines()) == 1
