"""Geometry of image patching (NumPy only, no OpenMMLab imports).

A page of ``W x H`` pixels is covered by a regular grid of ``patch_w x patch_h``
windows. Neighbouring windows overlap by ``round(overlap * patch)`` pixels
(``overlap`` is a ratio in ``[0, 1)``, like SAHI's ``overlap_*_ratio``). The
last row and column are not shifted back inside the page: the page is padded on
the right and bottom instead, so every patch has the detector's input size and
every pixel of the page is covered (the paper's "pad the page to a grid").

Boxes are ``(N, 4)`` arrays ``x1, y1, x2, y2`` in pixels, float.

*Views* (:class:`View`) are the ways one detector sees a page: the patch grid of
the page rescaled by a ``rate`` (1 = the scan's pixels, 0.5 = half), or the
whole page resized into one input (``rate='whole'``, mmdet's keep-ratio rule).
Each view keeps only the faces whose longest side, in the view's pixels, lies
in its ``valid_range`` (SNIPER's valid ranges): larger ones are cut by the
patches, smaller ones are below the detector's smallest anchor. In training
such faces are ignored regions; at test time boxes outside the range are
dropped before the views are merged. :func:`views_for_faces` derives the views
from the faces' sizes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .boxes import as_boxes, box_area


@dataclass(frozen=True)
class PatchGrid:
    """The patch windows of one page, in page coordinates (``x1, y1, x2, y2``)."""

    windows: np.ndarray  # (N, 4) int64, row-major
    rows: int
    cols: int
    padded_size: tuple[int, int]  # (width, height) of the padded page
    padding: tuple[int, int]  # (right, bottom) pixels added to the page

    def __len__(self) -> int:
        return len(self.windows)


def _as_pair(value, name: str) -> tuple[int, int]:
    if isinstance(value, (int, np.integer)):
        pair = (int(value), int(value))
    else:
        pair = tuple(int(v) for v in value)
        if len(pair) != 2:
            raise ValueError(f'{name} must be an int or a (width, height) pair, got {value!r}')
    if min(pair) <= 0:
        raise ValueError(f'{name} must be positive, got {value!r}')
    return pair


def patch_stride(patch: int, overlap: float) -> int:
    """Distance between the origins of two neighbouring patches."""
    if not 0 <= overlap < 1:
        raise ValueError(f'overlap must be a ratio in [0, 1), got {overlap!r}')
    return max(1, patch - int(round(overlap * patch)))


MAX_PATCHES = 10000  # per page: beyond this a setting is a mistake (overlap 0.999 gave 7.5 million)


def _axis(length: int, patch: int, overlap: float) -> tuple[np.ndarray, int]:
    stride = patch_stride(patch, overlap)
    n = 1 if length <= patch else 1 + math.ceil((length - patch) / stride)
    starts = np.arange(n, dtype=np.int64) * stride
    return starts, int(starts[-1] + patch)


def patch_grid(img_size, patch_size, overlap: float = 0.0) -> PatchGrid:
    """The patch grid covering an image.

    Args:
        img_size: ``(width, height)`` of the page.
        patch_size: ``int`` or ``(width, height)`` of a patch.
        overlap: overlap ratio of neighbouring patches, ``0 <= overlap < 1``.
    """
    img_w, img_h = _as_pair(img_size, 'img_size')
    patch_w, patch_h = _as_pair(patch_size, 'patch_size')
    xs, padded_w = _axis(img_w, patch_w, overlap)
    ys, padded_h = _axis(img_h, patch_h, overlap)
    n = len(xs) * len(ys)  # checked before the grid is built: the axes are small, the grid is their product
    if n > MAX_PATCHES:
        raise ValueError(
            f'a page of {img_w}x{img_h} with patches of {patch_w}x{patch_h} and overlap {overlap} makes '
            f'{n} patches (more than {MAX_PATCHES}); use a smaller overlap or larger patches'
        )
    yy, xx = np.meshgrid(ys, xs, indexing='ij')
    x1, y1 = xx.ravel(), yy.ravel()
    windows = np.stack([x1, y1, x1 + patch_w, y1 + patch_h], axis=1)
    return PatchGrid(
        windows=windows,
        rows=len(ys),
        cols=len(xs),
        padded_size=(padded_w, padded_h),
        padding=(padded_w - img_w, padded_h - img_h),
    )


def overlap_for_faces(face_sizes, patch_size, q: float = 95, step: float = 0.05) -> float:
    """The test-time overlap ratio that puts the faces up to the ``q``-th
    percentile of ``face_sizes`` (longest side, px) wholly inside some patch.

    With a stride of ``patch - overlap_px``, any face no longer than
    ``overlap_px`` lies wholly inside one window of the grid; the overlap is the
    ratio of that size to the patch's shorter side, rounded up to ``step``.
    Faces cut by a patch border are then also found whole in a neighbouring
    patch, and containment-aware NMS removes the partial boxes.
    """
    sizes = np.asarray(face_sizes, dtype=np.float64).ravel()
    if sizes.size == 0:
        return 0.0
    side = min(_as_pair(patch_size, 'patch_size'))
    ratio = float(np.percentile(sizes, q)) / side
    return float(min(0.9, np.ceil(ratio / step - 1e-9) * step))


def padding_needed(img_size, patch_size, overlap: float = 0.0) -> tuple[int, int]:
    """``(right, bottom)`` padding that makes the page fit its patch grid."""
    return patch_grid(img_size, patch_size, overlap).padding


def clip_boxes(boxes, window) -> np.ndarray:
    """Clip boxes to a window ``(x1, y1, x2, y2)``; coordinates stay in the same frame."""
    b = as_boxes(boxes).copy()
    x1, y1, x2, y2 = (float(v) for v in window)
    b[:, 0::2] = np.clip(b[:, 0::2], x1, x2)
    b[:, 1::2] = np.clip(b[:, 1::2], y1, y2)
    return b


def visible_fraction(boxes, window) -> np.ndarray:
    """Fraction of each box's area inside the window.

    A degenerate (zero-area) box counts as fully visible when its corner lies in
    the window and invisible otherwise.
    """
    b = as_boxes(boxes)
    area = box_area(b)
    inside = box_area(clip_boxes(b, window))
    frac = np.zeros(len(b))
    pos = area > 0
    frac[pos] = inside[pos] / area[pos]
    x1, y1, x2, y2 = window
    corner_in = (b[:, 0] >= x1) & (b[:, 0] <= x2) & (b[:, 1] >= y1) & (b[:, 1] <= y2)
    frac[~pos] = corner_in[~pos].astype(float)
    return frac


def shift_boxes(boxes, offset) -> np.ndarray:
    """Translate boxes by ``offset = (dx, dy)`` (patch -> page: the patch origin)."""
    b = as_boxes(boxes)
    dx, dy = offset
    return b + np.array([dx, dy, dx, dy], dtype=np.float64)


def boxes_to_patch(boxes, window, min_visible: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Map page boxes into one patch.

    Returns ``(patch_boxes, keep, ignore)``: every box clipped to the window and
    shifted to patch coordinates; ``keep`` marks faces with at least
    ``min_visible`` of their area inside (trained on, clipped); ``ignore`` marks
    faces that touch the patch with less than that (neither positive nor
    background: a half-visible face must not teach the detector that it is
    paper). Boxes not touching the window are neither kept nor ignored.
    """
    if not 0 < min_visible <= 1:
        raise ValueError(f'min_visible must be in (0, 1], got {min_visible!r}')
    b = as_boxes(boxes)
    frac = visible_fraction(b, window)
    keep = frac >= min_visible
    ignore = (frac > 0) & ~keep
    patch_boxes = shift_boxes(clip_boxes(b, window), (-window[0], -window[1]))
    return patch_boxes, keep, ignore


