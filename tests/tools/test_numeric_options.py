"""Every number a user gives on a command line is finite and in range, by construction: each
numeric option of every tool takes a ranged type (:func:`kaokore_mm.utils.cli.number`), and
each such type refuses non-finite, out-of-range and mistyped values (a property over all of
them, not one case per option); a few tools are then run as a user runs them."""

import argparse
import math
import subprocess
import sys
from pathlib import Path

import pytest

from kaokore_mm.utils.cli import number
from tests.conftest import load_tool

ROOT = Path(__file__).resolve().parents[2]
TOOLS = sorted(
    p.relative_to(ROOT / 'tools').with_suffix('').as_posix()
    for p in [*ROOT.glob('tools/*.py'), *ROOT.glob('tools/dataset_converters/*.py')]
)


class Captured(Exception):
    pass


def parser_of(tool):
    """The ArgumentParser a tool's ``parse_args`` builds (caught before it parses)."""
    module = load_tool(tool)
    seen = {}

    def capture(self, args=None, namespace=None):
        seen['parser'] = self
        raise Captured

    original = argparse.ArgumentParser.parse_args
    argparse.ArgumentParser.parse_args = capture
    try:
        module.parse_args([])
    except Captured:
        pass
    finally:
        argparse.ArgumentParser.parse_args = original
    return seen['parser']


def numeric_actions():
    out = []
    for tool in TOOLS:
        for a in parser_of(tool)._actions:
            if a.type in (int, float) or getattr(a.type, 'range', None):
                out.append((tool, a))
    return out


ACTIONS = numeric_actions()


def test_every_numeric_option_has_a_range():
    raw = [f'tools/{t}.py {a.option_strings or a.dest}' for t, a in ACTIONS if a.type in (int, float)]
    assert not raw, f'numeric options without a range (use kaokore_mm.utils.cli.number): {raw}'
    assert len(ACTIONS) >= 40


def bad_values(rng):
    kind, lo, hi, lo_open = rng
    values = ['nan', 'inf', '-inf', '1e400', 'abc', '', '0x10']
    if kind is int:
        values += ['3.5', '1e3']
    if lo is not None:
        values.append(repr(lo - 1) if kind is int else repr(lo - 1e-3))
        if lo_open:
            values.append(repr(lo))
    if hi is not None:
        values.append(repr(hi + 1) if kind is int else repr(hi * 1.01 + 1e-3))
    return values


@pytest.mark.parametrize('tool, action', ACTIONS, ids=[f'{t}:{a.dest}' for t, a in ACTIONS])
def test_bad_numbers_are_refused_and_good_ones_taken(tool, action):
    rng = action.type.range
    for text in bad_values(rng):
        with pytest.raises(argparse.ArgumentTypeError):
            action.type(text)
    kind, lo, hi, lo_open = rng
    good = hi if hi is not None else (lo + 1 if lo is not None else 0)
    assert action.type(str(good)) == good
    if action.default is not None and not isinstance(action.default, (list, tuple)):
        assert action.type(str(action.default)) == action.default  # the default is in its own range


def test_the_type_property_over_random_inputs():
    import random

    rnd = random.Random(0)
    t = number(float, 0.0, 1.0)
    for _ in range(2000):
        x = rnd.choice([rnd.uniform(-2, 2), rnd.choice([math.nan, math.inf, -math.inf]), rnd.uniform(0, 1)])
        text = repr(x)
        ok = math.isfinite(x) and 0 <= x <= 1
        if ok:
            assert t(text) == x
        else:
            with pytest.raises(argparse.ArgumentTypeError):
                t(text)


@pytest.mark.processes
@pytest.mark.parametrize(
    'argv, option',
    [
        (['tools/make_synthetic.py', '--out', '{tmp}/s', '--pages', 'nan'], '--pages'),
        (['tools/suggest_views.py', 'configs/demo/faster_rcnn_r18_patch512_demo.py', '--min-size', '-5'], '--min-size'),
        (['tools/review.py', '{tmp}', '--port', '70000'], '--port'),
        (['tools/train.py', 'configs/demo/faster_rcnn_r18_patch512_demo.py', '--split-seed', '1e400'], '--split-seed'),
    ],
)
def test_tools_refuse_bad_numbers_as_a_user_types_them(tmp_path, argv, option):
    argv = [a.replace('{tmp}', str(tmp_path)) for a in argv]
    r = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and 'Traceback' not in r.stderr, r.stderr
    assert option in r.stderr.strip().splitlines()[-1]
