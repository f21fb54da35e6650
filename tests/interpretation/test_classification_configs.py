"""Both paper configs (ResNeXt-50 status and gender) and the demo config train and
test on the synthetic crops on CPU; the CAM tools run on the result."""

import json
from pathlib import Path

import pytest

from tests.conftest import LOADER_OPTS, load_tool

ROOT = Path(__file__).resolve().parents[2]


def opts(extra=()):
    return [
        '--cfg-options',
        'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1',
        'train_dataloader.batch_size=8',
        *LOADER_OPTS,
        'param_scheduler.0.end=1',
        *extra,
    ]


@pytest.mark.parametrize(
    'config, extra',
    [
        ('configs/resnext50_kaokore_status.py', ['model.backbone.init_cfg=None']),
        ('configs/resnext50_kaokore_gender.py', ['model.backbone.init_cfg=None']),
    ],
)
def test_resnext_configs_train_and_test(tiny_data, tmp_path, config, extra):
    train, test = load_tool('train'), load_tool('test')
    runner = train.main([str(ROOT / config), '--work-dir', str(tmp_path), '--data-root', str(tiny_data), *opts(extra)])
    assert runner.epoch == 1
    metrics = test.main(
        [
            str(ROOT / config),
            str(tmp_path / 'epoch_1.pth'),
            '--work-dir',
            str(tmp_path / 'test'),
            '--data-root',
            str(tiny_data),
            *opts(extra),
        ]
    )
    assert 0 <= metrics['accuracy/top1'] <= 100
    n = 4 if 'status' in config else 2
    assert len(metrics['single-label/f1-score_classwise']) == n
    assert list((tmp_path / 'test').glob('*/confusion_matrix.png'))
    assert list((tmp_path / 'test' / 'cam' / 'test').glob('*.png'))  # the CAM hook ran after testing
    # the validation's label confidence: in the metrics and kept in the checkpoint it measured
    assert metrics['confidence/temperature'] > 0 and 0.0 <= metrics['confidence/coverage'] <= 1.0
    from kaokore_mm.interpretation import read_label_confidence

    kept = read_label_confidence(tmp_path / 'epoch_1.pth')
    assert kept['epoch'] == 1 and kept['measured_on'] == 'validation' and kept['target'] == 0.95


def test_demo_classifier_and_cam_tools(tiny_data, tmp_path):
    train = load_tool('train')
    config = str(ROOT / 'configs/demo/resnet18_kaokore_status_demo.py')
    train.main([config, '--work-dir', str(tmp_path), '--data-root', str(tiny_data), *opts()])
    ckpt = str(tmp_path / 'epoch_1.pth')
    # a classifier of faces on a page: calibrated by the checkpoint's temperature, sure above its threshold
    import numpy as np

    from kaokore_mm.interpretation import FaceClassifier

    faces = FaceClassifier(config, ckpt)
    conf = faces.confidence
    assert conf['temperature'] > 0 and conf['threshold'] is not None
    page = np.full((400, 400, 3), 200, np.uint8)
    out = faces(page, [[50, 50, 150, 160], [200, 200, 300, 300]])
    assert [len(o) for o in out] == [3, 3] and all(o[0] in faces.classes and 0 < o[1] <= 1 for o in out)
    assert all(o[2] == (o[1] >= conf['threshold']) for o in out)
    vis = load_tool('vis_cam')
    done = vis.main(
        [
            str(tiny_data / 'images_256'),
            config,
            ckpt,
            '--target-class',
            'warrior',
            '--out',
            str(tmp_path / 'cam'),
            '--max-images',
            '3',
            '--method',
            'gradcam++',
        ]
    )
    assert len(done) == 3 and all(r.target == 1 for _, r in done)
    assert (tmp_path / 'cam' / 'contact_sheet.png').exists()
    assert len(list((tmp_path / 'cam').glob('*_guided_gradcam.png'))) == 3
    from kaokore_mm.utils.cli import UserError

    with pytest.raises(UserError, match='neither pred'):
        vis.main([str(tiny_data / 'images_256'), config, ckpt, '--target-class', 'emperor'])
    game = load_tool('cam_pointing_game')
    res = game.main(
        [config, ckpt, '--data-root', str(tiny_data), '--split', 'train', '--out', str(tmp_path / 'pg.json')]
    )
    assert res['crops'] > 0 and 0 <= res['accuracy'] <= 1
    assert json.loads((tmp_path / 'pg.json').read_text())['crops'] == res['crops']
