"""What the import-linter contracts cannot see, checked over the syntax trees of every module.

Every package is read, the tests and the benches included: no Kafka client is constructed
outside the one factory (``gateway/transport/clients.py``), no topic name is spelt outside
``gateway/core/topics.py``, no module but the command line's own (and its tests) imports the
command line, and no two modules import each other, however indirectly, function-level
imports included.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pytest

ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").exists())
FOLDERS = ("gateway", "schemas", "connectors", "tests")
FACTORY = "gateway/transport/clients.py"
TOPICS = "gateway/core/topics.py"
CLIENT_CLASSES = frozenset({"AIOKafkaProducer", "AIOKafkaConsumer", "AIOKafkaAdminClient"})
#: the modules whose ``App`` is a faust app
APP_MODULES = ("faust", "gateway.transport.faust_transport")
# A topic name: "a6." and dotted words ("a6.in.JPN01", "a6.audit.log"), or a prefix of one
# ("a6.in."); an f-string is read with each placeholder as a word ("a6.in.{registry}").
TOPIC_NAME = re.compile(r"a6\.[a-z]+(\.[A-Za-z0-9-]+)*\.?")
PLACEHOLDER = "X"


@dataclass
class Module:
    name: str  # dotted: gateway.core.topics, tests.unit.test_layers
    path: str  # relative to the repository, with /
    tree: ast.Module
    imports: set[str] = field(default_factory=set)  # modules of the repository it imports


def _name_of(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Module]:
    """Every module of the repository's packages, with the repository modules it imports."""
    found = {}
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_bytes(), filename=str(path))
            rel = path.relative_to(ROOT).as_posix()
            found[_name_of(path)] = Module(_name_of(path), rel, tree)
    for module in found.values():
        module.imports = {
            target
            for imported in _imported_names(module)
            if (target := _resolve(imported, module, found)) and target != module.name
        }
    return found


def _imported_names(module: Module) -> Iterator[str]:
    """Every dotted name an import statement anywhere in the module names (functions too)."""
    package = module.name if module.path.endswith("__init__.py") else module.name.rpartition(".")[0]
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def _resolve(name: str, importer: Module, found: dict[str, Module]) -> str | None:
    """The repository module ``name`` is, or is in; a bare name in a test folder is a
    sibling module of the importer (pytest puts test folders on the path)."""
    folder = importer.name.rpartition(".")[0]
    while name:
        for candidate in (name, f"{folder}.{name}" if importer.path.startswith("tests/") else ""):
            if candidate in found:
                return candidate
        name = name.rpartition(".")[0]
    return None


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


# -- finders ------------------------------------------------------------------------------


def kafka_clients(module: Module) -> list[str]:
    """Where the module constructs a Kafka client: ``AIOKafka*(...)``, ``faust.App(...)``,
    ``App(...)`` of ``from faust import App`` or of the gateway's faust glue (its ``App`` is
    faust's), or any call given ``bootstrap_servers=``."""
    faust_apps = {
        alias.asname or alias.name
        for node in ast.walk(module.tree)
        if isinstance(node, ast.ImportFrom) and node.module in APP_MODULES
        for alias in node.names
        if alias.name == "App"
    }
    found: list[str] = []
    for node in ast.walk(module.tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        what = []
        if name in CLIENT_CLASSES:
            what.append(name)
        if (
            isinstance(func, ast.Attribute)
            and name == "App"
            and ast.unparse(func.value) in ("faust", "faust_transport", *APP_MODULES)
        ):
            what.append("faust.App")
        if isinstance(func, ast.Name) and name in faust_apps:
            what.append("faust.App")
        if any(k.arg == "bootstrap_servers" for k in node.keywords):
            what.append("bootstrap_servers=")
        found.extend(f"{module.path}:{node.lineno}: {w}" for w in what)
    return found


def topic_literals(module: Module) -> list[str]:
    """Where the module spells a topic name: a string literal, or an f-string building one
    (docstrings are prose, and exempt)."""
    docstrings = _docstrings(module.tree)
    in_fstrings = {
        id(part)
        for node in ast.walk(module.tree)
        if isinstance(node, ast.JoinedStr)
        for part in node.values
    }
    found = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                str(p.value) if isinstance(p, ast.Constant) else PLACEHOLDER for p in node.values
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) in docstrings or id(node) in in_fstrings:
                continue
            text = node.value
        else:
            continue
        if TOPIC_NAME.fullmatch(text):
            found.append(f"{module.path}:{node.lineno}: {ast.unparse(node)}")
    return found


def _is_cli_test(module: Module) -> bool:
    """A test of the command line by its place: named for it, or in a ``cli`` folder."""
    parts = module.path.split("/")
    return module.path.startswith("tests/") and ("cli" in parts[-1] or "cli" in parts[:-1])


def _is_cli(name: str) -> bool:
    return name == "gateway.cli" or name.startswith("gateway.cli.")