def boxes_to_page(boxes, window, page_size=None) -> np.ndarray:
    """Map boxes predicted on a patch back to the page, clipped to the page if its size is given."""
    b = shift_boxes(boxes, (window[0], window[1]))
    if page_size is not None:
        b = clip_boxes(b, (0, 0, page_size[0], page_size[1]))
    return b


def crop_window(img: np.ndarray, window, pad_val=0) -> np.ndarray:
    """Pixels of ``window`` (``x1, y1, x2, y2``, origin inside the image) with the
    part beyond the right/bottom border filled with ``pad_val``."""
    x1, y1, x2, y2 = (int(v) for v in window)
    h, w = img.shape[:2]
    if x2 <= x1 or y2 <= y1 or not (0 <= x1 < w and 0 <= y1 < h):
        raise ValueError(f'window {tuple(window)} does not start inside an image of size {w}x{h}')
    out = np.full((y2 - y1, x2 - x1) + img.shape[2:], pad_val, dtype=img.dtype)
    out[: min(y2, h) - y1, : min(x2, w) - x1] = img[y1 : min(y2, h), x1 : min(x2, w)]
    return out


# ---------------------------------------------------------------------------------------------
# Views: the page at several scales (patch grids of the rescaled page, and the whole page)

WHOLE = 'whole'


