"""The README and docs/ as tests: every ``bash`` block is either run here as written, in order,
as a user follows the page, or marked in the page (``<!-- not run by the tests: why -->``
above the block) with the reason; and every tool command of every block, run or not, parses
with that tool's own argument parser, so a documented flag that disappears fails here.

The runnable blocks run in a sandbox laid out like the checkout: ``tools/`` and ``.venv/``
are the project's; every path a page names is there (``data/kaokore``: generated pages;
``path/to/newbook``: a generated book; ``my_config.py``); the configs a page names are tiny
stand-ins of themselves (the same config, dumped after the edits of the family smoke tests:
2 iterations, 256 px patches, no pretrained download), and the checkpoints it names are
random weights of those models (narrowed: R50 backbones as R18, the classifier's as a
ResNet-18, since the commands' paths, options and formats are under test here, not the
models). One substitution table (``SUBSTITUTE``) replaces what a sandbox cannot have as
written: a placeholder (``CKPT``) and the review app's fixed port. A long-running tool (the
review app) is started, used as an annotator would (every page marked done through its API)
and stopped, and the page goes on.
"""

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import load_tool

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]
MARK = re.compile(r'<!--\s*not run by the tests:\s*(.+?)\s*-->')
SUBSTITUTE = {' CKPT ': ' work_dirs/resnext50_kaokore_status/epoch_30.pth ', '--port 8000': '--port 0'}
# configs the pages name, stood in for by their tiny selves
STANDINS = ('configs/faster_rcnn_r50_patch1333.py',)
CLASSIFIER = 'configs/resnext50_kaokore_status.py'
CHECKPOINTS = {
    'work_dirs/faster_rcnn_r50_patch1333/epoch_12.pth': 'configs/faster_rcnn_r50_patch1333.py',
    'work_dirs/resnext50_kaokore_status/epoch_30.pth': CLASSIFIER,
}


def blocks():
    """``(doc, line, commands, reason)`` of every ``bash`` block: its commands (continuation
    lines joined, comments dropped) and the reason it is not run (``None``: it is run)."""
    found = []
    for doc in DOCS:
        lines = doc.read_text(encoding='utf-8').split('\n')
        k = 0
        while k < len(lines):
            if lines[k].strip() == '```bash':
                start, body = k + 1, []
                k += 1
                while not lines[k].startswith('```'):
                    body.append(lines[k])
                    k += 1
                prev = next((lines[j] for j in range(start - 2, -1, -1) if lines[j].strip()), '')
                m = MARK.search(prev)
                joined = re.sub(r'\\\n\s*', ' ', '\n'.join(body))
                commands = [c.split('  #')[0].strip() for c in joined.split('\n')]
                commands = [c for c in commands if c and not c.startswith('#')]
                found.append((doc.name, start, commands, m.group(1) if m else None))
            k += 1
    return found


BLOCKS = blocks()
TOOL = re.compile(r'(?:\.venv/bin/python\S*|torchrun(?: --\S+)*|python\S*) tools/(\S+)\.py(.*)')


def tool_commands():
    out = []
    for doc, line, commands, _ in BLOCKS:
        for c in commands:
            m = TOOL.search(c)
            if m:
                out.append((doc, line, m.group(1), m.group(2)))
    return out


CMDS = tool_commands()


def test_docs_show_the_tools():
    tools = {t for _, _, t, _ in CMDS}
    assert {
        'train',
        'test',
        'make_synthetic',
        'benchmark',
        'annotate',
        'review',
        'merge_corrections',
        'sweep',
        'download_pages',
        'vis_cam',
        'suggest_views',
        'dataset_converters/kaokore_pages',
    } <= tools


@pytest.mark.parametrize('doc, line, tool, args', CMDS, ids=[f'{d}:{n}:{t}' for d, n, t, _ in CMDS])
def test_doc_command_parses(doc, line, tool, args):
    module = load_tool(tool)
    try:
        module.parse_args(shlex.split(args))
    except SystemExit as e:  # argparse exits on unknown or missing arguments
        pytest.fail(f'{doc}:{line}: `tools/{tool}.py{args}` does not parse ({e})')


def test_every_block_is_run_or_says_why_not():
    """A block is run by test_doc_runs_as_written unless it is marked with a reason that names
    what it needs (or where its steps are tested instead)."""
    run = [b for b in BLOCKS if b[3] is None]
    marked = [b for b in BLOCKS if b[3] is not None]
    assert run and marked
    for doc, line, _, reason in marked:
        assert len(reason) > 20, f'{doc}:{line}: say why the block is not run: {reason!r}'
    runnable_docs = {b[0] for b in run}
    assert {'README.md', 'annotation.md', 'getting_started.md', 'interpretation.md'} <= runnable_docs
    for doc, line, commands, _ in run:  # what the sandbox knows how to run
        for c in commands:
            assert TOOL.search(c) and c.startswith('.venv/bin/python tools/'), f'{doc}:{line}: cannot run {c!r}'


