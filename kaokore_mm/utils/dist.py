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

from kaokore_mm.utils.cli import UserError

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


JOIN_TIMEOUT_S = 60.0  # how long the processes of a run wait for each other to start (KAOKORE_DIST_JOIN_TIMEOUT)
ENV = ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')


def launcher_env(launcher: str) -> tuple[int, int, str, int]:
    """``(rank, world_size, master_addr, master_port)`` of a launcher's environment, or a one-line
    :class:`~kaokore_mm.utils.cli.UserError` naming what is missing or wrong and how to start."""
    try:
        if launcher == 'slurm':
            _env_from_slurm()
        elif launcher == 'mpi':
            _env_from_mpi()
    except KeyError as e:
        raise UserError(f'`launcher` {launcher}: {e.args[0]} is not set (run under {launcher})') from None
    missing = [k for k in ENV if not os.environ.get(k)]
    if missing:
        raise UserError(
            f'`launcher` {launcher}: {", ".join(missing)} not set; start every process with torchrun (which '
            'sets them), or run without `launcher`'
        )
    try:
        rank, world, port = int(os.environ['RANK']), int(os.environ['WORLD_SIZE']), int(os.environ['MASTER_PORT'])
    except ValueError:
        raise UserError(f'`launcher` {launcher}: RANK, WORLD_SIZE and MASTER_PORT must be whole numbers') from None
    if not (world >= 1 and 0 <= rank < world and 0 < port < 65536):
        raise UserError(
            f'`launcher` {launcher}: RANK {rank} of WORLD_SIZE {world} (port {port}) is not a process of a run'
        )
    return rank, world, os.environ['MASTER_ADDR'], port


def init_cpu_process_group(launcher: str, timeout_s: int = 1800) -> bool:
    """Initialise a gloo process group for ``launcher`` on a machine without
    CUDA; returns whether it did (``False`` with CUDA, for ``'none'`` or when a
    group exists already). The environment is checked first, and the processes wait at
    most ``KAOKORE_DIST_JOIN_TIMEOUT`` seconds (60) for each other: a missing variable or a
    peer that never starts is one line, not a silent wait of ``timeout_s`` (the collectives' limit)."""
    if launcher not in LAUNCHERS:
        raise ValueError(f'launcher {launcher!r} is not valid; valid: {", ".join(LAUNCHERS)}')
    if launcher == 'none' or torch_dist.is_initialized():
        return False
    rank, world, addr, port = launcher_env(launcher)
    if torch.cuda.is_available():
        return False  # mmengine's init_dist (NCCL) from the checked environment
    import datetime

    join = float(os.environ.get('KAOKORE_DIST_JOIN_TIMEOUT', JOIN_TIMEOUT_S))
    try:
        # as torch's env:// rendezvous does, but with a short wait; under torchrun the agent serves the store
        agent = os.environ.get('TORCHELASTIC_USE_AGENT_STORE') == 'True'
        store = torch_dist.TCPStore(
            addr, port, world, rank == 0 and not agent, timeout=datetime.timedelta(seconds=join), wait_for_workers=True
        )
    except (RuntimeError, OSError) as e:  # DistStoreError, refused connection, address in use
        raise UserError(
            f'`launcher` {launcher}: process {rank} of {world} could not meet the others at {addr}:{port} within '
            f'{join:g} s ({str(e).splitlines()[0][:120]}); start all {world} processes (torchrun '
            f'--nproc_per_node={world}), or raise KAOKORE_DIST_JOIN_TIMEOUT'
        ) from None
    torch_dist.init_process_group(
        backend='gloo', store=store, rank=rank, world_size=world, timeout=datetime.timedelta(seconds=timeout_s)
    )
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
