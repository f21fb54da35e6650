import cv2
import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

import kaokore_mm  # noqa: F401
from kaokore_mm.inference import PatchedPredictor


class WhiteSquareDetector:
    """A fake detector: every white blob of a patch is a face (exact pixel box)."""

    def __init__(self):
        self.batches = []

    def test_step(self, data):
        self.batches.append(len(data['inputs']))
        outs = []
        for inputs, sample in zip(data['inputs'], data['data_samples']):
            img = inputs.permute(1, 2, 0).numpy()
            mask = (img == 255).all(axis=2).astype(np.uint8)
            n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
            boxes = [[x, y, x + w, y + h] for x, y, w, h, _ in stats[1:n]]
            pred = InstanceData()
            pred.bboxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4)
            pred.scores = torch.full((len(boxes),), 0.9)
            pred.labels = torch.zeros(len(boxes), dtype=torch.int64)
            sample.pred_instances = pred
            outs.append(sample)
        return outs


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmdet')


def page_with_faces(h=700, w=1000, faces=((10, 10, 40, 50), (450, 320, 490, 360), (960, 660, 1000, 700))):
    img = np.full((h, w, 3), 100, np.uint8)
    for x1, y1, x2, y2 in faces:
        img[y1:y2, x1:x2] = 255
    return img, [list(map(float, f)) for f in faces]


def test_grid_shift_merge_gives_exact_page_boxes():
    img, faces = page_with_faces()
    model = WhiteSquareDetector()
    pred = PatchedPredictor(patch_size=(400, 300), batch_size=4).predict_page(model, img)
    assert sorted(pred.bboxes.tolist()) == sorted(faces)
    assert model.batches == [4, 4, 1]  # 9 patches in batches of 4
    auto = WhiteSquareDetector()
    PatchedPredictor(patch_size=(400, 300)).predict_page(auto, img)
    assert auto.batches == [1] * 9  # 'auto' on the CPU


def test_overlapping_patches_give_one_box_per_face():
    # the face at x 450-490 lies in both patches that overlap over x 300-400 ... 600-700
    img, faces = page_with_faces(faces=((320, 100, 380, 160), (10, 10, 40, 50)))
    pred = PatchedPredictor(patch_size=(400, 300), overlap=0.25).predict_page(WhiteSquareDetector(), img)
    assert sorted(pred.bboxes.tolist()) == sorted(faces)


def test_empty_page_small_page_and_grayscale():
    pred = PatchedPredictor(patch_size=512).predict_page(WhiteSquareDetector(), np.full((40, 60, 3), 9, np.uint8))
    assert pred.bboxes.shape == (0, 4) and pred.scores.shape == (0,)
    gray = np.full((100, 80), 100, np.uint8)
    gray[10:20, 30:50] = 255
    pred = PatchedPredictor(patch_size=512).predict_page(WhiteSquareDetector(), gray)
    assert pred.bboxes.tolist() == [[30, 10, 50, 20]]


def test_bad_merge_raises():
    with pytest.raises(ValueError, match='valid: nms, nmm, wbf'):
        PatchedPredictor(merge=dict(type='vote'))


def test_every_merge_option_gives_one_box_per_face_across_a_border():
    # a face cut by the vertical border at x = 400: each patch sees a part of it
    img, _ = page_with_faces(faces=((380, 100, 430, 150),))
    nms = PatchedPredictor(patch_size=(400, 300)).predict_page(WhiteSquareDetector(), img)
    assert sorted(nms.bboxes.tolist()) == [[380, 100, 400, 150], [400, 100, 430, 150]]  # IoU 0: NMS keeps both
    # with 10 % overlap (stride 360) the first patch sees x 380-400, the second the whole face
    overlapping = dict(patch_size=(400, 300), overlap=0.1)
    # the piece touches the first patch's inner border (x = 400): the whole box of the second patch absorbs it
    # before any merge, whatever the scores (SAHI #560)
    for merge in (dict(type='nms', iou_thr=0.5), dict(type='nmm', match_thr=0.5), dict(type='wbf', iou_thr=0.3)):
        got = PatchedPredictor(**overlapping, merge=merge).predict_page(WhiteSquareDetector(), img)
        assert got.bboxes.tolist() == [[380, 100, 430, 150]], merge
    # without the border's evidence, score-ordered merging alone: NMS keeps both (IoU 0.4), NMM merges (IOS 1.0),
    # WBF fuses them into the score-weighted mean
    off = dict(cut_ioa_thr=None)
    nms = PatchedPredictor(**overlapping, merge=dict(type='nms', iou_thr=0.5, **off))
    assert sorted(nms.predict_page(WhiteSquareDetector(), img).bboxes.tolist()) == [
        [380, 100, 400, 150],
        [380, 100, 430, 150],
    ]
    nmm = PatchedPredictor(**overlapping, merge=dict(type='nmm', match_thr=0.5, **off))
    assert nmm.predict_page(WhiteSquareDetector(), img).bboxes.tolist() == [[380, 100, 430, 150]]
    wbf = PatchedPredictor(**overlapping, merge=dict(type='wbf', iou_thr=0.3, **off))
    assert wbf.predict_page(WhiteSquareDetector(), img).bboxes.tolist() == [[380, 100, 415, 150]]


