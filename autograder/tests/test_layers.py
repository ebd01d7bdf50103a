"""The layers import downwards only: every import in the package (at the top of a module, inside a
function, or for typing alone) names a module of its own layer or one below it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]

# bottom to top (the README's layer map); a module's layer is its first match
LAYERS = (
    ("plain data and pure functions", ("autograder", "autograder.escape", "autograder.config", "autograder.core")),
    ("the sandbox", ("autograder.sandbox",)),
    ("grading", ("autograder.grading",)),
    ("diagnosis, behind core.explain's interface", ("autograder.diagnosis",)),
    ("instructor tools", ("autograder.instructor",)),
    ("the command line", ("autograder.cli", "autograder.__main__")),
    # above everything: the engine reaches a homework only by its name, through core.homework's interface
    ("the homeworks, one package each, loaded by name", ("autograder.homeworks",)),
)


def layer_of(module: str) -> int:
    found = [i for i, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes
             if module == prefix or (prefix != "autograder" and module.startswith(prefix + "."))]
    assert found, f"{module} is in no layer: add it to LAYERS (and the README's layout)"
    return max(found)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, name: str) -> list[str]:
    """Every project module `path` (the module `name`) imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append(target)
        elif isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
    return [target for target in found if target == "autograder" or target.startswith("autograder.")]


def modules():
    return [p for p in sorted(PACKAGE.rglob("*.py")) if "tests" not in p.relative_to(PACKAGE).parts]


def upward_imports(path: Path, name: str) -> list[str]:
    return [f"{name} ({LAYERS[layer_of(name)][0]}) imports {target} ({LAYERS[layer_of(target)][0]})"
            for target in imports_of(path, name) if layer_of(target) > layer_of(name)]


def test_no_module_imports_a_layer_above_its_own():
    upward = [line for path in modules() for line in upward_imports(path, module_name(path))]
    assert not upward, "\n".join(upward)


def test_the_check_sees_an_upward_import_anywhere(tmp_path):
    """(the check itself: lazy, typing-only and relative imports of a layer above are all seen)"""
    path = tmp_path / "calls.py"
    path.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..instructor import batch\n"
                    "def f():\n    from ..grading.grade import Grader\n    import autograder.cli\n")
    assert len(upward_imports(path, "autograder.sandbox.calls")) == 3
    assert upward_imports(path, "autograder.cli") == []


def test_every_module_is_in_a_layer():
    for path in modules():
        layer_of(module_name(path))


def test_the_engine_reaches_a_homework_only_through_the_interface():
    """core.homework loads the package grading.toml names; no other module of the engine names one."""
    from autograder.core.homework import HOMEWORKS, homework_named

    for name, package in HOMEWORKS.items():
        homework = homework_named(name)
        assert homework.name == name and package.startswith("autograder.homeworks.")
        assert set(homework.default_points) == set(homework.part_ids)
    engine = [p for p in modules() if "homeworks" not in p.relative_to(PACKAGE).parts]
    assert not [(module_name(p), t) for p in engine for t in imports_of(p, module_name(p))
                if t.startswith("autograder.homeworks")]
