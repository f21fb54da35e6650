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


# the package's rooms, bottom first: a module imports only from its own room and the rooms below
# (mmdet's order: the loops and test-time wrappers below the APIs, the APIs below the tools)
ROOMS = (
    'errors',
    'core',
    'utils',
    'synthetic',
    'compat',
    'converters',
    'visualization',
    'datasets',
    'models',
    'evaluation',
    'inference',
    'engine',
    'interpretation',
    'annotation',
    'review',
    'apis',
    'benchmarks',
)


def package_imports(path: Path):
    """``(line, imported module, inside a function)`` of each import of the package's own modules."""
    rel = path.relative_to(ROOT).with_suffix('')
    parts = list(rel.parts) if path.name != '__init__.py' else list(rel.parts[:-1]) + ['__init__']
    tree = ast.parse(path.read_text())
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inside |= {id(n) for n in ast.walk(node) if n is not node}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level]
                names = [('.'.join(base + [node.module]) if node.module else '.'.join(base))]
                if not node.module:
                    names = ['.'.join(base + [a.name]) for a in node.names]
            else:
                names = [node.module or '']
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name.startswith('kaokore_mm.') or name == 'kaokore_mm':
                yield node.lineno, name, id(node) in inside


def room_of(module_parts) -> str:
    return module_parts[1] if len(module_parts) > 2 else module_parts[1].removesuffix('.py')


def test_rooms_are_declared_once_and_every_module_lives_in_one():
    rooms = {p.relative_to(ROOT / 'kaokore_mm').parts[0].removesuffix('.py') for p in PACKAGE}
    assert rooms - {'__init__'} == set(ROOMS)


def test_no_module_imports_from_a_room_above_its_own():
    """Before: the loops imported the predictor from ``apis``, the CLI helpers a dataset's error,
    the preflight the converters' schemas (loops hidden by imports inside functions)."""
    offenders = []
    for p in PACKAGE:
        here = room_of(p.relative_to(ROOT).parts)
        if here == '__init__':
            continue
        for line, name, _ in package_imports(p):
            there = name.split('.')[1] if '.' in name else '__init__'
            if there == '__init__' or ROOMS.index(there) > ROOMS.index(here):
                offenders.append(f'{p.relative_to(ROOT)}:{line} ({here}) imports {name}')
    assert offenders == []


def test_the_package_imports_its_own_modules_at_the_top():
    """Imports inside functions hid upward arrows (87 of them); one that must stay lazy says why."""
    offenders = []
    for p in PACKAGE:
        lines = p.read_text().splitlines()
        for line, name, inside in package_imports(p):
            if inside and '# lazy: ' not in lines[line - 1]:
                offenders.append(f'{p.relative_to(ROOT)}:{line} imports {name} inside a function')
    assert offenders == []
