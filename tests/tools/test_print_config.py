"""Configs any OpenMMLab tool takes: ``tools/print_config.py --out`` writes a config as the project's
tools run it (``model_from`` resolved), which stock ``mmengine.Config.fromfile`` loads with its model
and mmdet's own ``tools/train.py`` trains."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from mmengine.config import Config

from kaokore_mm.utils.config import load_config
from tests.conftest import LOADER_OPTS, SPLIT_OPTS, load_tool
from tests.test_compat import ROOT
from tests.test_configs import CONFIGS

MODEL_FROM = [p for p in CONFIGS if 'model_from' in Path(p).read_text()]


def test_some_configs_take_their_model_from_the_zoo():
    assert len(MODEL_FROM) >= 5  # the zoo families, full size and demo


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: Path(p).name)
def test_the_written_config_loads_with_stock_mmengine_with_its_model(path, tmp_path, capsys):
    out = tmp_path / 'plain.py'
    load_tool('print_config').main([path, '--out', str(out)])
    assert f'-> {out}' in capsys.readouterr().out
    stock = Config.fromfile(str(out))
    ours = load_config(path)
    assert stock.get('model') and stock.model.to_dict() == ours.model.to_dict()
    assert 'model_from' not in stock and stock.custom_imports == ours.custom_imports
    if path in MODEL_FROM:
        assert stock.model_origin and 'model_from' in Path(path).read_text()
        # the reason for the tool: stock mmengine sees no model, or only the config's own settings of it
        assert 'type' not in (Config.fromfile(path).get('model') or {})


def test_printing_without_out_shows_the_resolved_model(capsys):
    path = next(p for p in MODEL_FROM if 'rtmdet' in p)
    load_tool('print_config').main([path])
    assert "type='RTMDet'" in capsys.readouterr().out


DEMO_ZOO = [p for p in MODEL_FROM if '/demo/' in p]


@pytest.mark.processes
@pytest.mark.parametrize('path', DEMO_ZOO, ids=lambda p: Path(p).name)
def test_mmdets_own_train_tool_trains_the_written_config(path, tiny_data, tmp_path):
    """mmdet's tools/train.py (shipped in the mmdet package), 2 iterations, no project code but the
    ``custom_imports`` the config names."""
    train = Path(importlib.util.find_spec('mmdet').origin).parent / '.mim' / 'tools' / 'train.py'
    if not train.is_file():
        pytest.skip(f'mmdet ships no {train}')
    out = tmp_path / 'plain.py'
    load_tool('print_config').main([path, '--data-root', str(tiny_data), '--out', str(out)])
    opts = [*LOADER_OPTS, 'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2']
    opts += [*SPLIT_OPTS, 'train_dataloader.batch_size=1']
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS='1')
    r = subprocess.run(
        [sys.executable, str(train), str(out), '--work-dir', str(tmp_path / 'run'), '--cfg-options', *opts],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    assert (tmp_path / 'run' / 'iter_2.pth').is_file()
