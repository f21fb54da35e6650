"""Page-level face detection metric (recall, precision, AP50), overall and per book."""

from __future__ import annotations

import math
import os.path as osp
from collections import defaultdict

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from kaokore_mm.core.face_metrics import annotation_effort, average_precision, counts_at, match_page, pr_curve
from kaokore_mm.core.operating_point import (
    ADJUST_BELOW,
    RULE,
    check_costs,
    check_rule,
    correction_actions,
    operating_point,
)
from kaokore_mm.visualization.plots import pr_curve_figure, save_figure

from .gather import gather_pages


def _boxes(instances) -> np.ndarray:
    if instances is None or 'bboxes' not in instances:
        return np.zeros((0, 4))
    boxes = instances['bboxes']
    boxes = boxes.tensor if hasattr(boxes, 'tensor') else boxes
    return boxes.detach().cpu().numpy().reshape(-1, 4).astype(np.float64)


@METRICS.register_module()
class FaceDetectionMetric(BaseMetric):
    """Recall and precision at ``score_thr`` and AP at IoU ``iou_thr`` on whole pages.

    Ground truth and predictions are both in page pixels whatever the
    pipeline: the faces come from the samples' ``page_gt_instances``, which
    :class:`~kaokore_mm.datasets.KaoKoreFaceDataset` attaches in test mode
    straight from the annotations (never from ``gt_instances``, whose frame
    depends on whether ``LoadAnnotations`` ran before or after ``Resize``), and
    predictions are page-level (mmdet rescales them to ``ori_shape``; the
    patched loops shift them back to the page). AP follows pycocotools'
    matching, crowd regions included, and 101-point interpolation (see
    :mod:`kaokore_mm.core.face_metrics`). With ``per_book``, every figure is also
    reported per ``book_id``. With ``coco``, pycocotools' AP[.5:.95] (``coco_AP``)
    and AR with 100 detections (``coco_AR100``) are added, computed from the same
    boxes (ignored faces as crowd regions).

    The annotation effort of correcting the detections at ``score_thr`` instead
    of drawing every face is reported too: the paper's formula (``faces_to_draw``,
    ``boxes_to_delete``, ``manual_share``; see
    :func:`kaokore_mm.core.face_metrics.annotation_effort`) and the review app's
    (``effort_share``: accepts, adjustments, deletions, drawings at the costs
    ``effort_costs``, default :data:`kaokore_mm.core.operating_point.COSTS`; a
    true box with IoU below ``adjust_below`` is adjusted). So is the
    **operating point** (``operating/score_thr``, ``operating/effort_share``,
    ``operating/precision``, ``operating/recall``, ``operating/proposals``): by
    ``operating_rule`` ``'bayes'`` (the default) where the calibrated chance of a face
    pays for a proposal, by ``'one_se'`` the highest threshold whose effort is within
    one standard error of the least on these pages, by ``'least'`` the least-effort one
    (see :mod:`kaokore_mm.core.operating_point`;
    ``operating/least_effort`` and ``operating/least_effort_thr`` are reported
    either way), with the Platt calibration of the scores on the same pages
    (``operating/calib_slope``, ``operating/calib_intercept``: the chance that a box is a face,
    :func:`kaokore_mm.core.operating_point.score_calibration`; ``nan`` without a true and a
    false box), which
    :class:`~kaokore_mm.engine.hooks.OperatingPointHook` keeps with the
    checkpoint it was validated on and ``annotate.py --score-thr auto`` uses.
    Given ``val_point_thr`` (the operating point a validation chose; the test
    loop sets it from the checkpoint), the figures at that threshold are
    reported as ``at_val_point/score_thr``, ``effort_share``, ``precision``,
    ``recall``: what the annotator of these pages will have to do. A
    precision-recall curve (overall and per book) is drawn into ``out_dir``
    (default: the run's log directory) as ``pr_curve.png``.
    """

    default_prefix = 'face'

    def __init__(
        self,
        iou_thr: float = 0.5,
        score_thr: float = 0.5,
        max_dets: int | None = 100,
        per_book: bool = True,
        coco: bool = True,
        effort_costs: dict | None = None,
        adjust_below: float = ADJUST_BELOW,
        val_point_thr: float | None = None,
        operating_rule: str = RULE,
        out_dir: str | None = None,
        plot: bool = True,
        collect_device: str = 'cpu',
        prefix: str | None = None,
    ):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.iou_thr, self.score_thr, self.max_dets, self.per_book = iou_thr, score_thr, max_dets, per_book
        self.coco = coco
        self.effort_costs, self.adjust_below = check_costs(effort_costs, 'effort_costs'), adjust_below
        self.val_point_thr = val_point_thr
        self.operating_rule = check_rule(operating_rule, 'operating_rule')
        self.out_dir, self.plot = out_dir, plot

    def process(self, data_batch, data_samples) -> None:
        for ds in data_samples:
            page_gt = ds.get('page_gt_instances')
            if page_gt is None:
                raise ValueError(
                    'FaceDetectionMetric: the data sample of page '
                    f'{ds.get("img_path", ds.get("img_id"))!r} has no page_gt_instances (the faces in page '
                    'pixels); evaluate with KaoKoreFaceDataset (or a subclass) in test_mode, which attaches them'
                )
            boxes = _boxes(page_gt)
            ignore = page_gt['ignore_flags']
            ignore = (ignore.cpu().numpy() if hasattr(ignore, 'cpu') else np.asarray(ignore)).astype(bool)
            pred = ds['pred_instances']
            self.results.append(
                dict(
                    img_id=ds.get('img_id'),
                    book_id=ds.get('book_id'),
                    det_boxes=_boxes(pred),
                    det_scores=pred['scores'].detach().cpu().numpy().astype(np.float64),
                    gt_boxes=boxes,
                    gt_ignore=ignore.reshape(-1),
                )
            )

    def evaluate(self, size: int) -> dict:
        """Gather the pages of every rank (each page once, in page order; see
        :mod:`kaokore_mm.evaluation.gather`), compute on rank 0 and broadcast:
        the figures are those of one process on the same pages. ``size`` is not
        needed (the pages name themselves)."""
        from mmengine.dist import broadcast_object_list, is_main_process

        if not self.results:
            MMLogger.get_current_instance().warning(f'{self.__class__.__name__}: this rank evaluated no page')
        pages = gather_pages(self.results)
        metrics = [None]
        if is_main_process():
            computed = self.compute_metrics(pages)
            metrics = [{f'{self.prefix}/{k}' if self.prefix else k: v for k, v in computed.items()}]
        broadcast_object_list(metrics)
        self.results.clear()
        return metrics[0]

    def _matches(self, results):
        return [
            match_page(r['det_boxes'], r['det_scores'], r['gt_boxes'], self.iou_thr, self.max_dets, r['gt_ignore'])
            for r in results
        ]

    def _summary(self, matches) -> dict:
        c = counts_at(matches, self.score_thr)
        costs = self.effort_costs
        effort = annotation_effort(c['tp'], c['fp'], c['fn'], draw_cost=costs['draw'], delete_cost=costs['delete'])
        actions = correction_actions(matches, self.score_thr, self.adjust_below, costs)
        return dict(
            AP50=average_precision(matches),
            recall=c['recall'],
            precision=c['precision'],
            tp=c['tp'],
            fp=c['fp'],
            fn=c['fn'],
            num_faces=c['num_gt'],
            num_pages=len(matches),
            faces_to_draw=effort['faces_to_draw'],
            boxes_to_delete=effort['boxes_to_delete'],
            manual_share=effort['manual_share'],
            effort_share=actions['effort_share'],
        )

    def compute_metrics(self, results: list) -> dict:
        matches = self._matches(results)
        metrics = self._summary(matches)
        op = operating_point(matches, self.effort_costs, self.adjust_below, self.operating_rule)
        for key in ('score_thr', 'effort_share', 'precision', 'recall', 'least_effort', 'least_effort_thr'):
            metrics[f'operating/{key}'] = op[key]
        metrics['operating/proposals'] = op['num_proposals']
        calib = op['calibration'] or {}  # the scores as chances of a face (the rule's and active choice's)
        metrics['operating/calib_slope'] = calib.get('slope', math.nan)
        metrics['operating/calib_intercept'] = calib.get('intercept', math.nan)
        if self.val_point_thr is not None:
            at = correction_actions(matches, self.val_point_thr, self.adjust_below, self.effort_costs)
            metrics['at_val_point/score_thr'] = float(self.val_point_thr)
            for key in ('effort_share', 'precision', 'recall'):
                metrics[f'at_val_point/{key}'] = at[key]
        if self.coco:
            metrics.update(coco_metrics(results))
        curves = {'all pages': matches}
        if self.per_book:
            books = defaultdict(list)
            for r, m in zip(results, matches):
                books[str(r['book_id'])].append(m)
            for book, ms in sorted(books.items()):
                s = self._summary(ms)
                curves[book] = ms
                for key in ('AP50', 'recall', 'precision', 'num_faces', 'manual_share', 'effort_share'):
                    metrics[f'{book}/{key}'] = s[key]
        if self.plot:
            self._plot(curves)
        MMLogger.get_current_instance().info(
            f'pages {metrics["num_pages"]}, faces {metrics["num_faces"]}: AP50 {metrics["AP50"]:.4f}, '
            f'recall {metrics["recall"]:.4f}, precision {metrics["precision"]:.4f} at score >= {self.score_thr}; '
            f'annotation effort {metrics["manual_share"]:.3f} of drawing from scratch; operating point '
            f'({op["rule"]}{"" if op["applied"] == op["rule"] else ", no calibration to trust: " + op["applied"]}): '
            f'score >= {op["score_thr"]:.4f}, effort {op["effort_share"]:.3f} '
            f'(precision {op["precision"]:.3f}, recall {op["recall"]:.3f}; the least effort '
            f'{op["least_effort"]:.3f} at score >= {op["least_effort_thr"]:.4f})'
            + (
                f"; at the validation's operating point (score >= {self.val_point_thr:.4f}): effort "
                f'{metrics["at_val_point/effort_share"]:.3f}, precision {metrics["at_val_point/precision"]:.3f}, '
                f'recall {metrics["at_val_point/recall"]:.3f}'
                if self.val_point_thr is not None
                else ''
            )
        )
        return metrics

    def _plot(self, curves: dict) -> None:
        out_dir = self.out_dir
        if out_dir is None:
            log_file = getattr(MMLogger.get_current_instance(), 'log_file', None)
            if not log_file:
                return
            out_dir = osp.dirname(log_file)

        drawn = {name: (*pr_curve(ms), average_precision(ms)) for name, ms in curves.items()}
        save_figure(pr_curve_figure(drawn, self.score_thr, self.iou_thr), osp.join(out_dir, 'pr_curve.png'), dpi=110)


def coco_metrics(results: list) -> dict:
    """pycocotools' AP[.5:.95] and AR@100 of page results (quietly)."""
    import contextlib
    import io

    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    images, anns, dets = [], [], []
    for i, r in enumerate(results):
        images.append(dict(id=i))
        for b, ign in zip(r['gt_boxes'], r['gt_ignore']):
            w, h = b[2] - b[0], b[3] - b[1]
            anns.append(
                dict(id=len(anns) + 1, image_id=i, category_id=1, bbox=[b[0], b[1], w, h], area=w * h, iscrowd=int(ign))
            )
        for b, s in zip(r['det_boxes'], r['det_scores']):
            dets.append(dict(image_id=i, category_id=1, bbox=[b[0], b[1], b[2] - b[0], b[3] - b[1]], score=float(s)))
    if not anns or not dets:
        return dict(coco_AP=0.0 if anns else float('nan'), coco_AR100=0.0 if anns else float('nan'))
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO()
        gt.dataset = dict(images=images, annotations=anns, categories=[dict(id=1, name='face')])
        gt.createIndex()
        ev = COCOeval(gt, gt.loadRes(dets), 'bbox')
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return dict(coco_AP=float(ev.stats[0]), coco_AR100=float(ev.stats[8]))
