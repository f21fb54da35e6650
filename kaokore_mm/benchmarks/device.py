"""The device benchmark in one call (its command lines: ``benchmark_device.py``, ``benchmark_cuda.sh``).

On synthetic pages it writes itself (realistic: 4000-6000 px, faces 40-300 px;
``tiny``: 600-800 px pages, for CI on the CPU), with random weights (speed only),
side by side in one run:

- training throughput (patches/s) of the config's patched training, AMP off/on
  (AMP on CUDA only: mmengine's ``AmpOptimWrapper``), per data-loader worker count;
- page inference (pages/s, patches/s) at patch batch 1 and 8, AMP off/on (CUDA);
- ours (every view of the config, and the single grid) against SAHI's
  ``get_sliced_prediction`` with the same model, patch size and overlap, when
  SAHI is installed (``pip install -e .[bench]``);
- peak GPU memory of every step (CUDA).

Returns one dict (written as JSON) and a markdown table.
"""

from __future__ import annotations

import platform
import time
from pathlib import Path

import torch

from kaokore_mm.apis.train_test import build_runner
from kaokore_mm.benchmarks.inference import autocast_for, load_pages, run_ours, run_sahi
from kaokore_mm.inference import PageInferencer, read_page
from kaokore_mm.synthetic.emaki import make_synthetic
from kaokore_mm.utils.cli import UserError
from kaokore_mm.utils.config import enable_amp, load_config, set_data_root, set_iteration_run, train_patching
from kaokore_mm.utils.io import atomic_write_json, atomic_write_text

from .inference import sync as _sync

SIZES = {
    # 8 pages of the realistic regime; 30 training iterations (5 warm-up) per setting: ~6 min on one GPU
    'full': dict(
        pages=8,
        long_side=(4000, 6000),
        face_range=(40, 300),
        look='realistic',
        iters=30,
        warmup=5,
        workers=(2, 8),
        batch_sizes=(1, 8),
    ),
    # CI on the CPU: the same steps on 3 small pages
    'tiny': dict(
        pages=3,
        long_side=(600, 800),
        face_range=(30, 60),
        look='demo',
        iters=3,
        warmup=1,
        workers=(0, 1),
        batch_sizes=(1, 8),
    ),
}


def _cuda(device: str) -> bool:
    return device.startswith('cuda')


def _reset_peak(device: str) -> None:
    if _cuda(device):
        torch.cuda.reset_peak_memory_stats()


def _peak_mb(device: str) -> float | None:
    return torch.cuda.max_memory_allocated() / 2**20 if _cuda(device) else None


def _speed_cfg(config: str, data_root: str):
    """The config with random weights (no pretrained download) on the benchmark's pages."""
    cfg = load_config(config)
    set_data_root(cfg, data_root)
    cfg.model.backbone.init_cfg = None
    return cfg


def _iter_clock(warmup: int, device: str):
    """A Runner hook: seconds of the training iterations after ``warmup``."""
    from mmengine.hooks import Hook

    class IterClock(Hook):
        priority = 'VERY_LOW'

        def __init__(self):
            self.t0, self.seconds, self.timed = None, 0.0, 0

        def before_train_iter(self, runner, batch_idx, data_batch=None):
            _sync(device)
            self.t0 = time.perf_counter()

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            _sync(device)
            if runner.iter >= warmup:  # runner.iter counts this iteration from 0
                self.seconds += time.perf_counter() - self.t0
                self.timed += 1

    return IterClock()


def train_throughput(
    config: str, data_root: str, work_dir: str, device: str, size: dict, workers: int, amp: bool
) -> dict:
    """Patches per second of ``size['iters']`` training iterations (after the warm-up)."""
    cfg = _speed_cfg(config, data_root)
    cfg.work_dir = work_dir
    set_iteration_run(cfg, size['iters'])
    lc = cfg.train_dataloader
    lc.num_workers, lc.persistent_workers = workers, workers > 0
    if amp:
        enable_amp(cfg)
    runner = build_runner(cfg)
    clock = _iter_clock(size['warmup'], device)
    runner.register_hook(clock)
    _reset_peak(device)
    runner.train()
    batch = lc.batch_size
    return dict(
        step='train',
        patched=bool(train_patching(cfg)),
        amp=amp,
        workers=workers,
        batch_size=batch,
        iters_timed=clock.timed,
        patches_per_s=batch * clock.timed / clock.seconds if clock.seconds else None,
        peak_gpu_mb=_peak_mb(device),
    )


