from pathlib import Path

import pytest

from tests.conftest import LOADER_OPTS, load_tool

ROOT = Path(__file__).resolve().parents[2]


def test_make_synthetic_cli(tmp_path, capsys):
    make_synthetic = load_tool('make_synthetic')
    summary = make_synthetic.main(
        [
            '--out',
            str(tmp_path),
            '--pages',
            '3',
            '--books',
            '2',
            '--seed',
            '1',
            '--long-side',
            '600',
            '700',
            '--face-size',
            '30',
            '50',
        ]
    )
    assert summary['pages'] == 3 and (tmp_path / 'annotations/pages.json').exists()
    assert '3 pages' in capsys.readouterr().out


def test_split_report(tiny_data, tmp_path, capsys):
    split_report = load_tool('split_report')
    out = tmp_path / 'report.png'
    table = split_report.main(
        [
            str(ROOT / 'configs/faster_rcnn_r50_patch1333.py'),
            '--data-root',
            str(tiny_data),
            '--split',
            'inter_book',
            '--out',
            str(out),
        ]
    )
    assert out.exists() and out.stat().st_size > 1000
    books = [set(t) for t in table.values()]
    assert not (books[0] & books[2]) and not (books[0] & books[1])  # inter_book: no shared books
    assert sum(p for t in table.values() for p, _ in t.values()) == 8
    text = capsys.readouterr().out
    assert 'total' in text and 'book000' in text
    table = split_report.main(
        [
            str(ROOT / 'configs/faster_rcnn_r50_patch1333.py'),
            '--data-root',
            str(tiny_data),
            '--split',
            'intra_book',
            '--out',
            str(out),
        ]
    )
    assert set(table['train']) == set(table['test']) == {'book000', 'book001', 'book002', 'book003'}


def test_an_empty_subset_is_one_line_saying_what_to_change(tiny_data, tmp_path, capsys):
    import json

    from kaokore_mm.utils.cli import cli_main
    from tests.conftest import load_tool

    root = tmp_path / 'two_books'
    (root / 'annotations').mkdir(parents=True)
    (root / 'pages').symlink_to(tiny_data / 'pages', target_is_directory=True)
    coco = json.loads((tiny_data / 'annotations' / 'pages.json').read_text())
    keep = {im['id'] for im in coco['images'] if im['book_id'] in ('book000', 'book001')}
    coco['images'] = [im for im in coco['images'] if im['id'] in keep]
    coco['annotations'] = [a for a in coco['annotations'] if a['image_id'] in keep]
    (root / 'annotations' / 'pages.json').write_text(json.dumps(coco))
    loaders = list(LOADER_OPTS)
    rc = cli_main(
        load_tool('train').main,
        [
            'configs/demo/faster_rcnn_r18_patch512_demo.py',
            '--work-dir',
            str(tmp_path / 'w'),
            '--data-root',
            str(root),
            '--cfg-options',
            *loaders,
            'train_cfg.max_iters=1',
            'train_cfg.val_interval=1',
        ],
    )
    err = capsys.readouterr().err.strip().splitlines()
    # reported by the check before the Runner: no environment dump, no traceback
    assert rc == 2 and err[-1].startswith(
        'error: configs/demo/faster_rcnn_r18_patch512_demo.py: val_dataloader.sampler: subset'
    )
    assert not any('System environment' in line for line in err)
    assert 'is empty' in err[-1] and 'intra_book' in err[-1] and 'Traceback' not in '\n'.join(err)


