"""Config values checked by the name of their key (a property over values of every JSON type), and
through every shipped config: none of their own values is refused."""

import math
import random
from pathlib import Path

import pytest

from kaokore_mm.utils.cli import UserError
from kaokore_mm.utils.preflight import check_config_values, value_problem

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(str(p) for p in ROOT.glob('configs/**/*.py') if '_base_' not in p.parts)


def random_value(rnd):
    return rnd.choice(
        [
            rnd.uniform(-3, 3),
            rnd.randint(-5, 5),
            rnd.choice([math.nan, math.inf, -math.inf, True, False, None, 'abc', '0.5', [], {}, 10**400]),
            [rnd.uniform(-2, 2), rnd.uniform(-2, 2)],
            (rnd.randint(-10, 3000), rnd.randint(-10, 3000)),
        ]
    )


def expected_ok(key, v):
    num = lambda x: not isinstance(x, bool) and (isinstance(x, int) or isinstance(x, float) and math.isfinite(x))  # noqa: E731
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return False
    if isinstance(v, dict):
        return True
    vals = list(v) if isinstance(v, (list, tuple)) else [v]
    if key == 'overlap':
        return bool(vals) and all(num(x) and 0 <= x < 1 for x in vals)
    if key.endswith('thr') or key.endswith('threshold'):
        return bool(vals) and all(num(x) and -1 <= x <= 1 for x in vals)
    if key == 'batch_size':
        return v == 'auto' or (isinstance(v, int) and not isinstance(v, bool) and v >= 1)
    if key == 'patch_size':
        return len(vals) in (1, 2) and all(
            isinstance(x, int) and not isinstance(x, bool) and 1 <= x <= 100_000 for x in vals
        )
    return True


@pytest.mark.parametrize(
    'key', ['score_thr', 'iou_threshold', 'ignore_iof_thr', 'overlap', 'batch_size', 'patch_size', 'lr']
)
def test_a_value_is_refused_exactly_when_its_key_rules_it_out(key):
    rnd = random.Random(key)
    for _ in range(500):
        v = random_value(rnd)
        assert (value_problem(key, v) is None) == expected_ok(key, v), (key, v, value_problem(key, v))


def test_the_first_bad_value_is_named_with_its_path():
    cfg = dict(model=dict(test_cfg=dict(rcnn=dict(score_thr=0.05, nms=dict(iou_threshold='abc')))))
    with pytest.raises(UserError) as e:
        check_config_values(cfg, 'c.py')
    assert str(e.value).startswith("c.py: model.test_cfg.rcnn.nms.iou_threshold: 'abc' is not a number in [-1, 1]")
    check_config_values(dict(model=dict(loss_iou=dict(type='GIoULoss'))), 'c.py')  # a sub-config, not a value


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: Path(p).name)
def test_every_shipped_config_passes(path):
    from kaokore_mm.utils.config import load_config

    load_config(path)  # runs check_config_values: no false alarm on the project's own settings