def _entry_point(name: str) -> bool:
    """What runs or builds commands: ``main``, ``build_parser``, a group's ``add_*`` parser."""
    return name in ("main", "build_parser") or name.startswith("add_")


def cli_imports(module: Module) -> list[str]:
    """The command-line modules the module imports, unless it is allowed to: the command
    line itself, ``gateway/__main__.py``, tests of the command line, and any test taking
    only the command line's entry points (it runs commands)."""
    if _is_cli(module.name) or module.name == "gateway.__main__" or _is_cli_test(module):
        return []
    a_test = module.path.startswith("tests/")
    found = set()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if _is_cli(alias.name)}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if _is_cli(full) and not (a_test and _entry_point(alias.name)):
                    found.add(node.module if _is_cli(node.module) else full)
    return sorted(f"{module.path}: {target}" for target in found)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return sorted(found)


def _in(folders: tuple[str, ...]) -> list[Module]:
    return [m for m in modules().values() if m.path.split("/")[0] in folders]


# -- the checks ---------------------------------------------------------------------------

PACKAGES = ("gateway", "schemas", "connectors")


@pytest.mark.parametrize("folder", [*PACKAGES, "tests"])
def test_no_kafka_client_is_constructed_outside_the_factory(folder: str) -> None:
    found = [hit for m in _in((folder,)) if m.path != FACTORY for hit in kafka_clients(m)]
    assert found == []


def test_the_factory_constructs_every_kind_the_check_looks_for() -> None:
    found = {
        hit.rpartition(": ")[2] for hit in kafka_clients(modules()["gateway.transport.clients"])
    }
    assert found == {*CLIENT_CLASSES, "faust.App", "bootstrap_servers="}


@pytest.mark.parametrize("folder", [*PACKAGES, "tests"])
def test_no_topic_name_is_spelt_outside_the_topics_module(folder: str) -> None:
    found = [hit for m in _in((folder,)) if m.path != TOPICS for hit in topic_literals(m)]
    assert found == []


def test_the_topics_module_spells_the_names_the_check_looks_for() -> None:
    found = topic_literals(modules()["gateway.core.topics"])
    assert any(hit.endswith(": 'a6.audit.log'") for hit in found)
    assert any(hit.endswith(": 'a6.in.'") for hit in found)


@pytest.mark.parametrize(
    "folder",
    [
        "gateway",
        "schemas",
        "connectors",
        "tests",
    ],
)
def test_no_module_imports_the_command_line(folder: str) -> None:
    found = [hit for m in _in((folder,)) for hit in cli_imports(m)]
    assert found == []


def test_the_command_line_check_tells_entry_points_from_use_cases() -> None:
    source = "from gateway.cli.main import main\nfrom gateway.cli.summary import results\n"
    test = Module("tests.unit.test_x", "tests/unit/test_x.py", ast.parse(source))
    assert cli_imports(test) == ["tests/unit/test_x.py: gateway.cli.summary"]
    api = Module("gateway.api.x", "gateway/api/x.py", ast.parse(source))
    assert cli_imports(api) == [
        "gateway/api/x.py: gateway.cli.main",
        "gateway/api/x.py: gateway.cli.summary",
    ]
    cli_test = Module("tests.unit.test_cli_x", "tests/unit/test_cli_x.py", ast.parse(source))
    assert cli_imports(cli_test) == []


def test_no_import_cycle_between_modules() -> None:
    graph = {m.name: m.imports for m in modules().values()}
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_function_level_cycle() -> None:
    tree = ast.parse("def f():\n    from pkg import b\n")
    a = Module("pkg.a", "pkg/a.py", tree)
    b = Module("pkg.b", "pkg/b.py", ast.parse("import pkg.a\n"))
    c = Module("pkg.c", "pkg/c.py", ast.parse("import pkg.a\n"))
    found = {m.name: m for m in (a, b, c)}
    graph = {
        m.name: {t for n in _imported_names(m) if (t := _resolve(n, m, found)) and t != m.name}
        for m in found.values()
    }
    assert cycles(graph) == [["pkg.a", "pkg.b"]]


def test_the_finders_see_what_they_look_for() -> None:
    source = (
        "from faust import App as FaustApp\n"
        "import aiokafka\n"
        "def f(reg):\n"
        "    aiokafka.AIOKafkaProducer(x=1)\n"
        "    FaustApp('id')\n"
        "    g(bootstrap_servers='b:1')\n"
        "    return 'a6.ledger', f'a6.in.{reg}', 'a6.in.', 'a6.in.JPN01 is late', 'a6.'\n"
    )
    module = Module("pkg.m", "pkg/m.py", ast.parse(source))
    assert sorted(h.rpartition(": ")[2] for h in kafka_clients(module)) == [
        "AIOKafkaProducer",
        "bootstrap_servers=",
        "faust.App",
    ]
    assert sorted(h.rpartition(": ")[2] for h in topic_literals(module)) == [
        "'a6.in.'",
        "'a6.ledger'",
        "f'a6.in.{reg}'",
    ]
