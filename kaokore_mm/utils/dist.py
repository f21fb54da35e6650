"""Distributed runs on mmengine's launchers, on GPUs and on CPU-only machines.

mmengine's ``init_dist`` calls ``torch.cuda.set_device`` and fails on a machine
without CUDA. There, :func:`setup_distributed` sets up the process group itself
(gloo, from the same environment variables mmengine reads for ``pytorch``,
``slurm`` and ``mpi``) before the Runner is built, and gives the DDP wrapper no
device ids; the Runner then sees an initialised group and skips ``init_dist``.
With CUDA nothing changes: mmengine does its usual set-up. This is how
mmengine's own tests run gloo on CPU.
"""

from __future__ import annotations

import os
import subprocess

import torch
import torch.distributed as torch_dist

LAUNCHERS = ('none', 'pytorch', 'slurm', 'mpi')


def _env_from_slurm() -> None:
    """``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR/PORT`` from slurm's variables, as mmengine does."""
    node_list = os.environ['SLURM_NODELIST']
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        os.environ['MASTER_ADDR'] = subprocess.getoutput(f'scontrol show hostname {node_list} | head -n1')
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')


def _env_from_mpi() -> None:
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        raise KeyError('the mpi launcher needs MASTER_ADDR in the environment')
    os.environ['WORLD_SIZE'] = os.environ['OMPI_COMM_WORLD_SIZE']
    os.environ['RANK'] = os.environ['OMPI_COMM_WORLD_RANK']
    os.environ['LOCAL_RANK'] = os.environ.get('OMPI_COMM_WORLD_LOCAL_RANK', '0')


def init_cpu_process_group(launcher: str, timeout_s: int = 1800) -> bool:
    """Initialise a gloo process group for ``launcher`` on a machine without
    CUDA; returns whether it did (``False`` with CUDA, for ``'none'`` or when a
    group exists already)."""
    if launcher not in LAUNCHERS:
        raise ValueError(f'launcher {launcher!r} is not valid; valid: {", ".join(LAUNCHERS)}')
    if launcher == 'none' or torch.cuda.is_available() or torch_dist.is_initialized():
        return False
    if launcher == 'slurm':
        _env_from_slurm()
    elif launcher == 'mpi':
        _env_from_mpi()
    import datetime

    torch_dist.init_process_group(backend='gloo', timeout=datetime.timedelta(seconds=timeout_s))
    return True


def setup_distributed(cfg, launcher: str) -> None:
    """Prepare ``cfg`` (an mmengine Config) for ``launcher``: on a CPU-only
    machine initialise gloo and build the DDP wrapper without device ids."""
    cfg.launcher = launcher
    if init_cpu_process_group(launcher):
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
        wrapper = dict(cfg.get('model_wrapper_cfg') or {})
        wrapper.setdefault('type', 'MMDistributedDataParallel')
        wrapper['device_ids'] = None  # CPU: DDP without devices
        wrapper.setdefault('broadcast_buffers', False)
        wrapper.setdefault('find_unused_parameters', cfg.get('find_unused_parameters', False))
        cfg.model_wrapper_cfg = wrapper


def rank_and_world() -> tuple[int, int]:
    """``(rank, world_size)`` of an initialised group, else ``(0, 1)``."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        return torch_dist.get_rank(), torch_dist.get_world_size()
    return 0, 1


def finish_distributed() -> None:
    """Wait for every rank, then take the process group down (a rank that leaves
    while others still talk, or a group left to interpreter shutdown, aborts
    with "terminate called without an active exception")."""
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
