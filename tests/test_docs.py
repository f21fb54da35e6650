"""Every tool command shown in the README and docs/ parses with that tool's own
argument parser (options and positional arguments), so the docs cannot drift
from the tools. The tools themselves are run by the other tests and `make demo`."""

import re
import shlex
from pathlib import Path

import pytest

from tests.conftest import load_tool

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]


def commands():
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding='utf-8')
        for block in re.findall(r'```bash\n(.*?)```', text, flags=re.S):
            joined = re.sub(r'\\\n\s*', ' ', block)
            for line in joined.splitlines():
                line = line.split('  #')[0].strip()
                m = re.match(r'(?:\.venv/bin/)?python\S* tools/(\S+)\.py(.*)', line)
                if m:
                    found.append((doc.name, m.group(1), m.group(2)))
    return found


CMDS = commands()


def test_docs_show_the_tools():
    tools = {t for _, t, _ in CMDS}
    assert {
        'train',
        'test',
        'make_synthetic',
        'benchmark',
        'annotate',
        'merge_corrections',
        'sweep',
        'download_pages',
        'vis_cam',
        'dataset_converters/kaokore_pages',
    } <= tools


@pytest.mark.parametrize('doc, tool, args', CMDS, ids=[f'{d}:{t}' for d, t, _ in CMDS])
def test_doc_command_parses(doc, tool, args):
    module = load_tool(tool)
    try:
        module.parse_args(shlex.split(args))
    except SystemExit as e:  # argparse exits on unknown or missing arguments
        pytest.fail(f'{doc}: `tools/{tool}.py{args}` does not parse ({e})')
