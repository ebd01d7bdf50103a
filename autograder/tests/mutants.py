"""Single-change mutants of a correct solution, made with `ast`: the mistakes students make, by family.

Families: an arithmetic operator swapped, a comparison changed, a number changed, a transpose
added or removed, the factors of an outer product swapped, a name replaced by another of the same
function, returned dict values swapped, a returned value negated, np.sum / np.mean swapped.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator

OPERATORS = {ast.Add: [ast.Sub, ast.Mult], ast.Sub: [ast.Add, ast.Mult], ast.Mult: [ast.Div, ast.Add],
             ast.Div: [ast.Mult], ast.MatMult: [ast.Mult], ast.Pow: [ast.Mult]}
COMPARISONS = {ast.Gt: [ast.GtE, ast.Lt, ast.LtE, ast.NotEq], ast.GtE: [ast.Gt], ast.Lt: [ast.LtE, ast.Gt]}
FUNCTIONS = {"sum": ["mean"], "mean": ["sum"], "outer": ["dot"], "maximum": ["minimum"], "eye": ["ones"],
             "diag": ["array"]}


def mutants(source: str) -> Iterator[tuple[str, str]]:
    """(what changed, the mutant's source) for every single change, each source once."""
    tree = ast.parse(source)
    seen = {ast.unparse(tree)}
    count = sum(1 for _ in ast.walk(tree))
    for index in range(count):
        for variant in range(8):
            changed = copy.deepcopy(tree)
            node = list(ast.walk(changed))[index]
            label = _mutate(node, variant, changed)
            if label is None:
                continue
            text = ast.unparse(ast.fix_missing_locations(changed))
            if text not in seen:
                seen.add(text)
                yield label, text


def _function_of(tree: ast.Module, target: ast.AST) -> ast.FunctionDef | None:
    for f in tree.body:
        if isinstance(f, ast.FunctionDef) and any(n is target for n in ast.walk(f)):
            return f
    return None


def _returned(tree: ast.Module, target: ast.Name) -> bool:
    """Is `target` an array in a returned expression (not a function called, not np)?"""
    for ret in (n for n in ast.walk(tree) if isinstance(n, ast.Return) and n.value is not None):
        if any(n is target for n in ast.walk(ret.value)):
            called = {id(c.func) for c in ast.walk(ret.value) if isinstance(c, ast.Call)}
            return id(target) not in called and target.id not in ("np", "float", "len")
    return False


def _local_names(f: ast.FunctionDef) -> list[str]:
    names = [a.arg for a in f.args.args]
    names += [t.id for n in ast.walk(f) if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)]
    return list(dict.fromkeys(names))


def _mutate(node: ast.AST, variant: int, tree: ast.Module) -> str | None:  # noqa: C901 - one case per family
    """Change `node` in place the `variant`-th way it can be changed; a label, or None if there is none."""
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        options = OPERATORS[type(node.op)]
        if variant < len(options):
            old, node.op = type(node.op).__name__, options[variant]()
            return f"operator {old} -> {type(node.op).__name__}"
        return None
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in COMPARISONS:
        options = COMPARISONS[type(node.ops[0])]
        if variant < len(options):
            old, node.ops = type(node.ops[0]).__name__, [options[variant]()]
            return f"comparison {old} -> {type(node.ops[0]).__name__}"
        return None
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        value = node.value
        options = [value + 1, value * 2, value / 2 if value else -1, -value if value else 0.5]
        if variant < len(options) and options[variant] != node.value:
            old, node.value = node.value, options[variant]
            return f"constant {old} -> {node.value}"
        return None
    if isinstance(node, ast.Attribute) and node.attr == "T" and variant == 0:
        node.attr = "copy()"  # (unparsed as value.copy(): the transpose removed)
        return "transpose removed"
    if isinstance(node, ast.Attribute) and node.attr in FUNCTIONS and variant < len(FUNCTIONS[node.attr]):
        old, node.attr = node.attr, FUNCTIONS[node.attr][variant]
        return f"np.{old} -> np.{node.attr}"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "outer" \
            and variant == 1 and len(node.args) == 2:
        node.args.reverse()
        return "outer product's factors swapped"
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and _returned(tree, node):
        f = _function_of(tree, node)  # a returned value replaced by another array of the same function
        others = [n for n in _local_names(f) if n not in (node.id, "cache")] if f else []
        if variant < len(others):
            old, node.id = node.id, others[variant]
            return f"name {old} -> {node.id}"
        if variant == len(others):
            node.id = f"{node.id}.T"
            return f"transpose added to {node.id}"
        return None
    if isinstance(node, ast.Dict) and len(node.values) >= 2:
        pairs = [(a, b) for a in range(len(node.values)) for b in range(a + 1, len(node.values))]
        if variant < len(pairs):
            a, b = pairs[variant]
            node.values[a], node.values[b] = node.values[b], node.values[a]
            return f"returned values {ast.unparse(node.keys[a])} and {ast.unparse(node.keys[b])} swapped"
        return None
    if isinstance(node, ast.Return) and node.value is not None and not isinstance(node.value, ast.Dict) \
            and variant == 0:
        node.value = ast.UnaryOp(ast.USub(), node.value)
        return "returned value negated"
    return None