def test_no_patching():
    img, faces = page_with_faces()
    whole = PatchedPredictor(patch_size=None).predict_page(WhiteSquareDetector(), img)
    assert sorted(whole.bboxes.tolist()) == sorted(faces)


def test_rgba_and_16bit_pages():
    img, faces = page_with_faces()
    rgba = np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], axis=2)
    assert sorted(PatchedPredictor(patch_size=512).predict_page(WhiteSquareDetector(), rgba).bboxes.tolist()) == sorted(
        faces
    )
    deep = img.astype(np.uint16) * 257
    assert sorted(PatchedPredictor(patch_size=512).predict_page(WhiteSquareDetector(), deep).bboxes.tolist()) == sorted(
        faces
    )


def test_long_scroll_is_processed_patch_by_patch():
    class ShapeRecorder(WhiteSquareDetector):
        def __init__(self):
            super().__init__()
            self.shapes = set()

        def test_step(self, data):
            self.shapes.update(tuple(x.shape) for x in data['inputs'])
            return super().test_step(data)

    scroll = np.full((600, 20000, 3), 90, np.uint8)  # a scroll section 20000 px long
    scroll[100:150, 19950:19990] = 255
    scroll[500:560, 7000:7040] = 255
    model = ShapeRecorder()
    out = PatchedPredictor(patch_size=(1333, 800), batch_size=2).predict_page(model, scroll)
    assert model.shapes == {(3, 800, 1333)}  # the model never sees more than a patch
    assert sorted(out.bboxes.tolist()) == [[7000, 500, 7040, 560], [19950, 100, 19990, 150]]


def test_pyramid_views_keep_each_views_valid_sizes_and_batch_across_views():
    # 1600 x 1200 page, 400 x 300 patches; sizes and places are multiples of 4, so that the rescaled
    # views (area averaging at 1/2 and 1/4) keep the white squares' edges exact
    faces = ((100, 100, 140, 140), (800, 400, 1000, 600), (0, 600, 560, 1160))
    img, boxes = page_with_faces(h=1200, w=1600, faces=faces)
    views = [
        dict(rate=1.0, valid_range=(0, 150)),  # the 40 px face (the others are cut or too large here)
        dict(rate=0.5, valid_range=(32, 150)),  # the 200 px face (100 px); the 40 px one is 20 px: too small
        dict(rate='whole', valid_range=(32, None)),  # 1/4: the 560 px face (140 px) and the 200 px one (50 px)
    ]
    model = WhiteSquareDetector()
    pred = PatchedPredictor(
        patch_size=(400, 300), batch_size=8, views=views, merge=dict(type='nms', iou_thr=0.5, ioa_thr=0.7)
    ).predict_page(model, img)
    assert sorted(pred.bboxes.tolist()) == sorted(boxes)
    assert model.batches == [8, 8, 5]  # 16 + 4 + 1 patches, batched across views
    # without valid ranges, the pieces of the cut faces are absorbed by the whole faces coarser views see
    # (the border that cut them is the evidence); without that either, they stay
    every = [dict(rate=v['rate']) for v in views]
    pred = PatchedPredictor(patch_size=(400, 300), views=every).predict_page(WhiteSquareDetector(), img)
    assert sorted(pred.bboxes.tolist()) == sorted(boxes)
    plain = dict(type='nms', iou_thr=0.5, cut_ioa_thr=None)
    pred = PatchedPredictor(patch_size=(400, 300), views=every, merge=plain).predict_page(WhiteSquareDetector(), img)
    assert len(pred.bboxes) > 3


def test_with_views_none_is_the_single_scale_patching_and_leaves_the_original_alone():
    faces = ((100, 100, 140, 140), (800, 400, 1000, 600))
    img, _ = page_with_faces(h=1200, w=1600, faces=faces)
    views = [dict(rate=1.0, valid_range=(0, 150)), dict(rate='whole', valid_range=(32, None))]
    pyramid = PatchedPredictor(patch_size=(400, 300), overlap=0.25, batch_size=4, views=views)
    pyramid.forward_time = 7.0
    one = pyramid.with_views(None)
    plain = PatchedPredictor(patch_size=(400, 300), overlap=0.25, batch_size=4)
    assert one.views == plain.views and len(pyramid.views) == 2 and one.forward_time == 0.0 == one.merge_time
    assert (one.patch_size, one.overlap, one.batch_size, one.merge) == (
        pyramid.patch_size,
        pyramid.overlap,
        pyramid.batch_size,
        pyramid.merge,
    )
    a, b = WhiteSquareDetector(), WhiteSquareDetector()
    got, want = one.predict_page(a, img), plain.predict_page(b, img)
    assert got.bboxes.tolist() == want.bboxes.tolist() and a.batches == b.batches
    assert pyramid.forward_time == 7.0  # the copy's timers are its own
    assert len(pyramid.grids(1600, 1200)) == 2 and len(one.grids(1600, 1200)) == 1


