"""The package's shape: no import cycle among its modules (lazy imports and
``TYPE_CHECKING`` imports included) and no module or class past its size
limit. Parsed from the sources, so the check sees every import statement.
"""

import ast
import pathlib
from typing import Dict, List, Set

import flowserv_fsspec


PACKAGE = pathlib.Path(flowserv_fsspec.__file__).parent
MODULE_LINES = 450
CLASS_LINES = 300


def module_name(path: pathlib.Path) -> str:
    parts = ['flowserv_fsspec', *path.relative_to(PACKAGE).with_suffix('').parts]
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def sources() -> Dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text()) for p in sorted(PACKAGE.rglob('*.py'))}


def imports_of(name: str, tree: ast.Module, modules: Set[str]) -> Set[str]:
    """The package's modules that a module imports, wherever the statement is.
    ``from flowserv_fsspec.x import y`` imports ``x.y`` when that is a module.
    """
    package = name if name in modules and name.count('.') == 0 else name.rpartition('.')[0]
    found: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                base = '.'.join(package.split('.')[: len(package.split('.')) - node.level + 1]
                                + ([base] if base else []))
            for alias in node.names:
                sub = f'{base}.{alias.name}'
                found.add(sub if sub in modules else base)
    return {dep for dep in found if dep in modules and dep != name}


def graph() -> Dict[str, Set[str]]:
    trees = sources()
    return {name: imports_of(name, tree, set(trees)) for name, tree in trees.items()}


def cycle(edges: Dict[str, Set[str]]) -> List[str]:
    """One import cycle, as the list of modules along it, or []."""
    state: Dict[str, int] = dict()  # 1: on the current path, 2: done
    path: List[str] = list()

    def visit(node: str) -> List[str]:
        state[node] = 1
        path.append(node)
        for dep in sorted(edges[node]):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return []

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def test_the_cycle_finder_finds_a_cycle():
    assert cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}, 'd': set()}) == ['a', 'b', 'c', 'a']
    assert cycle({'a': {'b'}, 'b': set(), 'c': {'a', 'b'}}) == []


def test_the_import_graph_sees_lazy_and_submodule_imports():
    edges = graph()
    assert 'flowserv_fsspec.transfer' in edges['flowserv_fsspec.volume']  # `from pkg import mod`
    assert 'flowserv_fsspec.demo' in edges['flowserv_fsspec.commands']  # imported inside a function


def test_no_import_cycle_among_the_modules():
    """The package's ``__init__`` is the facade on top: only it (and
    ``testing``'s lazy ``__init__``) may import from a package root.
    """
    edges = graph()
    roots = {'flowserv_fsspec', 'flowserv_fsspec.testing'}
    for name, deps in edges.items():
        if name not in roots:
            assert not deps & roots, f'{name} imports the package root'
    assert cycle(edges) == []


def test_modules_and_classes_stay_small():
    too_big = list()
    for path in sorted(PACKAGE.rglob('*.py')):
        text = path.read_text()
        if len(text.splitlines()) > MODULE_LINES:
            too_big.append(f'{module_name(path)}: {len(text.splitlines())} lines')
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > CLASS_LINES:
                too_big.append(f'{module_name(path)}.{node.name}: '
                               f'{node.end_lineno - node.lineno + 1} lines')
    assert too_big == []


def test_the_public_names_are_those_the_package_imports_on_use():
    import flowserv_fsspec
    assert sorted(flowserv_fsspec.__all__) == sorted([*flowserv_fsspec.EXPORTS, '__version__'])
    for name in flowserv_fsspec.EXPORTS:
        assert getattr(flowserv_fsspec, name) is not None
