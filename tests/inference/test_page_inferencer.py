from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from kaokore_mm.inference import PageInferencer, read_page

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def inferencer():
    torch.manual_seed(0)
    return PageInferencer(
        str(ROOT / 'configs/demo/faster_rcnn_r18_patch512_demo.py'), patch_size=(256, 256), batch_size=3
    )


def test_page_in_boxes_out(inferencer, tmp_path):
    page = np.random.default_rng(0).integers(0, 255, (300, 700, 3), dtype=np.uint8)
    inferencer.model.roi_head.test_cfg.score_thr = 0.0  # random weights: keep every box, so there are boxes
    out = inferencer(page)
    assert set(out) == {'bboxes', 'scores', 'labels'}
    b = out['bboxes']
    assert b.shape[1] == 4 and len(b) == len(out['scores']) > 10
    # on the page, clipped to it, and from every patch column (0, 256, 512): shifted back, not patch pixels
    assert b[:, :2].min() >= 0 and b[:, 2].max() <= 700 and b[:, 3].max() <= 300
    assert (b[:, 0] >= 512).any() and (b[:, 2] <= 256).any()
    assert inferencer.predictor.patch_size == (256, 256) and inferencer.predictor.batch_size_for(inferencer.model) == 3
    cv2.imwrite(str(tmp_path / 'page.png'), page[..., 0])  # grayscale file
    assert read_page(tmp_path / 'page.png').shape == (300, 700, 3)
    from_file = inferencer(tmp_path / 'page.png')['scores']  # the file gives what its pixels give
    assert np.array_equal(from_file, inferencer(np.repeat(page[..., :1], 3, axis=2))['scores'])


def test_bad_files_name_the_file(tmp_path):
    from kaokore_mm.core.page_files import BadPageError

    with pytest.raises(BadPageError, match='missing.jpg: no such page image'):
        read_page(tmp_path / 'missing.jpg')
    (tmp_path / 'broken.jpg').write_bytes(b'\xff\xd8 not really a jpeg')
    with pytest.raises(BadPageError, match='broken.jpg'):
        read_page(tmp_path / 'broken.jpg')


def test_whole_page_config_uses_its_test_transforms():
    inf = PageInferencer(str(ROOT / 'configs/demo/faster_rcnn_r18_nopatch_demo.py'))
    assert inf.predictor.patch_size is None
    assert [type(t).__name__ for t in inf.predictor.pipeline.transforms] == ['Resize', 'PackDetInputs']
    assert inf(np.full((900, 600, 3), 128, np.uint8))['bboxes'].shape[1] == 4
