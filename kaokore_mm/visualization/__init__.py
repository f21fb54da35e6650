"""Pictures of pages and results: boxes drawn on pages (OpenCV, ``draw``) and charts
(matplotlib ``Figure`` objects with their own canvas, ``plots``; never pyplot)."""

from .draw import draw_page_boxes, draw_prediction_pages
from .plots import (
    confusion_matrix_figure,
    figure_to_rgb,
    image_grid_figure,
    metrics_bar_figure,
    new_figure,
    pr_curve_figure,
    save_figure,
    split_figure,
)

__all__ = [
    'confusion_matrix_figure',
    'draw_page_boxes',
    'draw_prediction_pages',
    'figure_to_rgb',
    'image_grid_figure',
    'metrics_bar_figure',
    'new_figure',
    'pr_curve_figure',
    'save_figure',
    'split_figure',
]