def test_a_portrait_pages_whole_view_goes_in_its_own_batch():
    img, boxes = page_with_faces(h=1600, w=1200, faces=((400, 400, 800, 800),))
    model = WhiteSquareDetector()
    views = [dict(rate=1.0, valid_range=(0, 150)), dict(rate='whole', valid_range=(32, None))]
    pred = PatchedPredictor(patch_size=(400, 300), batch_size=32, views=views).predict_page(model, img)
    assert sorted(pred.bboxes.tolist()) == boxes  # 1/4: 100 px in a 300 x 400 input
    assert sorted(model.batches) == [1, 18]  # 3 x 6 patches, then the page in an upright input


def test_boxes_on_the_padding_never_leave_the_predictor():
    """A detector may fire on the padding beyond the page: clipped to the page such a box
    is a line (zero area), which annotate wrote out and the review app then refused."""

    class PaddingDetector(WhiteSquareDetector):
        def test_step(self, data):
            outs = super().test_step(data)
            for out in outs:  # one box wholly on the padding of every patch, one across the border
                extra = torch.tensor([[390.0, 10.0, 399.0, 40.0], [250.0, 250.0, 300.0, 299.0]])
                p = out.pred_instances
                out.pred_instances = InstanceData(
                    bboxes=torch.cat([p.bboxes, extra]),
                    scores=torch.cat([p.scores, torch.full((2,), 0.8)]),
                    labels=torch.cat([p.labels, torch.zeros(2, dtype=torch.int64)]),
                )
            return outs

    img, faces = page_with_faces(h=280, w=380, faces=((10, 10, 40, 50),))
    pred = PatchedPredictor(patch_size=(400, 300)).predict_page(PaddingDetector(), img)
    b = pred.bboxes
    assert ((b[:, 2] - b[:, 0]) >= 1).all() and ((b[:, 3] - b[:, 1]) >= 1).all()
    assert sorted(b.tolist()) == sorted([faces[0], [250.0, 250.0, 300.0, 280.0]])  # the straddling box is clipped


class CrestAtFullResolution(WhiteSquareDetector):
    """White squares are faces in every view; grey ones (crests) look like faces only at the scan's
    own resolution (view scale 1), where the detector scores them above the faces."""

    def test_step(self, data):
        outs = super().test_step(data)
        for inputs, sample in zip(data['inputs'], outs):
            pred = sample.pred_instances
            pred.scores = torch.full((len(pred),), 0.7)
            if tuple(sample.metainfo['view_scale']) != (1.0, 1.0):
                continue
            img = inputs.permute(1, 2, 0).numpy()
            mask = (img == 180).all(axis=2).astype(np.uint8)
            n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
            crest = torch.tensor([[x, y, x + w, y + h] for x, y, w, h, _ in stats[1:n]], dtype=torch.float32)
            new = InstanceData()
            new.bboxes = torch.cat([pred.bboxes, crest.reshape(-1, 4)])
            new.scores = torch.cat([pred.scores, torch.full((len(crest),), 0.9)])
            new.labels = torch.zeros(len(new.bboxes), dtype=torch.int64)
            sample.pred_instances = new
        return outs


def test_a_box_only_the_full_resolution_view_sees_loses_to_the_faces_both_views_see():
    img, faces = page_with_faces(h=1200, w=1600, faces=((100, 100, 200, 200), (800, 400, 900, 500)))
    img[600:700, 200:300] = 180  # a 100 px crest: both views were trained on faces of its size
    img[1000:1040, 1000:1040] = 180  # a 40 px one: too small for the whole view, its score stays
    views = [dict(rate=1.0, valid_range=(0, 150)), dict(rate='whole', valid_range=(20, None))]
    merge = dict(type='nms', iou_thr=0.5, ioa_thr=0.7)
    plain = PatchedPredictor(patch_size=(400, 300), overlap=0.25, views=views, merge=merge)
    got = plain.predict_page(CrestAtFullResolution(), img)
    assert got.bboxes[got.scores.argmax()].tolist() in ([200, 600, 300, 700], [1000, 1000, 1040, 1040])
    voting = PatchedPredictor(patch_size=(400, 300), overlap=0.25, views=views, merge=dict(merge, view_agreement=0.5))
    got = voting.predict_page(CrestAtFullResolution(), img)
    by_box = {tuple(map(int, b)): round(float(s), 3) for b, s in zip(got.bboxes.tolist(), got.scores)}
    assert by_box == {
        (100, 100, 200, 200): 0.7,
        (800, 400, 900, 500): 0.7,
        (200, 600, 300, 700): 0.45,
        (1000, 1000, 1040, 1040): 0.9,
    }


@pytest.mark.parametrize(
    'merge', [dict(view_agreement=2), dict(view_agreement='half'), dict(view_agreement=True), dict(contain='iou')]
)
def test_a_bad_vote_or_containment_setting_is_refused_when_built(merge):
    with pytest.raises(ValueError, match='view_agreement|contain'):
        PatchedPredictor(merge=dict(type='nms', iou_thr=0.5, ioa_thr=0.7, **merge))