@dataclass(frozen=True)
class View:
    """One way the detector sees a page.

    Attributes:
        rate: the page is rescaled by ``rate`` and cut into the patch grid
            (``1.0``: the scan's pixels), or ``'whole'``: the whole page is
            resized to fit one patch (long side to long side, as mmdet's
            ``Resize(scale=patch_size, keep_ratio=True)``) and padded to it.
        valid_range: ``(lo, hi)``, the longest side of a face in *this view's*
            pixels that the view is responsible for (``hi=None``: no upper
            bound). Faces outside it are ignored regions in training; boxes
            outside it are dropped at test time.
    """

    rate: float | str = 1.0
    valid_range: tuple[float, float | None] = (0.0, None)

    @property
    def whole(self) -> bool:
        return self.rate == WHOLE

    def __str__(self) -> str:
        lo, hi = self.valid_range
        name = 'whole page' if self.whole else f'rate {self.rate:g}'
        return f'{name} (faces {lo:g}-{"inf" if hi is None else f"{hi:g}"} px)'


def as_view(spec) -> View:
    """A :class:`View` from a config entry: ``dict(rate=0.5, valid_range=(32, 320))``,
    ``dict(rate='whole', valid_range=(32, None))`` or a ``View``."""
    if isinstance(spec, View):
        return spec
    if not isinstance(spec, dict):
        raise ValueError(f'a view is a dict(rate=..., valid_range=(lo, hi)), got {spec!r}')
    unknown = set(spec) - {'rate', 'valid_range'}
    if unknown:
        raise ValueError(f'view {spec!r}: unknown keys {sorted(unknown)} (a view has rate and valid_range)')
    rate = spec.get('rate', 1.0)
    if rate != WHOLE and (isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.01 <= rate <= 16):
        raise ValueError(f"view {spec!r}: rate must be a number in [0.01, 16] or 'whole', got {rate!r}")
    vr = spec.get('valid_range', (0.0, None))
    if not isinstance(vr, (list, tuple)) or len(vr) != 2:
        raise ValueError(f'view {spec!r}: valid_range must be (lo, hi), hi may be None')
    lo, hi = vr
    bad_lo = isinstance(lo, bool) or not isinstance(lo, (int, float)) or not np.isfinite(lo) or lo < 0
    bad_hi = hi is not None and (isinstance(hi, bool) or not isinstance(hi, (int, float)) or not hi > lo)
    if bad_lo or bad_hi:
        raise ValueError(f'view {spec!r}: valid_range must be (lo, hi) with 0 <= lo < hi (or hi None)')
    return View(rate=rate if rate == WHOLE else float(rate), valid_range=(float(lo), None if hi is None else float(hi)))


def as_views(specs) -> tuple[View, ...]:
    """The views of a config (``None``: the page at its own scale, every face valid)."""
    if specs is None:
        return (View(),)
    if isinstance(specs, (dict, View)) or not len(specs):
        raise ValueError(f'views must be a non-empty list of views, got {specs!r}')
    views = tuple(as_view(v) for v in specs)
    keys = [v.rate for v in views]
    if len(set(keys)) != len(keys):
        raise ValueError(f'views must have distinct rates, got {keys}')
    return views


@dataclass(frozen=True)
class ViewGrid:
    """The windows of one view of one page.

    ``size`` is the rescaled page ``(width, height)``, ``scale`` the factors
    ``(sx, sy)`` from page to view pixels, ``windows`` the patch windows in
    view pixels (one window, the padded input, for the whole-page view).
    """

    view: View
    size: tuple[int, int]
    scale: tuple[float, float]
    windows: np.ndarray

    def __len__(self) -> int:
        return len(self.windows)


def fit_scale(img_size, patch_size) -> float:
    """mmdet's keep-ratio factor: the long side to at most the patch's long side,
    the short side to at most its short side (``mmcv.rescale_size``)."""
    w, h = _as_pair(img_size, 'img_size')
    pw, ph = _as_pair(patch_size, 'patch_size')
    return min(max(pw, ph) / max(w, h), min(pw, ph) / min(w, h))


def view_grid(img_size, view: View, patch_size, overlap: float = 0.0) -> ViewGrid:
    """The rescaled size, scale factors and windows of ``view`` on a page of ``img_size``."""
    w, h = _as_pair(img_size, 'img_size')
    pw, ph = _as_pair(patch_size, 'patch_size')
    rate = fit_scale((w, h), (pw, ph)) if view.whole else view.rate
    vw, vh = max(1, int(w * rate + 0.5)), max(1, int(h * rate + 0.5))
    if view.whole:  # one input the size of a patch, turned like the page
        long, short = max(pw, ph), min(pw, ph)
        win_w, win_h = (long, short) if vw >= vh else (short, long)
        windows = np.array([[0, 0, win_w, win_h]], dtype=np.int64)
    else:
        windows = patch_grid((vw, vh), (pw, ph), overlap).windows
    return ViewGrid(view=view, size=(vw, vh), scale=(vw / w, vh / h), windows=windows)


