import csv
from pathlib import Path

from tests.conftest import load_tool

ROOT = Path(__file__).resolve().parents[2]
OPTS = ['train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
        'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
        'train_dataloader.sampler.ratios=(0.5,0.25,0.25)', 'val_dataloader.sampler.ratios=(0.5,0.25,0.25)',
        'test_dataloader.sampler.ratios=(0.5,0.25,0.25)']


def test_sweep_over_two_demo_configs(tiny_data, tmp_path, capsys):
    sweep = load_tool('sweep')
    configs = ['configs/demo/faster_rcnn_r18_patch512_demo.py', 'configs/demo/faster_rcnn_r18_nopatch_demo.py']
    args = [*configs, '--work-dir', str(tmp_path), '--data-root', str(tiny_data), '--max-iters', '1',
            '--cfg-options', *OPTS]
    rows = sweep.main(args)
    assert [r['config'] for r in rows] == configs
    assert all(0 <= r['recall'] <= 1 and r['pages_per_s'] > 0 for r in rows)
    table = list(csv.DictReader(open(tmp_path / 'sweep.csv')))
    assert [t['config'] for t in table] == configs and set(table[0]) >= {'AP50', 'recall', 'train_min'}
    assert (tmp_path / 'sweep.md').read_text().count('\n') == 4
    assert (tmp_path / 'sweep.png').stat().st_size > 5000
    capsys.readouterr()
    sweep.main(args)  # resumed: nothing trained again
    assert capsys.readouterr().out.count('finished earlier') == 2
