"""Find the file to grade in an upload, and copy the upload into a scratch folder."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from .notebook import code_cells, module_source
from .parts import SUBMISSION_FILE

IGNORED = {"__MACOSX", "__pycache__", ".DS_Store", ".git", ".ipynb_checkpoints"}
MAX_LISTED = 30
MAX_COPIED_FILES = 1000


@dataclass(frozen=True)
class Located:
    """The file to grade (path relative to root), or why there is none."""

    root: Path  # the upload's folder
    relative: Path | None  # the graded file inside root
    note: str = ""  # said to the student, e.g. which file was graded instead
    error: str = ""  # set when relative is None: what was uploaded, and what is needed
    single_file: bool = False  # a file was given, not a folder: grade it alone


def uploaded_files(root: Path) -> list[Path]:
    """Every regular file of an upload, relative to it, without macOS or editor debris."""
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part in IGNORED or part.startswith(".") for part in rel.parts):
            continue
        if path.is_file() and not path.is_symlink():
            out.append(rel)
    return out


def locate(path: Path) -> Located:
    """Pick the file to grade: two_layer_net.py (shallowest), else the only .py file uploaded."""
    path = Path(path)
    if path.is_file():
        return Located(path.parent, Path(path.name), single_file=True)
    if not path.is_dir():
        return Located(path, None, error=f"no submission found at {path}")
    files = uploaded_files(path)
    named = sorted((f for f in files if f.name == SUBMISSION_FILE), key=lambda f: (len(f.parts), str(f)))
    if named:
        chosen = named[0]
        if len(named) > 1 and len(named[1].parts) == len(chosen.parts):
            return Located(path, None, error=f"several files are named {SUBMISSION_FILE}: "
                                             f"{', '.join(map(str, named[:MAX_LISTED]))}. Upload only one.")
        note = f"Graded {chosen} (found in a subfolder)." if len(chosen.parts) > 1 else ""
        return Located(path, chosen, note=note)
    candidates = [f for f in files if f.suffix in (".py", ".ipynb")]
    if len(candidates) == 1:
        chosen = candidates[0]
        what = "the only Python file" if chosen.suffix == ".py" else "the only notebook; its code cells"
        return Located(path, chosen, note=(
            f"No file named {SUBMISSION_FILE} was uploaded, so {chosen} ({what}) was graded instead. "
            f"Please name your file {SUBMISSION_FILE}."))
    listing = ", ".join(map(str, files[:MAX_LISTED])) + (" ..." if len(files) > MAX_LISTED else "")
    if len(candidates) > 1:
        return Located(path, None, error=(
            f"No {SUBMISSION_FILE} found, and several files could be it: "
            f"{', '.join(map(str, candidates[:MAX_LISTED]))}. Upload only your {SUBMISSION_FILE} "
            f"(or a single notebook). Uploaded: {listing}."))
    return Located(path, None, error=(
        f"No {SUBMISSION_FILE} found in your submission. Uploaded: {listing or 'nothing'}. "
        f"Please upload your completed {SUBMISSION_FILE}."))


def stage(located: Located, scratch: Path, import_seconds: float = 10.0) -> Path:
    """Copy the upload into scratch/submission and return the path of the module to import there.

    A whole uploaded folder is copied (helper modules beside the file keep working; symlinks are
    copied as links, never followed); a file given on its own is copied alone. A notebook becomes
    a module beside it that runs its code cells (notebook.py), within `import_seconds` in all.
    Raises NotebookError for a notebook that cannot be read.
    """
    assert located.relative is not None
    target = scratch / "submission"
    source = located.root / located.relative
    if located.single_file or len(uploaded_files(located.root)) > MAX_COPIED_FILES:
        target.mkdir(parents=True)
        shutil.copyfile(source, target / located.relative.name)
        staged = target / located.relative.name
    else:
        shutil.copytree(located.root, target, symlinks=True, ignore=shutil.ignore_patterns(*IGNORED))
        staged = target / located.relative
    if staged.suffix != ".ipynb":
        return staged
    cells = code_cells(staged)
    module = staged.with_name(SUBMISSION_FILE)
    cell_seconds = max(0.2, 0.7 * import_seconds / max(1, len(cells)))  # the whole import stays in time
    module.write_text(module_source(cells, staged.name, round(cell_seconds, 2)), encoding="utf-8")
    return module
