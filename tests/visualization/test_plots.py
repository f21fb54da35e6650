"""Charts are Figure objects with their own canvas: no pyplot, no backend change."""

import re
import sys
from pathlib import Path

import numpy as np

from kaokore_mm.visualization.plots import (
    campaign_figure,
    confusion_matrix_figure,
    figure_to_rgb,
    image_grid_figure,
    metrics_bar_figure,
    pr_curve_figure,
    save_figure,
    split_figure,
)

ROOT = Path(__file__).resolve().parents[2]


def test_library_code_never_touches_pyplot_or_the_backend():
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / 'kaokore_mm').rglob('*.py')
        if re.search(r'matplotlib\.use\(|import matplotlib\.pyplot|from matplotlib import pyplot', p.read_text())
    ]
    assert offenders == []


def test_every_chart_draws_and_saves_without_pyplot(tmp_path):
    import matplotlib

    backend = matplotlib.get_backend()
    had_pyplot = 'matplotlib.pyplot' in sys.modules
    figs = [
        pr_curve_figure(
            {'all pages': (np.array([0.5, 1.0]), np.array([1.0, 0.5]), np.array([0.9, 0.2]), 0.75)}, 0.5, 0.5
        ),
        confusion_matrix_figure(np.array([[3, 1], [0, 4]]), ['male', 'female']),
        image_grid_figure([(np.zeros((8, 8, 3), np.uint8), 'a'), (np.ones((8, 8, 3), np.uint8) * 255, 'b')], cols=2),
        split_figure({'train': {'b1': (2, 5)}, 'val': {'b2': (1, 1)}, 'test': {}}, ('train', 'val', 'test'), 't'),
        metrics_bar_figure(['x', 'y'], [dict(AP50=0.9, recall=None, precision=0.5), dict(AP50=0.1)]),
        campaign_figure([dict(strategy='s', round=0, book='b', effort_share=0.2, heldout_AP50=0.9)]),
    ]
    for k, fig in enumerate(figs):
        rgb = figure_to_rgb(fig)
        assert rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.std() > 0  # something was drawn
        path = save_figure(fig, tmp_path / 'sub' / f'{k}.png')
        assert Path(path).stat().st_size > 1000
    assert matplotlib.get_backend() == backend
    assert had_pyplot or 'matplotlib.pyplot' not in sys.modules


def test_labels_do_not_overlap_and_colours_follow_the_score():
    from kaokore_mm.visualization.draw import place_labels, score_colour

    # five faces side by side, closer than their labels are wide: every label finds a free place
    boxes = [[100 + 30 * k, 100, 125 + 30 * k, 130] for k in range(5)]
    spots = place_labels(boxes, [(40, 12)] * 5, 800, 600)
    rects = [(x, y, x + 40, y + 12) for x, y in spots]
    for i in range(5):
        for j in range(i):
            a, b = rects[i], rects[j]
            assert min(a[2], b[2]) <= max(a[0], b[0]) or min(a[3], b[3]) <= max(a[1], b[1]), (a, b)
    # at the page's edge labels stay on the picture
    ((x, y),) = place_labels([[0, 0, 20, 20]], [(40, 12)], 100, 100)
    assert 0 <= x <= 60 and 0 <= y <= 88
    assert score_colour(0.1) == score_colour(0.3) != score_colour(0.9) == score_colour(1.0)


def test_the_campaign_figure_draws_each_strategys_effort_on_its_books_and_on_the_held_out_books():
    def rec(strategy, r, effort, held, ap, faces=None):
        return dict(
            strategy=strategy,
            round=r,
            book=f'book{r}',
            effort_share=effort,
            heldout_effort=held,
            heldout_AP50=ap,
            faces=faces,
        )

    records = [
        rec('in_order', 1, 0.1, 0.3, 0.8, faces=30),
        rec('in_order', 0, 0.3, 0.4, 0.7, faces=10),
        rec('active', 0, 0.3, None, None),
    ]
    effort, total, ap = campaign_figure(records).axes
    lines = {line.get_label(): line for line in effort.get_lines()}
    # rounds in order whatever the order of the records; a held-out line only where one was recorded
    assert list(lines['in_order: the book annotated'].get_xdata()) == [0, 1]
    assert list(lines['in_order: the book annotated'].get_ydata()) == [0.3, 0.1]
    assert list(lines['in_order: the held-out books'].get_ydata()) == [0.4, 0.3]
    assert 'active: the held-out books' not in lines and 'active: the book annotated' in lines
    assert [t.get_text() for t in effort.texts] == ['book0', 'book0', 'book1']  # each point names its book
    # equal shares of two strategies: their names printed a line apart, in their strategy's colour
    (a0,), (i0, _) = ([t for t in effort.texts if t.get_color() == c] for c in ('C0', 'C1'))
    assert a0.xy == i0.xy and a0.xyann != i0.xyann
    # the campaign so far: every round's cost over every round's faces, not the mean of the shares
    so_far = {line.get_label(): line for line in total.get_lines()}
    assert np.allclose(so_far['in_order'].get_ydata(), [0.3, (0.3 * 10 + 0.1 * 30) / 40])  # 0.15, not 0.2
    assert np.isnan(so_far['active'].get_ydata()).all()  # no faces recorded: nothing to add up
    held_ap = {line.get_label(): line for line in ap.get_lines()}
    assert list(held_ap['in_order'].get_ydata()) == [0.7, 0.8] and np.isnan(held_ap['active'].get_ydata()).all()
    # a round of pages from several books (active_pages): the point says how many, the table whose
    pages = dict(rec('active_pages', 0, 1.15, 0.3, 0.8), book='book002 book003x2 book004', pages=[10, 33, 25, 34])
    effort, _, _ = campaign_figure([pages]).axes
    assert [t.get_text() for t in effort.texts] == ['4 pages']
    assert [line.get_label() for line in effort.get_lines()][0] == 'active_pages: the pages annotated'
    # a figure of 0 is drawn at 0, not left out as if it were missing
    effort, total, ap = campaign_figure([rec('s', 0, 0.0, 0.0, 0.0, faces=5)]).axes
    drawn = [list(line.get_ydata()) for line in (*effort.get_lines(), *total.get_lines(), *ap.get_lines())]
    assert drawn == [[0.0], [0.0], [0.0], [0.0]]


def test_metrics_bars_are_named_by_their_labels_and_the_legend_leaves_the_bars_free():
    fig = metrics_bar_figure(
        ['a', 'b'],
        [dict(AP50=0.9, op_effort=0.1), dict(AP50=0.5, op_effort=0.6)],
        ('AP50', 'op_effort'),
        labels=('AP50', 'effort at its operating point'),
    )
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['AP50', 'effort at its operating point']
    fig.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert legend.x0 >= ax.get_window_extent().x1 - 1  # beside the axes, not over a bar
    heights = sorted(round(p.get_height(), 3) for p in ax.patches)
    assert heights == [0.1, 0.5, 0.6, 0.9]
