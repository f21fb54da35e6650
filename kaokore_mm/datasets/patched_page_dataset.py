"""Every page of a :class:`KaoKoreFaceDataset` as the patches of its views."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from mmdet.registry import DATASETS

from kaokore_mm.core.hard_negatives import false_fires, windows_holding
from kaokore_mm.core.patching import as_views, boxes_to_view, in_valid_range, page_views, visible_fraction
from kaokore_mm.errors import UserError

from .kaokore_face_dataset import KaoKoreFaceDataset


@DATASETS.register_module()
class PatchedPageDataset(KaoKoreFaceDataset):
    """One training sample per patch of each view of each page (the image patching method).

    Each page is seen at its ``views`` (see :mod:`kaokore_mm.core.patching`;
    default: the page at its own scale): the page rescaled by each view's rate
    and padded to the grid of ``patch_size`` windows, and, with a
    ``rate='whole'`` view, the whole page resized into one patch. Every window
    becomes a sample that names its page (``img_path``, ``img_id``,
    ``book_id``), its view (``view_index``, ``view_scale``, ``view_size``,
    ``valid_range``) and its ``patch`` window in the view's pixels; the
    :class:`CropPatch` transform then cuts it out. Policy:

    * a face with at least ``min_visible`` of its area inside a window is a
      training target there, clipped to the window; a face cut more than that is
      an *ignored* region (``gt_ignore_flags``), so the detector is neither
      rewarded nor punished for it; so is a face whose longest side, in the
      view's pixels, lies outside the view's ``valid_range`` (too small for
      the detector's anchors there, or larger than the patch);
    * a window is *a patch with faces* if it has at least one target; of the
      other windows (paper, text, scenery, faces cut away), the fraction
      ``empty_patch_ratio`` is kept (0 drops them, 1 keeps all), chosen once with
      ``patch_seed`` so the training set is the same in every epoch and run;
    * hard negatives: with ``hard_negatives``, the predictions an earlier model
      made on these pages (the ``.pkl`` a test run dumps with ``--out`` and
      ``test_dataloader.sampler.subset=train``, or a list of them;
      :class:`~kaokore_mm.engine.hooks.HardNegativeMiningHook` adds the training's own
      halfway), a window without faces that shows
      at least ``min_visible`` of one of its confident false boxes (scoring
      ``>= hard_negative_thr``, overlapping no face: a crest, a fan) is always
      kept, whatever ``empty_patch_ratio`` (:mod:`kaokore_mm.core.hard_negatives`);
      so is, with ``rejected_negatives`` (the default), a window that shows a
      proposal an annotator deleted on the page (its ``rejected`` boxes, which
      ``merge_corrections`` keeps): what a person removed, the next training
      sees as background.

    Samples carry ``patch_index`` and ``num_patches`` (over all views),
    ``num_targets`` (the faces trained on in that patch) and keep the page's
    ``img_id``: samplers keep every patch of a page in its page's subset.
    """

    def __init__(
        self,
        *args,
        patch_size=(1333, 800),
        overlap: float = 0.0,
        min_visible: float = 0.5,
        empty_patch_ratio: float = 1.0,
        patch_seed: int = 0,
        views=None,
        hard_negatives: str | list[str] | None = None,
        hard_negative_thr: float = 0.3,
        rejected_negatives: bool = True,
        **kwargs,
    ):
        if not 0 <= empty_patch_ratio <= 1:
            raise ValueError(f'empty_patch_ratio must be in [0, 1], got {empty_patch_ratio!r}')
        if not 0 < min_visible <= 1:
            raise ValueError(f'min_visible must be in (0, 1], got {min_visible!r}')
        self.patch_size = tuple(patch_size) if not isinstance(patch_size, int) else (patch_size, patch_size)
        self.overlap = overlap
        self.min_visible = min_visible
        self.empty_patch_ratio = empty_patch_ratio
        self.patch_seed = patch_seed
        self.views = as_views(views)
        if not 0 <= hard_negative_thr <= 1:
            raise UserError(f'`hard_negative_thr` must be in [0, 1], got {hard_negative_thr!r}')
        self.hard_negatives = hard_negatives
        self.hard_negative_thr = hard_negative_thr
        self.rejected_negatives = rejected_negatives
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> list[dict]:
        pages = super().load_data_list()
        predicted = self._predictions(pages)
        samples, empty, hard = [], [], []
        for page_idx, page in enumerate(pages):
            grids = page_views((page['width'], page['height']), self.views, self.patch_size, self.overlap)
            boxes = np.array([inst['bbox'] for inst in page['instances']], dtype=np.float64).reshape(-1, 4)
            targets = np.array([not inst['ignore_flag'] for inst in page['instances']], dtype=bool)
            info = {key: value for key, value in page.items() if key != 'instances'}
            num_patches = sum(len(g) for g in grids)
            # an earlier model's confident boxes, and the ones a person deleted whatever their score: on no face
            sources = [(predicted.get(page.get('img_id'), np.zeros((0, 5))), self.hard_negative_thr)]
            if self.rejected_negatives:
                sources.append((page.get('rejected', np.zeros((0, 5))), 0.0))
            page_fires = np.concatenate(
                [false_fires(d[:, :4], d[:, 4], boxes, ~targets, score_thr=thr) for d, thr in sources]
            )
            k = 0
            for view_index, grid in enumerate(grids):
                view_boxes = boxes_to_view(boxes, grid.scale)
                valid = targets & in_valid_range(view_boxes, grid.view.valid_range)
                shows_fire = windows_holding(boxes_to_view(page_fires, grid.scale), grid.windows, self.min_visible)
                for window, hard_one in zip(grid.windows, shows_fire):
                    vis = visible_fraction(view_boxes, window)
                    sample = dict(
                        info,
                        patch=[int(v) for v in window],
                        view_index=view_index,
                        view_scale=grid.scale,
                        view_size=grid.size,
                        valid_range=grid.view.valid_range,
                        page_idx=page_idx,
                        patch_index=k,
                        num_patches=num_patches,
                        min_visible=self.min_visible,
                        num_targets=int(np.sum(valid & (vis >= self.min_visible))),
                        instances=[inst for inst, v in zip(page['instances'], vis) if v > 0],
                    )
                    k += 1
                    if sample['num_targets']:
                        samples.append(sample)
                    elif hard_one:
                        hard.append(sample)
                    else:
                        empty.append(sample)
        keep = int(round(self.empty_patch_ratio * len(empty)))
        chosen = np.sort(np.random.default_rng(self.patch_seed).permutation(len(empty))[:keep])
        samples.extend(empty[i] for i in chosen)
        samples.extend(hard)
        samples.sort(key=lambda s: (s['page_idx'], s['patch_index']))
        self.num_pages = len(pages)
        self.split_pages = [(p.get('img_id', p.get('img_path')), p.get('book_id')) for p in pages]
        self.num_empty_patches = (len(empty) + len(hard), keep + len(hard))
        self.num_hard_patches = len(hard)
        return samples

    def hard_negative_files(self) -> list[str]:
        """The ``hard_negatives`` prediction files, as a list."""
        given = self.hard_negatives
        return [] if given is None else [str(given)] if isinstance(given, (str, Path)) else [str(g) for g in given]

    def add_hard_negatives(self, path) -> None:
        """Add a predictions file to ``hard_negatives`` (once) and rebuild the samples with it
        (:class:`~kaokore_mm.engine.hooks.HardNegativeMiningHook` halfway through a training)."""
        self.hard_negatives = [*(f for f in self.hard_negative_files() if Path(f) != Path(path)), str(path)]
        self._fully_initialized = False
        self.full_init()

    def _predictions(self, pages) -> dict:
        """``{img_id: (K, 5) x1, y1, x2, y2, score}`` of the ``hard_negatives`` predictions on these
        pages (a file, or a list of files whose boxes add up)."""
        fires = {}
        for path in self.hard_negative_files():
            for img_id, boxes in self._predictions_of(Path(path), pages).items():
                fires[img_id] = np.concatenate([fires[img_id], boxes]) if img_id in fires else boxes
        return fires

    def _predictions_of(self, path: Path, pages) -> dict:
        fix = 'give the .pkl that a test of the training pages dumps (--out, with test_dataloader.sampler.subset=train)'
        try:
            with open(path, 'rb') as f:
                records = pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError) as e:
            raise UserError(f'`hard_negatives` {path}: cannot read predictions ({e}); {fix}') from None
        by_id = {p.get('img_id'): p for p in pages}
        fires = {}
        for k, r in enumerate(records if isinstance(records, list) else [None]):
            pred = r.get('pred_instances') if isinstance(r, dict) else None
            if not isinstance(pred, dict) or 'bboxes' not in pred or 'scores' not in pred:
                raise UserError(f'`hard_negatives` {path}: item {k} is no page of predictions; {fix}')
            page = by_id.get(r.get('img_id'))
            if page is None:
                continue
            if r.get('img_path') and Path(r['img_path']).name != Path(page['img_path']).name:
                raise UserError(
                    f'`hard_negatives` {path}: item {k} (img_id {r.get("img_id")}) is {Path(r["img_path"]).name}, '
                    f'but this annotation file names that id {Path(page["img_path"]).name}; predict on the same '
                    'annotation file'
                )
            fires[page['img_id']] = np.column_stack(
                [np.asarray(pred['bboxes'], np.float64).reshape(-1, 4), np.asarray(pred['scores'], np.float64)]
            )
        if records and not fires:
            raise UserError(f'`hard_negatives` {path}: none of its pages is in {self.ann_file}; {fix}')
        return fires

    def _empty_reason(self) -> str:
        empty, kept = getattr(self, 'num_empty_patches', (0, 0))
        return (
            f'{self.num_pages} pages with {self._raw_faces} faces give no patch with a face and {empty} '
            f'without, of which empty_patch_ratio={self.empty_patch_ratio} keeps {kept}; annotate faces, '
            'or raise empty_patch_ratio'
        )
