import numpy as np
import pytest

from kaokore_mm.core.face_metrics import average_precision, counts_at, match_page


def random_pages(seed, n_pages=12):
    rng = np.random.default_rng(seed)
    pages = []
    for _ in range(n_pages):
        n = rng.integers(0, 8)
        xy = rng.uniform(0, 900, (n, 2))
        wh = rng.uniform(20, 120, (n, 2))
        gt = np.c_[xy, xy + wh]
        dets = [gt + rng.normal(0, 8, gt.shape)]  # found, roughly
        m = rng.integers(0, 5)
        fxy = rng.uniform(0, 900, (m, 2))
        dets.append(np.c_[fxy, fxy + rng.uniform(20, 120, (m, 2))])  # false alarms
        det = np.concatenate(dets)
        keep = rng.random(len(det)) > 0.2
        det = det[keep]
        det[:, 2:] = np.maximum(det[:, 2:], det[:, :2] + 1)
        pages.append((gt, det, rng.random(len(det))))
    return pages


def pycocotools_ap50(pages, crowds=None):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, anns, dets = [], [], []
    for i, (gt, det, sc) in enumerate(pages):
        images.append(dict(id=i, width=1100, height=1100))
        for k, b in enumerate(gt):
            anns.append(
                dict(
                    id=len(anns) + 1,
                    image_id=i,
                    category_id=1,
                    bbox=[b[0], b[1], b[2] - b[0], b[3] - b[1]],
                    area=float((b[2] - b[0]) * (b[3] - b[1])),
                    iscrowd=int(crowds[i][k]) if crowds else 0,
                )
            )
        for b, s in zip(det, sc):
            dets.append(dict(image_id=i, category_id=1, bbox=[b[0], b[1], b[2] - b[0], b[3] - b[1]], score=float(s)))
    coco = COCO()
    coco.dataset = dict(images=images, annotations=anns, categories=[dict(id=1, name='face')])
    coco.createIndex()
    ev = COCOeval(coco, coco.loadRes(dets), 'bbox')
    ev.evaluate()
    ev.accumulate()
    ev.summarize()
    return ev.stats[1]


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_ap50_agrees_with_pycocotools(seed):
    pages = random_pages(seed)
    ours = average_precision([match_page(det, sc, gt) for gt, det, sc in pages])
    assert abs(ours - pycocotools_ap50(pages)) < 1e-9


@pytest.mark.parametrize('seed', [3, 4, 5, 6])
def test_ap50_agrees_with_pycocotools_with_crowd_regions(seed):
    """Ignored faces are crowd regions: several detections inside one, matched by
    intersection over the detection's area, must be dropped as pycocotools drops them."""
    rng = np.random.default_rng(seed)
    pages, crowds = [], []
    for gt, det, _ in random_pages(seed):
        crowd = rng.random(len(gt)) < 0.35
        inside = []
        for b in gt[crowd]:  # small detections inside the crowd region (IoU < 0.5, IoA = 1)
            wh = (b[2:] - b[:2]) * 0.4
            inside += [np.r_[b[:2] + f * wh, b[:2] + f * wh + wh] for f in (0.1, 1.2)]
        det = np.concatenate([det, np.array(inside).reshape(-1, 4)])
        pages.append((gt, det, rng.random(len(det))))
        crowds.append(crowd)
    assert sum(c.sum() for c in crowds) > 3
    ours = average_precision([match_page(det, sc, gt, gt_ignore=c) for (gt, det, sc), c in zip(pages, crowds)])
    ref = pycocotools_ap50(pages, crowds)
    assert 0.05 < ref < 0.99 and abs(ours - ref) < 1e-9


def test_counts_and_ignored_faces():
    gt = [[0, 0, 10, 10], [20, 0, 30, 10], [50, 50, 60, 60]]
    det = [[0, 0, 10, 10], [21, 0, 31, 10], [100, 100, 110, 110], [50, 50, 60, 60]]
    m = match_page(det, [0.9, 0.8, 0.7, 0.6], gt, gt_ignore=[False, False, True])
    assert m.num_gt == 2 and m.tp.tolist() == [True, True, False]  # the ignored match is dropped
    c = counts_at([m], 0.75)
    assert (c['tp'], c['fp'], c['fn']) == (2, 0, 0)
    c = counts_at([m], 0.0)
    assert (c['tp'], c['fp'], c['fn'], c['precision']) == (2, 1, 0, 2 / 3)
    assert average_precision([m]) == pytest.approx(1.0)
    assert np.isnan(average_precision([match_page(det, [1, 1, 1, 1], [])]))


def test_annotation_effort_reference_figures():
    from kaokore_mm.core.face_metrics import annotation_effort

    # precision 84.17 %, recall 64.65 % on 10000 faces
    tp = 6465
    fn = 10000 - tp
    fp = round(tp / 0.8417) - tp
    e = annotation_effort(tp, fp, fn)
    assert e['faces_to_draw'] == 3535 and e['boxes_to_delete'] == fp
    assert abs(e['manual_share'] - 1 / 3) < 0.04
    assert e['manual_share'] == pytest.approx(0.3535 + 0.1 * fp / 10000)
    assert annotation_effort(10, 0, 0)['manual_share'] == 0.0
    assert annotation_effort(0, 5, 10, delete_cost=1.0)['manual_share'] == 1.5
