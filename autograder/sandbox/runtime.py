"""What student code may import: Python's standard library, its own files, and the course's runtime
packages ([runtime] in grading.toml, with numpy) together with what they require.

Gradescope's image holds only those packages, so an import of anything else fails there; the grader's
own machine usually holds more (torch, pytest, matplotlib in a development venv, whatever a student
has installed). A guard installed in the worker before the submission is imported refuses every
other top-level module with the error Python gives where it is not installed, so a file gets the
same verdict from every driver on every machine (`grade`, `batch`, the pytest plugin, run_autograder
and the handout's selfcheck.py, which holds a copy of this file).

Standard library only, and nothing of the project: the worker loads it by file path.
"""

import importlib.machinery
import importlib.metadata
import os
import re
import sys
import sysconfig


# --- shared with the students' selfcheck.py (handout.py copies it in): stdlib only ---
def _normal(name):
    """A distribution's name as the packaging standards compare it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(name):
    """The distributions `name` requires unconditionally (extras left out), by normalised name."""
    try:
        requires = importlib.metadata.requires(name) or []
    except importlib.metadata.PackageNotFoundError:
        return []
    found = []
    for requirement in requires:
        marker = requirement.partition(";")[2]
        if "extra" in marker:  # (an optional feature, installed only on request)
            continue
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        if match:
            found.append(_normal(match.group(1)))
    return found


def _top_level_modules(name):
    """The top-level modules an installed distribution provides (none if it is not installed)."""
    try:
        distribution = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return set()
    listed = distribution.read_text("top_level.txt")
    if listed:
        return {line.strip() for line in listed.splitlines() if line.strip()}
    modules = set()
    for file in distribution.files or ():
        first = file.parts[0]
        if len(file.parts) == 1 and first.endswith((".py", ".so", ".pyd")):
            modules.add(first.split(".")[0])
        elif len(file.parts) > 1 and not first.endswith((".dist-info", ".egg-info", ".data")) \
                and first not in ("..", "__pycache__"):
            modules.add(first)
    return modules


def importable_modules(packages):
    """The top-level module names of the distributions `packages` names and of every distribution they
    require, as installed here (sorted). A package that is not installed adds its own name only, so its
    import fails as not installed."""
    seen, todo = set(), [_normal(p) for p in packages]
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += _requirements(name)
    modules = set(packages)
    for name in seen:
        modules |= _top_level_modules(name)
    return sorted(modules)


def not_installed(packages):
    """Of the distributions `packages` names, those not installed here, in order."""
    missing = []
    for name in packages:
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    return missing


class RuntimeGuard:
    """A meta path finder, first on sys.meta_path: a top-level import of a module that is neither in
    the standard library, nor `allowed`, nor a file in `own_folder` (the submission's) fails with
    ModuleNotFoundError, as it does where the module is not installed. Submodules follow their
    package; what is already imported is not looked up again. A rule of fairness, not a wall: code
    that takes the guard off can import what the machine has, where it has it (student code never
    sees more than the sandbox shows it).

    allowed: top-level module names (importable_modules); own_folder: the submission's folder.
    """

    def __init__(self, allowed, own_folder):
        standard = getattr(sys, "stdlib_module_names", ())  # (Python 3.10+; install_guard checks)
        self.allowed = frozenset(allowed) | frozenset(standard) | frozenset(sys.builtin_module_names)
        self.own_folder = own_folder
        library = {sysconfig.get_path("stdlib"), sysconfig.get_path("platstdlib")}
        self.standard_folders = sorted(library | {os.path.join(folder, "lib-dynload") for folder in library})

    def find_spec(self, name, path=None, target=None):
        if path is not None or "." in name or name in self.allowed:
            return None
        if importlib.machinery.PathFinder.find_spec(name, self.standard_folders) is not None:
            return None  # the standard library's own, unlisted (_sysconfigdata_* of the platform, say)
        own = importlib.machinery.PathFinder.find_spec(name, [self.own_folder])
        if own is not None and (own.origin is not None or self._only_here(name)):
            return None  # the student's own module: the next finders import it
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    def _only_here(self, name):
        """Whether a folder without __init__.py in the student's folder is all there is of `name`: a
        package installed elsewhere would be imported instead of it (a regular package wins)."""
        elsewhere = importlib.machinery.PathFinder.find_spec(name, [p for p in sys.path if p != self.own_folder])
        return elsewhere is None or elsewhere.origin is None

    def invalidate_caches(self):
        pass


def install_guard(allowed, own_folder):
    """Refuse, from now on in this process, imports outside the runtime (see RuntimeGuard). Python
    3.9 does not list its standard library: there the guard is not installed (False)."""
    if not hasattr(sys, "stdlib_module_names"):
        return False
    sys.meta_path.insert(0, RuntimeGuard(allowed, own_folder))
    return True
# --- end of the part shared with selfcheck.py ---