def inference_rows(config: str, data_root: str, items, device: str, batch_sizes, tmp: str) -> list[dict]:
    """Pages/s of ours at each batch size, AMP off/on (fp16, CUDA), the single
    grid, and SAHI with the same model when it is installed."""
    cfg = _speed_cfg(config, data_root)
    dev_type = 'cuda' if _cuda(device) else 'cpu'
    rows = []

    def timed(inf, what, bs, amp):
        ctx = autocast_for(device, amp)  # AMP rows on CUDA only: fp16
        with ctx():
            inf(read_page(items[0][0]))  # warm-up
        _reset_peak(device)
        run, _ = run_ours(inf, items, device, ctx)
        n = len(items)
        rows.append(
            dict(
                step='predict',
                what=what,
                views=len(inf.predictor.views),
                amp=amp,
                batch_size=bs,
                pages_per_s=n / run['time'],
                patches_per_s=run['patches'] / run['time'],
                seconds=run['time'],
                peak_gpu_mb=_peak_mb(device),
            )
        )

    inf = PageInferencer(cfg, None, device=device)  # one set of random weights for every row
    for bs in batch_sizes:
        for amp in (False, True) if dev_type == 'cuda' else (False,):
            inf.predictor.batch_size = bs
            timed(inf, 'ours', bs, amp)
    if dev_type != 'cuda':
        rows.append(dict(step='predict', what='ours', amp=True, note="CUDA only: mmcv's CPU NMS takes float32 only"))
    grid = inf.with_views(None)  # the papers' single grid, as SAHI slices: the same model and batch
    grid.predictor.batch_size = batch_sizes[-1]
    timed(grid, 'ours, single grid', batch_sizes[-1], False)
    try:
        import sahi  # noqa: F401
    except ImportError:
        rows.append(dict(step='predict', what='SAHI', note='not installed: pip install -e .[bench]'))
        return rows
    _reset_peak(device)
    sahi_run, _ = run_sahi(grid, items, tmp, device=device, warmup=1, repeat=1)
    rows.append(
        dict(
            step='predict',
            what='SAHI',
            views=1,
            amp=False,
            batch_size=1,
            pages_per_s=len(items) / sahi_run['time'],
            seconds=sahi_run['time'],
            peak_gpu_mb=_peak_mb(device),
        )
    )
    return rows


def device_name(device: str) -> str:
    if _cuda(device):
        return torch.cuda.get_device_name(torch.device(device))
    return f'CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)'


def run_device_benchmark(config: str, out_dir, device: str = 'cuda', size: str = 'full', progress=print) -> dict:
    """Every step of the module docstring; returns the figures (also written to
    ``out_dir/device_benchmark.json`` and ``.md``)."""
    import tempfile

    if size not in SIZES:
        raise UserError(f'`size` {size}: one of {", ".join(SIZES)}')
    if _cuda(device) and not torch.cuda.is_available():
        raise UserError(f'`device` {device}: CUDA is not available on this machine (use `device` cpu and `size` tiny)')
    s = SIZES[size]
    out = Path(out_dir)
    data = out / 'data'
    if not (data / 'annotations' / 'pages.json').exists():
        make_synthetic(
            data,
            pages=s['pages'],
            books=s['pages'],
            seed=0,
            long_side=s['long_side'],
            face_range=s['face_range'],
            progress=False,
            look=s['look'],
        )
    t_start = time.perf_counter()
    rows = []
    for amp in (False, True):
        if amp and not _cuda(device):
            rows.append(dict(step='train', amp=True, note="AMP training needs CUDA (mmengine's AmpOptimWrapper)"))
            continue
        for workers in s['workers']:
            progress(f'[device benchmark] train, AMP {"on" if amp else "off"}, {workers} workers')
            rows.append(train_throughput(config, str(data), str(out / 'train'), device, s, workers, amp))
    items = load_pages(str(data / 'annotations' / 'pages.json'))
    progress(f'[device benchmark] predict {len(items)} pages')
    with tempfile.TemporaryDirectory() as tmp:
        rows += inference_rows(config, str(data), items, device, s['batch_sizes'], tmp)
    res = dict(
        config=config,
        device=device,
        device_name=device_name(device),
        torch=torch.__version__,
        size=size,
        pages=len(items),
        page_long_side=list(s['long_side']),
        seconds=time.perf_counter() - t_start,
        rows=rows,
    )
    atomic_write_json(out / 'device_benchmark.json', res)
    atomic_write_text(out / 'device_benchmark.md', markdown(res))
    return res


def markdown(res: dict) -> str:
    def f(v, fmt='{:.2f}'):
        return '' if v is None else (fmt.format(v) if isinstance(v, float) else str(v))

    lines = [
        f'`{res["config"]}` on {res["device_name"]} (torch {res["torch"]}), {res["pages"]} synthetic pages '
        f'({res["page_long_side"][0]}-{res["page_long_side"][1]} px), random weights; '
        f'{res["seconds"] / 60:.1f} min in all.',
        '',
        '| step | what | AMP | workers | batch | patches/s | pages/s | peak GPU MB | note |',
        '|---|---|---|---|---|---|---|---|---|',
    ]
    for r in res['rows']:
        what = r.get('what', 'patched training' if r.get('patched') else 'training')
        views = f' ({r["views"]} view{"s" if r["views"] > 1 else ""})' if r.get('views') else ''
        lines.append(
            f'| {r["step"]} | {what}{views} | {"on" if r.get("amp") else "off"} | {f(r.get("workers"))} | '
            f'{f(r.get("batch_size"))} | {f(r.get("patches_per_s"))} | {f(r.get("pages_per_s"), "{:.3f}")} | '
            f'{f(r.get("peak_gpu_mb"), "{:.0f}")} | {r.get("note", "")} |'
        )
    return '\n'.join(lines) + '\n'
