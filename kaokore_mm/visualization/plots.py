"""Charts of the project's results, drawn on :class:`matplotlib.figure.Figure` objects.

No function here touches pyplot or ``matplotlib.use``: a figure gets its own
Agg canvas, so a user's notebook backend and open figures are never changed
and nothing is left open (no ``plt.close`` to forget).
"""

from __future__ import annotations

import os
import os.path as osp
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure


def new_figure(**kwargs) -> Figure:
    """A figure with its own Agg canvas (``kwargs`` as for :class:`Figure`)."""
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def figure_to_rgb(fig: Figure) -> np.ndarray:
    """The figure rendered as an ``H x W x 3`` uint8 RGB array."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def save_figure(fig: Figure, path, dpi: int = 100) -> str:
    """Lay out and write ``fig`` to ``path`` (folders made); returns the path."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return str(path)


def pr_curve_figure(curves: Mapping[str, tuple], score_thr: float, iou_thr: float) -> Figure:
    """Precision-recall curves.

    Args:
        curves: ``{name: (recall, precision, scores, ap)}``, arrays in order of
            falling score; the curve named ``'all pages'`` is drawn thick with
            the operating point at ``score_thr``.
        score_thr: the score threshold marked on the main curve.
        iou_thr: the IoU threshold of the matching (in the title).
    """
    fig = new_figure(figsize=(6, 5))
    ax = fig.subplots()
    for name, (recall, precision, scores, ap) in curves.items():
        if not len(recall):
            continue
        ax.plot(recall, precision, lw=2.5 if name == 'all pages' else 1, label=f'{name} (AP50 {ap:.3f})')
        at = np.searchsorted(-np.asarray(scores), -score_thr, side='right') - 1
        if name == 'all pages' and at >= 0:
            ax.plot(recall[at], precision[at], 'ko', label=f'score >= {score_thr}')
    ax.set(
        xlabel='recall', ylabel='precision', xlim=(0, 1.01), ylim=(0, 1.01), title=f'page-level faces, IoU >= {iou_thr}'
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc='lower left')
    return fig


def confusion_matrix_figure(counts: np.ndarray, classes: Sequence[str]) -> Figure:
    """Counts and the share of each true class (row-normalised recall) per cell."""
    counts = np.asarray(counts)
    recall = counts / counts.sum(1, keepdims=True).clip(min=1)
    n = len(classes)
    fig = new_figure(figsize=(1.3 * n + 2.5, 1.1 * n + 2))
    ax = fig.subplots()
    ax.imshow(recall, cmap='Blues', vmin=0, vmax=1)
    for i in range(n):
        for j in range(n):
            ax.text(
                j,
                i,
                f'{int(counts[i, j]):d}\n{recall[i, j]:.0%}',
                ha='center',
                va='center',
                color='white' if recall[i, j] > 0.5 else 'black',
                fontsize=8,
            )
    ax.set(
        xticks=range(n),
        yticks=range(n),
        xlabel='predicted',
        ylabel='true',
        title='confusion matrix (count, share of the true class)',
    )
    ax.set_xticklabels(classes, rotation=30, ha='right')
    ax.set_yticklabels(classes)
    return fig


