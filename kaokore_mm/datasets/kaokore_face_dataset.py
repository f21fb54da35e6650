"""Page-level KaoKore face dataset (COCO layout, one category ``face``)."""

from __future__ import annotations

import logging

import numpy as np
import torch
from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS
from mmengine.structures import InstanceData

from kaokore_mm.converters.schemas import RejectedBox, problem
from kaokore_mm.core.page_files import bad_pages_message, page_problem
from kaokore_mm.errors import BadPageError, EmptyDatasetError, UserError

PAGE_KEYS = ('book_id', 'book_title', 'page_no', 'iiif_base')


@DATASETS.register_module()
class KaoKoreFaceDataset(CocoDataset):
    """Whole pages of picture scrolls and books with their face boxes.

    Compared with :class:`CocoDataset` it keeps, per page, ``book_id`` (needed by
    the book-aware samplers), ``book_title`` and, when present, ``page_no`` and
    ``iiif_base``, and ``rejected``: the proposals an annotator deleted on the
    page (``merge_corrections`` keeps them: ``(K, 5)`` ``x1, y1, x2, y2, score``);
    per face, the ``attributes`` dict (gender, status, ...). Pages
    without faces are kept (``filter_cfg`` is ``None`` by default): they teach the
    detector what paper, text and scenery look like.

    In test mode every sample also carries ``page_gt_instances`` (``bboxes`` in
    page pixels, ``ignore_flags``): the page's faces exactly as annotated,
    whatever the pipeline did to ``gt_instances`` (mmdet's test pipelines load
    annotations after ``Resize``, training-style ones before it, patched ones
    not at all). :class:`~kaokore_mm.evaluation.FaceDetectionMetric` scores
    against these, so the metric does not depend on the order of transforms.
    """

    METAINFO = {'classes': ('face',), 'palette': [(220, 20, 60)]}
    BAD_PAGES = ('error', 'skip')

    def __init__(self, *args, data_prefix: dict | None = None, bad_pages: str = 'error', **kwargs):
        if bad_pages not in self.BAD_PAGES:
            raise ValueError(f'bad_pages must be one of {self.BAD_PAGES}, got {bad_pages!r}')
        self.bad_pages = bad_pages
        # page paths in the COCO file are relative to data_root unless a prefix is given
        super().__init__(*args, data_prefix=data_prefix or dict(img=''), **kwargs)

    def load_data_list(self) -> list[dict]:
        self._raw_faces, self._categories = 0, []
        data_list = self._check_pages(super().load_data_list())
        faces = sum(len(d.get('instances') or []) for d in data_list)
        annotated = self._raw_faces
        if faces == 0 and annotated:
            from mmengine.logging import print_log

            found = self._categories
            print_log(
                f'{self.ann_file}: {annotated} annotations but no face for this dataset: its categories are '
                f'{found}, the config expects {list(self.metainfo["classes"])} (names must match exactly, '
                'case included); training would see no targets',
                logger='current',
                level=logging.WARNING,
            )
        return data_list

    def _check_pages(self, data_list: list[dict]) -> list[dict]:
        """The bad-page policy: every page file's header and size are checked up
        front (no decode, about a millisecond a page) so that a missing, cut
        short or resized page stops the run here with one line naming it
        (``bad_pages='error'``), or is left out with a warning (``'skip'``,
        ``--skip-bad-pages``), instead of failing hours later in a worker."""
        problems = [
            (i, r) for i, d in enumerate(data_list) if (r := page_problem(d['img_path'], (d['width'], d['height'])))
        ]
        if not problems:
            return data_list
        message = bad_pages_message([r for _, r in problems], len(data_list))
        if self.bad_pages == 'error':
            raise BadPageError(f'{self.ann_file}: {message}')
        from mmengine.logging import print_log

        print_log(
            f'{self.ann_file}: skipped {len(problems)} of {len(data_list)} pages that cannot be used: '
            + '; '.join(r for _, r in problems[:10])
            + (' ...' if len(problems) > 10 else ''),
            logger='current',
            level=logging.WARNING,
        )
        bad = {i for i, _ in problems}
        return [d for i, d in enumerate(data_list) if i not in bad]

    def filter_data(self) -> list[dict]:
        data_list = super().filter_data()
        if not data_list and not self.test_mode:  # mmengine would fail on it with "need at least one array ..."
            raise EmptyDatasetError(f'{self.ann_file}: no training sample: {self._empty_reason()}')
        return data_list

    def _empty_reason(self) -> str:
        faces = self._raw_faces
        if not faces:
            return 'no page has a face (a training set needs annotated faces)'
        return (
            f'{faces} faces, but filter_cfg {self.filter_cfg} removed every page; change filter_cfg or the annotations'
        )

    def parse_data_info(self, raw_data_info: dict) -> dict:
        if not self._categories and getattr(self, 'coco', None) is not None:  # (CocoDataset drops self.coco later)
            self._categories = sorted({str(c.get('name')) for c in self.coco.dataset.get('categories') or []})
        self._raw_faces += len(raw_data_info['raw_ann_info'])
        img_info = raw_data_info['raw_img_info']
        if not img_info.get('width') or not img_info.get('height'):
            raise ValueError(
                f'{self.ann_file}: page {img_info.get("file_name")!r} has no width/height; download '
                'the pages (download_pages.py) and run the converter again to fill them in'
            )
        data_info = super().parse_data_info(raw_data_info)
        for key in PAGE_KEYS:
            data_info[key] = img_info.get(key)
        data_info['rejected'] = self._rejected(img_info)
        # CocoDataset keeps annotations in order and copies their boxes, so
        # instances can be matched back to their annotations one by one.
        anns = iter(raw_data_info['raw_ann_info'])
        for inst in data_info['instances']:
            for ann in anns:
                x, y, w, h = ann['bbox']
                if [x, y, x + w, y + h] == inst['bbox']:
                    inst['attributes'] = ann.get('attributes') or {}
                    inst['ann_id'] = ann.get('id')
                    break
        return data_info

    def _rejected(self, img_info: dict) -> np.ndarray:
        boxes = img_info.get('rejected') or []
        for k, box in enumerate(boxes if isinstance(boxes, list) else [boxes]):
            why = problem(RejectedBox, box)
            if why is not None:
                raise UserError(
                    f'{self.ann_file}: page {img_info.get("file_name")!r}, rejected box {k}: {why} (a list of '
                    '{"bbox": [x, y, w, h], "score": s}, as merge_corrections writes it); fix or remove it'
                )
        out = np.array([[*b['bbox'], b['score']] for b in boxes], np.float64).reshape(-1, 5)
        out[:, 2:4] += out[:, :2]
        return out

    def prepare_data(self, idx) -> dict | None:
        if not self.test_mode:
            return super().prepare_data(idx)
        info = self.get_data_info(idx)
        # read before the pipeline, which may change the info it is given
        gt, (h, w), path = page_gt_instances(info), (info.get('height'), info.get('width')), info.get('img_path')
        data = self.pipeline(info)
        if isinstance(data, dict) and hasattr(data.get('data_samples'), 'set_field'):
            ori = data['data_samples'].metainfo.get('ori_shape')
            if ori is not None and tuple(ori[:2]) != (h, w):
                # the faces are in the COCO's pixels: a page of another size would be scored wrongly
                raise PageSizeError(
                    f'{path}: the image is {ori[1]}x{ori[0]} but {self.ann_file} says {w}x{h}; fix '
                    'the COCO sizes (run the converter again on the downloaded pages) or the image'
                )
            data['data_samples'].page_gt_instances = gt
        return data


class PageSizeError(BadPageError):
    """A page image whose size differs from the size its annotations were made on."""


def page_gt_instances(data_info: dict) -> InstanceData:
    """The faces of a page as annotated (page pixels, x1y1x2y2) with their ignore flags."""
    instances = data_info.get('instances') or []
    boxes = np.array([inst['bbox'] for inst in instances], dtype=np.float32).reshape(-1, 4)
    ignore = np.array([bool(inst.get('ignore_flag', 0)) for inst in instances], dtype=bool)
    return InstanceData(bboxes=torch.from_numpy(boxes), ignore_flags=torch.from_numpy(ignore))