def test_a_page_whose_size_disagrees_with_its_coco_stops_the_test_with_one_line(tiny_data, tmp_path, capsys):
    import json

    import torch
    from mmdet.registry import MODELS
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from kaokore_mm.utils.cli import cli_main
    from tests.conftest import load_tool

    root = tmp_path / 'data'
    (root / 'annotations').mkdir(parents=True)
    (root / 'pages').symlink_to(tiny_data / 'pages', target_is_directory=True)
    coco = json.loads((tiny_data / 'annotations' / 'pages.json').read_text())
    coco['images'][0]['width'] += 100  # as a COCO made on a larger download of the page
    (root / 'annotations' / 'pages.json').write_text(json.dumps(coco))
    init_default_scope('mmdet')
    config = 'configs/demo/faster_rcnn_r18_nopatch_demo.py'
    ckpt = tmp_path / 'w.pth'
    torch.save(dict(state_dict=MODELS.build(Config.fromfile(config).model).state_dict()), ckpt)
    args = [config, str(ckpt), '--work-dir', str(tmp_path / 'w'), '--data-root', str(root)]
    opts = ['--cfg-options', *LOADER_OPTS, 'test_dataloader.sampler.ratios=(0,0,1)']
    rc = cli_main(load_tool('test').main, [*args, *opts])
    err = capsys.readouterr().err.strip().splitlines()
    name = coco['images'][0]['file_name'].split('/')[-1]
    assert rc == 2 and err[-1].startswith('error: ') and name in err[-1] and 'annotations say' in err[-1]
    assert '--skip-bad-pages' in err[-1] and not (tmp_path / 'w' / 'test_metrics.json').exists()
    # the policy's other half: the page is left out with a warning, the others are tested
    rc = cli_main(load_tool('test').main, [*args, '--skip-bad-pages', *opts])
    metrics = json.loads((tmp_path / 'w' / 'test_metrics.json').read_text())
    assert rc == 0 and metrics['samples'] == len(coco['images']) - 1


def test_suggest_views_prints_the_rules_views_for_the_training_faces(tiny_data, capsys):
    import numpy as np

    from kaokore_mm.apis.suggest_views import training_face_sizes
    from kaokore_mm.core.patching import views_for_faces
    from kaokore_mm.utils.cli import cli_main
    from kaokore_mm.utils.config import load_config, set_data_root
    from tests.conftest import SPLIT_OPTS

    config = str(ROOT / 'configs/faster_rcnn_r50_patch1333.py')
    rule = load_tool('suggest_views').main([config, '--data-root', str(tiny_data), '--cfg-options', *SPLIT_OPTS])
    out = capsys.readouterr().out
    assert 'views = [' in out and f'test_cfg = dict(overlap={rule["overlap"]:g})' in out
    cfg = load_config(config)
    set_data_root(cfg, str(tiny_data))
    cfg.merge_from_dict({o.split('=')[0]: (0.5, 0.25, 0.25) for o in SPLIT_OPTS})
    sizes = training_face_sizes(cfg)
    assert 0 < len(sizes) < 60 and rule['min_size'] == 32  # the train books' faces only; R50-FPN's anchor
    want = views_for_faces(sizes, (1333, 800), 32)
    assert rule['views'] == want['views'] and rule['overlap'] == want['overlap']
    assert np.all(sizes <= 81)  # tiny faces: the rate-1 view alone would do, the whole page is always added
    rc = cli_main(load_tool('suggest_views').main, [str(ROOT / 'configs/faster_rcnn_r50_nopatch.py')])
    assert rc == 2 and 'trains on whole pages' in capsys.readouterr().err


@pytest.mark.parametrize(
    'pins, needle',
    [
        (['--test-books', 'nobook'], "pin_books names books that have no page: ['nobook']"),
        (['--test-books', 'book001', '--val-books', 'book001'], "book 'book001' is pinned to two subsets"),
    ],
)
def test_split_report_pins_that_cannot_be_are_one_line(tiny_data, tmp_path, capsys, pins, needle):
    from kaokore_mm.utils.cli import cli_main

    args = [str(ROOT / 'configs/faster_rcnn_r50_patch1333.py'), '--data-root', str(tiny_data), '--split', 'inter_book']
    rc = cli_main(load_tool('split_report').main, [*args, *pins, '--out', str(tmp_path / 'r.png')])
    err = capsys.readouterr().err
    assert rc == 2 and err.count('\n') == 1 and needle in err and 'Traceback' not in err, err
