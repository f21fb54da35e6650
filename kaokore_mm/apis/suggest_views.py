"""Python API: the views and test overlap the faces of a config's training subset call for."""

from __future__ import annotations

import numpy as np

from kaokore_mm.core.patching import views_for_faces
from kaokore_mm.datasets.samplers.book_split_sampler import loader_subset_indices
from kaokore_mm.utils.anchors import smallest_anchor
from kaokore_mm.utils.cli import UserError
from kaokore_mm.utils.config import page_dataset_cfg, train_patching


def training_face_sizes(cfg) -> np.ndarray:
    """The longest side (px) of every face (not ignored) on the pages of the config's
    training subset, as its train loader's split assigns them."""
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope

    init_default_scope(cfg.get('default_scope', 'mmdet'))
    lc = cfg.train_dataloader
    dataset = DATASETS.build(dict(page_dataset_cfg(lc.dataset), test_mode=True))
    idx = loader_subset_indices(dataset, lc.get('sampler'), 'train')
    sizes = [
        max(inst['bbox'][2] - inst['bbox'][0], inst['bbox'][3] - inst['bbox'][1])
        for i in idx
        for inst in dataset.get_data_info(int(i))['instances']
        if not inst.get('ignore_flag', 0)
    ]
    return np.asarray(sizes, dtype=np.float64)


def suggest_views(cfg, min_size: float | None = None) -> dict:
    """:func:`kaokore_mm.core.patching.views_for_faces` for the faces of ``cfg``'s training
    subset, its training patch size and its detector's smallest anchor (or ``min_size``);
    returns the rule's dict plus ``faces``, ``patch_size`` and ``min_size``."""
    patch_size = train_patching(cfg).get('patch_size')
    if patch_size is None:
        raise UserError('the config trains on whole pages (no PatchedPageDataset): views belong to patched configs')
    if min_size is None:
        try:
            min_size = smallest_anchor(cfg)
        except ValueError as e:
            raise UserError(f'{e}; give the smallest face the detector sees as `min_size`') from None
    sizes = training_face_sizes(cfg)
    if not len(sizes):
        raise UserError('the training subset has no face: the views are chosen from the training faces')
    rule = views_for_faces(sizes, patch_size, min_size)
    return dict(rule, faces=len(sizes), patch_size=tuple(patch_size), min_size=min_size)


def format_views(rule: dict) -> str:
    """The rule's result as config lines, with the figures behind them."""
    lines = [
        f'# core.patching.views_for_faces: {rule["faces"]} training faces (longest side p5 {rule["small"]:.0f}, '
        f'p99 {rule["large"]:.0f} px), patches {rule["patch_size"]}, smallest anchor {rule["min_size"]:g} px:',
        f'# faces up to {rule["fit"]:.0f} px lie wholly inside a patch at test overlap {rule["overlap"]:g}',
        'views = [',
        *[f'    dict(rate={v["rate"]!r}, valid_range={tuple(v["valid_range"])!r}),' for v in rule['views']],
        ']',
        'train_dataloader = dict(dataset=dict(views=views))',
        f'val_cfg = dict(overlap={rule["overlap"]:g})',
        f'test_cfg = dict(overlap={rule["overlap"]:g})',
    ]
    return '\n'.join(lines)
