"""Training input speed: patches per second from the patched training dataset.

    python tools/benchmark_train_input.py CONFIG [--data-root DIR] [--samples 300]

Measured in one run, single process (the per-worker cost):
- page decode: ``LoadImageFromFile`` alone on the training pages (seconds per page);
- whole pages: the whole-page training pipeline (decode, annotations, resize
  to the input, flip, pack), pages per second;
- patches, naive: the config's patched pipeline with the page decoded again for
  every patch (``LoadImageFromFile``, plain shuffle);
- patches, cached: the config's pipeline as configured (``LoadPageFromFile`` with
  its cache and ``BookSplitSampler(page_window=K)``).
Prints patches/s of both and the cost of one patch relative to decoding its
page (goal: <= 1/4 for the cached pipeline).
"""

import argparse
import copy
import itertools
import sys
import time

from mmengine.registry import init_default_scope

import kaokore_mm  # noqa: F401
from kaokore_mm.utils.cli import COUNT, cli_main
from kaokore_mm.utils.config import load_config, page_dataset_cfg, set_data_root
from kaokore_mm.utils.io import atomic_write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('config', help='a patched config (PatchedPageDataset)')
    p.add_argument('--data-root')
    p.add_argument('--samples', type=COUNT, default=300, help='patches timed per variant')
    p.add_argument('--out', help='write the figures as JSON')
    return p.parse_args(argv)


def build(cfg, pipeline, page_window, **dataset_overrides):
    from mmdet.registry import DATA_SAMPLERS, DATASETS

    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    ds_cfg.pipeline = pipeline
    ds_cfg.update(dataset_overrides)
    dataset = DATASETS.build(ds_cfg)
    s_cfg = copy.deepcopy(cfg.train_dataloader.sampler)
    s_cfg.update(seed=0, page_window=page_window, round_up=False)
    sampler = DATA_SAMPLERS.build(s_cfg, default_args=dict(dataset=dataset))
    return dataset, sampler


def timed(dataset, order, n):
    idx = list(itertools.islice(itertools.cycle(order), n))
    t0 = time.perf_counter()
    for i in idx:
        dataset[i]
    return (time.perf_counter() - t0) / len(idx)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    if args.data_root:
        set_data_root(cfg, args.data_root)
    pipeline = cfg.train_dataloader.dataset.pipeline
    load = next(i for i, t in enumerate(pipeline) if t['type'] in ('LoadImageFromFile', 'LoadPageFromFile'))
    window = cfg.train_dataloader.sampler.get('page_window')
    if pipeline[load]['type'] != 'LoadPageFromFile' or not window:
        print('note: the config does not use LoadPageFromFile with a page_window; "cached" is the config as is')

    cached_ds, cached_sampler = build(cfg, pipeline, window)
    naive_pipeline = copy.deepcopy(pipeline)
    naive_pipeline[load] = dict(type='LoadImageFromFile')
    naive_ds, naive_sampler = build(cfg, naive_pipeline, None)
    patch_size = cached_ds.patch_size

    from mmdet.registry import DATASETS

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
    n_pages = min(len(train_pages), max(5, args.samples // 10))
    decode_s = timed(decode_ds, train_pages, n_pages)
    page_s = timed(pages_ds, train_pages, n_pages)
    naive_s = timed(naive_ds, list(naive_sampler), args.samples)
    cached_s = timed(cached_ds, list(cached_sampler), args.samples)
    loader = cached_ds.pipeline.transforms[load]
    res = dict(
        config=args.config,
        patch_size=patch_size,
        page_window=window,
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
    print(
        f'{len(train_pages)} training pages, {len(cached_sampler)} patches of {patch_size}; '
        f'{args.samples} patches timed per variant, one process'
    )
    print(f'page decode:         {decode_s * 1000:8.1f} ms/page')
    print(f'whole pages:         {1 / page_s:8.2f} pages/s (decode, resize to {patch_size}, flip, pack)')
    print(f'patches, naive:      {1 / naive_s:8.2f} patches/s   one patch = {naive_s / decode_s:.2f} x a page decode')
    print(
        f'patches, cached:     {1 / cached_s:8.2f} patches/s   one patch = {cached_s / decode_s:.2f} x a page decode'
        f'   (cache hits {res["cache_hits"]}, misses {res["cache_misses"]})'
    )
    print(f'speed-up of the cached pipeline: {naive_s / cached_s:.1f} x')
    if args.out:
        atomic_write_json(args.out, res)
    return res


if __name__ == '__main__':
    sys.exit(cli_main(lambda argv: 0 if main(argv) else 1))