def image_grid_figure(
    items: Sequence[tuple[np.ndarray, str]], cols: int = 6, cell=(2.0, 2.2), title: str | None = None
) -> Figure:
    """RGB images with captions in a grid (contact sheets, CAM panels)."""
    rows = max(1, -(-len(items) // cols))
    fig = new_figure(figsize=(cell[0] * cols, cell[1] * rows))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax in axes:
        ax.axis('off')
    for ax, (img, caption) in zip(axes, items):
        ax.imshow(img)
        ax.set_title(caption, fontsize=7 if cols > 4 else 9)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def split_figure(table: Mapping[str, Mapping[str, tuple[int, int]]], subsets: Sequence[str], title: str) -> Figure:
    """Pages and faces per book, stacked by subset (``table[subset][book] = (pages, faces)``)."""
    books = sorted({b for t in table.values() for b in t})
    colours = dict(train='#4c72b0', val='#dd8452', test='#55a868')
    fig = new_figure(figsize=(max(8, 0.5 * len(books) + 4), 4.5))
    axes = fig.subplots(1, 2)
    for ax, k, label in ((axes[0], 0, 'pages'), (axes[1], 1, 'faces')):
        bottom = [0] * len(books)
        for subset in subsets:
            vals = [table[subset].get(b, (0, 0))[k] for b in books]
            ax.bar(books, vals, bottom=bottom, color=colours.get(subset), label=subset)
            bottom = [a + v for a, v in zip(bottom, vals)]
        ax.set_ylabel(label)
        ax.set_title(f'{label} per book')
        ax.tick_params(axis='x', rotation=60)
    axes[0].legend()
    fig.suptitle(title)
    return fig


def metrics_bar_figure(
    names: Sequence[str],
    rows: Sequence[Mapping],
    keys=('AP50', 'recall', 'precision'),
    title: str = 'page-level face detection',
    labels: Sequence[str] | None = None,
) -> Figure:
    """Grouped bars of ``keys`` per run (an undefined figure, None, is drawn as 0), named in the
    legend by ``labels`` (default: the keys)."""
    fig = new_figure(figsize=(max(6, 1.6 * len(rows) + 4), 4))
    ax = fig.subplots()
    width = 0.8 / len(keys)
    for k, key in enumerate(keys):
        ax.bar(
            [i + (k - (len(keys) - 1) / 2) * width for i in range(len(rows))],
            [r.get(key) or 0.0 for r in rows],
            width,
            label=labels[k] if labels else key,
        )
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(names, rotation=15, ha='right', fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc='upper left', bbox_to_anchor=(1.0, 1.0), fontsize=8)  # beside the bars, never over them
    return fig


def cumulative_shares(rows: Sequence[Mapping]) -> list[float]:
    """The campaign so far after each of a strategy's rounds (in order): the cost of every
    round up to it over their faces (a round's cost is its effort share times its faces), the
    figure the strategies are compared by; NaN where a round's faces were not recorded."""
    cost = faces = 0.0
    out = []
    for r in rows:
        if r.get('faces') is None or np.isnan(faces):
            faces = np.nan
        else:
            cost, faces = cost + r['effort_share'] * r['faces'], faces + r['faces']
        out.append(cost / faces if faces else np.nan)
    return out


def campaign_figure(records: Sequence[Mapping]) -> Figure:
    """An annotation campaign, one colour per strategy: left, the effort share of each round on
    the book (or pages) it annotated (solid) and on the held-out books at the round's operating point
    (dashed: the same pages every round); middle, the campaign so far (the cost of every round
    up to it over their faces: the strategies' totals, round by round); right, the held-out AP50."""
    fig = new_figure(figsize=(13.2, 3.6))
    ax, total, ap = (fig.add_subplot(1, 3, k) for k in (1, 2, 3))
    by = {}
    for r in records:
        by.setdefault(r['strategy'], []).append(r)
    for k, (name, rows) in enumerate(sorted(by.items())):
        rows = sorted(rows, key=lambda r: r['round'])
        x = [r['round'] for r in rows]
        colour = f'C{k}'
        part = 'the pages annotated' if rows[0].get('pages') else 'the book annotated'
        ax.plot(x, [r['effort_share'] for r in rows], 'o-', color=colour, label=f'{name}: {part}')
        held = [np.nan if r.get('heldout_effort') is None else r['heldout_effort'] for r in rows]
        if not np.isnan(held).all():
            ax.plot(x, held, 's--', color=colour, alpha=0.7, label=f'{name}: the held-out books')
        total.plot(x, cumulative_shares(rows), 'o-', color=colour, label=name)
        aps = [np.nan if r.get('heldout_AP50') is None else r['heldout_AP50'] for r in rows]
        ap.plot(x, aps, 's--', color=colour, label=name)
        for r in rows:
            # a round of pages from several books: how many, not whose (the table names them);
            # each strategy's names a line apart, so that equal shares do not print on each other
            tag = f'{len(r["pages"])} pages' if r.get('pages') else r['book']
            ax.annotate(
                tag,
                (r['round'], r['effort_share']),
                fontsize=6,
                color=colour,
                xytext=(2, 3 + 7 * k),
                textcoords='offset points',
            )
    for a in (ax, total, ap):
        a.set_xlabel('round')
        a.xaxis.get_major_locator().set_params(integer=True)
    ax.set_ylabel('effort share (1 = drawing every face)')
    ax.set_ylim(bottom=0)
    total.set_ylabel('effort share of the books so far')
    total.set_ylim(bottom=0)
    ap.set_ylabel('AP50')
    ap.set_ylim(0, 1.05)
    if by:
        ax.legend(fontsize=7, loc='upper right')
        total.legend(fontsize=7, loc='upper right')
        ap.legend(fontsize=7, loc='lower right')
    ax.set_title("the annotator's share of the work per round", fontsize=9)
    total.set_title('the campaign so far', fontsize=9)
    ap.set_title('the held-out books', fontsize=9)
    fig.tight_layout()
    return fig