def page_views(img_size, views, patch_size, overlap: float = 0.0) -> list[ViewGrid]:
    """Every view of a page; the patches of all views together are limited like one grid's."""
    grids = [view_grid(img_size, v, patch_size, overlap) for v in as_views(views)]
    n = sum(len(g) for g in grids)
    if n > MAX_PATCHES:
        raise ValueError(
            f'a page of {img_size[0]}x{img_size[1]} with patches of {patch_size} makes {n} patches over its '
            f'views (more than {MAX_PATCHES}); use fewer or coarser views, a smaller overlap or larger patches'
        )
    return grids


def boxes_to_view(boxes, scale) -> np.ndarray:
    """Page boxes in a view's pixels (``scale = (sx, sy)``)."""
    sx, sy = scale
    return as_boxes(boxes) * np.array([sx, sy, sx, sy], dtype=np.float64)


def boxes_from_view(boxes, scale) -> np.ndarray:
    """A view's boxes in page pixels (the inverse of :func:`boxes_to_view`)."""
    sx, sy = scale
    return as_boxes(boxes) / np.array([sx, sy, sx, sy], dtype=np.float64)


def in_valid_range(boxes, valid_range) -> np.ndarray:
    """Which boxes (in the view's pixels) have a longest side within ``valid_range``
    (``lo <= side``, and ``side <= hi`` unless ``hi`` is None)."""
    b = as_boxes(boxes)
    side = np.maximum(b[:, 2] - b[:, 0], b[:, 3] - b[:, 1])
    lo, hi = valid_range
    ok = side >= lo
    if hi is not None:
        ok &= side <= hi
    return ok


def views_for_faces(
    face_sizes, patch_size, min_size: float, small_q: float = 5, large_q: float = 99, overlap_q: float = 95
) -> dict:
    """The test-time overlap and the views that see the faces of ``face_sizes``
    (longest side, page px) with patches of ``patch_size`` and a detector whose
    smallest anchor is ``min_size`` px (in patch pixels).

    * ``overlap`` = :func:`overlap_for_faces` at ``overlap_q``: faces up to
      ``fit = overlap * shorter patch side`` lie wholly inside some window;
    * rates: 1, then halved while the ``large_q``-th percentile face, at that
      rate, is larger than ``fit`` (so it lies wholly inside a window of some
      view); doubled (upsampling) while the ``small_q``-th percentile face is
      smaller than ``min_size`` (so it stays above the smallest anchor in some
      view);
    * valid ranges (view pixels): a view is responsible for faces from
      ``min_size`` (from 0 in the finest view) up to ``fit``; the whole-page
      view, always added last, for every face from ``min_size`` up.

    When ``fit`` is below ``2 * min_size`` a coarser view's valid range
    (``min_size`` to ``fit``) would be too narrow to hand faces over between
    views: the overlap is then taken at ``large_q`` instead and no coarser
    patch view is added.

    Returns ``dict(overlap, views, fit, small, large)`` (``views`` as config dicts).
    """
    sizes = np.asarray(face_sizes, dtype=np.float64).ravel()
    if sizes.size == 0:
        raise ValueError('no face sizes: the views are chosen from the training faces')
    if not min_size > 0:
        raise ValueError(f'min_size must be positive, got {min_size!r}')
    short = min(_as_pair(patch_size, 'patch_size'))
    small, large = float(np.percentile(sizes, small_q)), float(np.percentile(sizes, large_q))
    overlap = overlap_for_faces(sizes, patch_size, q=overlap_q)
    fit = overlap * short
    if fit < 2 * min_size:
        overlap = overlap_for_faces(sizes, patch_size, q=large_q)
        fit = overlap * short
    rates = [1.0]
    while large * rates[-1] > fit and fit >= 2 * min_size and rates[-1] > 1 / 64:
        rates.append(rates[-1] / 2)
    while small * rates[0] < min_size and rates[0] < 8:
        rates.insert(0, rates[0] * 2)
    views = [dict(rate=r, valid_range=(0.0 if i == 0 else float(min_size), round(fit, 2))) for i, r in enumerate(rates)]
    views.append(dict(rate=WHOLE, valid_range=(float(min_size), None)))
    return dict(overlap=round(overlap, 4), views=views, fit=fit, small=small, large=large)