@pytest.fixture(scope='module')
def sandbox(tiny_data, tmp_path_factory):
    """A checkout-like folder where every path of the runnable blocks exists (see the module doc)."""
    import torch

    from kaokore_mm.synthetic.emaki import make_synthetic
    from kaokore_mm.utils.config import load_config
    from tests.test_config_runs import tiny_cfg

    box = tmp_path_factory.mktemp('docs_sandbox')
    for name in ('tools', '.venv'):
        (box / name).symlink_to(ROOT / name)
    shutil.copytree(tiny_data, box / 'data' / 'kaokore')
    make_synthetic(
        box / 'newbook_src', pages=2, books=1, seed=7, long_side=(600, 800), face_range=(30, 60), progress=False
    )
    (box / 'path' / 'to' / 'newbook').mkdir(parents=True)
    for page in sorted((box / 'newbook_src' / 'pages').rglob('*.jpg')):
        shutil.copy(page, box / 'path' / 'to' / 'newbook' / page.name)
    for cfg_file in ROOT.glob('configs/**/*.py'):
        dest = box / cfg_file.relative_to(ROOT)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if str(cfg_file.relative_to(ROOT)) not in (*STANDINS, CLASSIFIER):
            dest.symlink_to(cfg_file)
    for rel in STANDINS:
        cfg = tiny_cfg(rel, box / 'data' / 'kaokore', box / 'unused', narrow=True)
        cfg.pop('work_dir')  # the tools' default: work_dirs/<config name>, as the pages say
        test_cfg = cfg.model.test_cfg
        (test_cfg.rcnn if 'rcnn' in test_cfg else test_cfg).max_per_img = 5  # random weights: few boxes to classify
        cfg.dump(str(box / rel))
    cls = load_config(str(ROOT / CLASSIFIER))
    # no ImageNet download here (the checkpoint brings the weights), and narrow: a ResNet-18 of the same task
    cls.model.backbone = dict(type='mmpretrain.ResNet', depth=18, init_cfg=None)
    cls.model.head.in_channels = 512
    cls.dump(str(box / CLASSIFIER))
    (box / 'my_config.py').symlink_to(box / STANDINS[0])
    for ckpt, rel in CHECKPOINTS.items():  # random weights of the stand-in models
        from mmengine.registry import MODELS, init_default_scope

        cfg = load_config(str(box / rel))
        init_default_scope(cfg.default_scope)
        model = MODELS.build(cfg.model)
        model.init_weights()  # as a training starts (the backbones' init_cfg is None: nothing downloaded)
        classes = ('face',) if cfg.default_scope == 'mmdet' else None
        meta = dict(dataset_meta=dict(classes=classes)) if classes else {}
        (box / ckpt).parent.mkdir(parents=True, exist_ok=True)
        torch.save(dict(state_dict=model.state_dict(), meta=meta), box / ckpt)
    return box


def substituted(command: str) -> str:
    for old, new in SUBSTITUTE.items():
        command = command.replace(old, new)
    return command


def env():
    e = dict(os.environ, PYTHONUNBUFFERED='1')
    e.pop('PYTHONPATH', None)
    return e


def review_as_an_annotator(command, box):
    """Start the review app as written, mark every page done through its API, stop it."""
    proc = subprocess.Popen(
        shlex.split(command), cwd=box, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env()
    )
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            m = re.search(r'open (http://\S+?)/ ', line)
            if m:
                url = m.group(1)
                break
        else:
            pytest.fail(f'{command!r} did not start: {"".join(lines)[-1500:]}')
        pages = json.loads(urllib.request.urlopen(f'{url}/api/pages', timeout=30).read())['pages']
        assert pages
        for p in pages:
            doc = json.loads(urllib.request.urlopen(f'{url}/api/pages/{p["stem"]}', timeout=30).read())
            body = dict(
                items=doc['items'], version=doc['kaokore:version'], state='done', actions=[dict(op='done', t=1e9)]
            )
            req = urllib.request.Request(
                f'{url}/api/pages/{p["stem"]}',
                data=json.dumps(body).encode(),
                method='PUT',
                headers={'Content-Type': 'application/json'},
            )
            assert urllib.request.urlopen(req, timeout=30).status == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


RUN_DOCS = sorted({b[0] for b in BLOCKS if b[3] is None}, key=lambda d: (d != 'README.md', d))


DONE = set()  # commands run in this sandbox already (the README and getting_started share train and test)


@pytest.mark.parametrize('doc', RUN_DOCS)
def test_doc_runs_as_written(doc, sandbox):
    """Every runnable block of the page, in order, as written (the substitutions aside): exit 0 and
    no traceback. A command another page ran in the same sandbox already is not run twice."""
    for _, line, commands, _ in [b for b in BLOCKS if b[0] == doc and b[3] is None]:
        for command in commands:
            command = substituted(command)
            if command in DONE:
                continue
            if 'tools/review.py' in command:
                review_as_an_annotator(command, sandbox)
                continue
            r = subprocess.run(
                ['bash', '-c', command], cwd=sandbox, capture_output=True, text=True, timeout=900, env=env()
            )
            assert r.returncode == 0 and 'Traceback' not in r.stderr, (
                f'{doc}:{line}: `{command}` exited {r.returncode}:\n{r.stdout[-1500:]}\n{r.stderr[-3000:]}'
            )
            DONE.add(command)
