"""Training input speed: patches per second from the patched training dataset, measured in one
run, single process (the per-worker cost):

- page decode: ``LoadImageFromFile`` alone on the training pages (seconds per page);
- whole pages: the whole-page training pipeline (decode, annotations, resize to the input,
  flip, pack), pages per second;
- patches, naive: the config's patched pipeline with the page decoded again for every patch
  (``LoadImageFromFile``, plain shuffle);
- patches, cached: the config's pipeline as configured (``LoadPageFromFile`` with its cache
  and ``BookSplitSampler(page_window=K)``).

The goal: one cached patch costs at most a quarter of decoding its page. The train-input
benchmark tool is its command line.
"""

from __future__ import annotations

import copy
import itertools
import time

from mmdet.registry import DATA_SAMPLERS, DATASETS
from mmengine.registry import init_default_scope

from kaokore_mm.utils.config import load_config, page_dataset_cfg, set_data_root


def build(cfg, pipeline, page_window, **dataset_overrides) -> tuple:
    """The training dataset with ``pipeline`` and its sampler with ``page_window``."""
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    ds_cfg.pipeline = pipeline
    ds_cfg.update(dataset_overrides)
    dataset = DATASETS.build(ds_cfg)
    s_cfg = copy.deepcopy(cfg.train_dataloader.sampler)
    s_cfg.update(seed=0, page_window=page_window, round_up=False)
    sampler = DATA_SAMPLERS.build(s_cfg, default_args=dict(dataset=dataset))
    return dataset, sampler


def timed(dataset, order, n: int) -> float:
    """Seconds per item of ``dataset`` over ``n`` indices of ``order`` (cycled)."""
    idx = list(itertools.islice(itertools.cycle(order), n))
    t0 = time.perf_counter()
    for i in idx:
        dataset[i]
    return (time.perf_counter() - t0) / len(idx)


def train_input_benchmark(config: str, data_root=None, samples: int = 300, log=print) -> dict:
    """The four speeds of the module for ``config`` (``samples`` patches timed per variant);
    the figures as a dict, a note through ``log`` when the config has no page cache."""
    cfg = load_config(config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    if data_root:
        set_data_root(cfg, data_root)
    pipeline = cfg.train_dataloader.dataset.pipeline
    load = next(i for i, t in enumerate(pipeline) if t['type'] in ('LoadImageFromFile', 'LoadPageFromFile'))
    window = cfg.train_dataloader.sampler.get('page_window')
    if pipeline[load]['type'] != 'LoadPageFromFile' or not window:
        log('note: the config does not use LoadPageFromFile with a page_window; "cached" is the config as is')

    cached_ds, cached_sampler = build(cfg, pipeline, window)
    naive_pipeline = copy.deepcopy(pipeline)
    naive_pipeline[load] = dict(type='LoadImageFromFile')
    naive_ds, naive_sampler = build(cfg, naive_pipeline, None)
    patch_size = cached_ds.patch_size

    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    decode_ds = DATASETS.build(page_dataset_cfg(ds_cfg, [dict(type='LoadImageFromFile')]))
    pages_ds = DATASETS.build(
        page_dataset_cfg(
            ds_cfg,
            [
                dict(type='LoadImageFromFile'),
                dict(type='LoadAnnotations', with_bbox=True),
                dict(type='Resize', scale=patch_size, keep_ratio=True),
                dict(type='RandomFlip', prob=0.5),
                dict(type='PackDetInputs'),
            ],
        )
    )
    train_pages = sorted({cached_ds.get_data_info(i)['page_idx'] for i in cached_sampler.indices})
    n_pages = min(len(train_pages), max(5, samples // 10))
    decode_s = timed(decode_ds, train_pages, n_pages)
    page_s = timed(pages_ds, train_pages, n_pages)
    naive_s = timed(naive_ds, list(naive_sampler), samples)
    cached_s = timed(cached_ds, list(cached_sampler), samples)
    loader = cached_ds.pipeline.transforms[load]
    return dict(
        config=config,
        patch_size=patch_size,
        page_window=window,
        samples=samples,
        train_pages=len(train_pages),
        train_patches=len(cached_sampler),
        decode_s_per_page=decode_s,
        whole_pages_per_s=1 / page_s,
        naive_patches_per_s=1 / naive_s,
        cached_patches_per_s=1 / cached_s,
        naive_patch_vs_decode=naive_s / decode_s,
        cached_patch_vs_decode=cached_s / decode_s,
        cache_hits=getattr(loader, 'hits', None),
        cache_misses=getattr(loader, 'misses', None),
    )


def report(res: dict) -> list[str]:
    """The figures of :func:`train_input_benchmark` as the lines the tool prints."""
    decode_s, naive_s, cached_s = (
        res['decode_s_per_page'],
        1 / res['naive_patches_per_s'],
        1 / res['cached_patches_per_s'],
    )
    size = res['patch_size']
    return [
        f'{res["train_pages"]} training pages, {res["train_patches"]} patches of {size}; '
        f'{res["samples"]} patches timed per variant, one process',
        f'page decode:         {decode_s * 1000:8.1f} ms/page',
        f'whole pages:         {res["whole_pages_per_s"]:8.2f} pages/s (decode, resize to {size}, flip, pack)',
        f'patches, naive:      {1 / naive_s:8.2f} patches/s   one patch = {naive_s / decode_s:.2f} x a page decode',
        f'patches, cached:     {1 / cached_s:8.2f} patches/s   one patch = {cached_s / decode_s:.2f} x a page decode'
        f'   (cache hits {res["cache_hits"]}, misses {res["cache_misses"]})',
        f'speed-up of the cached pipeline: {naive_s / cached_s:.1f} x',
    ]
