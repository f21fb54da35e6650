"""The tree says what it does: thin tools over the package, each folder says what lives there."""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = sorted((ROOT / 'tools').rglob('*.py'))
PACKAGE = sorted((ROOT / 'kaokore_mm').rglob('*.py'))


def test_no_tool_imports_a_tool():
    names = {p.stem for p in TOOLS}
    offenders = []
    for p in TOOLS:
        for node in ast.walk(ast.parse(p.read_text())):
            mods = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or '']
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [f'{p.relative_to(ROOT)} imports {m}' for m in mods if m.split('.')[0] in names | {'tools'}]
    assert offenders == []


def test_no_package_module_names_or_runs_a_tool():
    offenders = [str(p.relative_to(ROOT)) for p in PACKAGE if re.search(r'(?<![\w])tools[/.](?=\w)', p.read_text())]
    assert offenders == []


def test_every_package_folder_says_what_lives_there():
    for init in (ROOT / 'kaokore_mm').rglob('__init__.py'):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc) > 40, init.relative_to(ROOT)


def test_tools_are_thin():
    """Domain logic lives in the package: no tool defines more than a few helpers."""
    for p in TOOLS:
        tree = ast.parse(p.read_text())
        defs = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
        assert len(defs) <= 6, (p.relative_to(ROOT), defs)


def test_every_tool_runs_under_the_one_error_boundary():
    """download_pages.py and the dataset converters ran main() bare: their bad inputs ended in tracebacks."""
    offenders = []
    for p in TOOLS:
        text = p.read_text()
        if "__name__ == '__main__'" in text and 'cli_main(' not in text.split("__name__ == '__main__'")[-1]:
            offenders.append(str(p.relative_to(ROOT)))
    assert offenders == []
