"""tools/test.py's page-level AP50 equals pycocotools' COCOeval on the very
predictions it dumped, for a patched and a whole-page config (crowd faces included)."""

import json
import pickle

import numpy as np
import pytest

from tests.conftest import LOADER_OPTS, SPLIT_OPTS, load_tool

LOADERS = list(LOADER_OPTS)
TRAIN_OPTS = [
    *LOADERS,
    'train_cfg.max_iters=3',
    'train_cfg.val_interval=3',
    *SPLIT_OPTS,
]
TEST_OPTS = [
    *LOADERS,
    'test_dataloader.sampler.ratios=(0,0,1)',  # every page, crowd faces included
    'model.test_cfg.rcnn.score_thr=0.0',
]


def pycocotools_ap50(ann_file, results):
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(ann_file))
        dets = [
            dict(
                image_id=r['img_id'],
                category_id=1,
                score=float(s),
                bbox=[float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])],
            )
            for r in results
            for b, s in zip(np.asarray(r['pred_instances']['bboxes']), np.asarray(r['pred_instances']['scores']))
        ]
        ev = COCOeval(gt, gt.loadRes(dets), 'bbox')
        ev.params.imgIds = sorted(r['img_id'] for r in results)
        ev.params.iouThrs = np.array([0.5])
        ev.params.maxDets = [100]
        ev.params.areaRng, ev.params.areaRngLbl = [[0, 1e10]], ['all']
        ev.evaluate()
        ev.accumulate()
    precision = ev.eval['precision'][0, :, 0, 0, 0]
    return float(precision.mean()), len(dets)


@pytest.mark.parametrize(
    'config', ['configs/demo/faster_rcnn_r18_patch512_demo.py', 'configs/demo/faster_rcnn_r18_nopatch_demo.py']
)
def test_tool_ap50_equals_pycocotools(config, crowd_data, tmp_path):
    train, test = load_tool('train'), load_tool('test')
    train.main(
        [config, '--work-dir', str(tmp_path / 'train'), '--data-root', str(crowd_data), '--cfg-options', *TRAIN_OPTS]
    )
    preds = tmp_path / 'predictions.pkl'
    test.main(
        [
            config,
            str(tmp_path / 'train' / 'iter_3.pth'),
            '--work-dir',
            str(tmp_path / 'test'),
            '--data-root',
            str(crowd_data),
            '--out',
            str(preds),
            '--cfg-options',
            *TEST_OPTS,
        ]
    )
    text = (tmp_path / 'test' / 'test_metrics.json').read_text()
    metrics = json.loads(text)['metrics']  # strict JSON: json.loads would accept NaN, so check the text
    assert 'NaN' not in text and 'Infinity' not in text
    results = pickle.loads(preds.read_bytes())
    coco = json.loads((crowd_data / 'annotations' / 'pages.json').read_text())
    assert len(results) == metrics['face/num_pages'] == len(coco['images'])
    crowd = sum(a['iscrowd'] for a in coco['annotations'])
    assert crowd > 0 and metrics['face/num_faces'] == len(coco['annotations']) - crowd
    ref, num_dets = pycocotools_ap50(crowd_data / 'annotations' / 'pages.json', results)
    assert num_dets > 0
    print(f'{config}: AP50 {metrics["face/AP50"]:.5f}, pycocotools {ref:.5f}, {num_dets} boxes')
    assert metrics['face/AP50'] == pytest.approx(ref, abs=1e-3)
