"""Find the file to grade in an upload, and copy the upload into a scratch folder."""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from ..sandbox.toplevel import NotebookError, too_large

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


def locate(path: Path, submission_file: str) -> Located:
    """Pick the file to grade: `submission_file` (the homework's, e.g. two_layer_net.py; the shallowest),
    else the only .py file uploaded."""
    path = Path(path)
    if path.is_file():
        return Located(path.parent, Path(path.name), single_file=True)
    if not path.is_dir():
        return Located(path, None, error=f"no submission found at {path}")
    files = uploaded_files(path)
    named = sorted((f for f in files if f.name == submission_file), key=lambda f: (len(f.parts), str(f)))
    if named:
        chosen = named[0]
        if len(named) > 1 and len(named[1].parts) == len(chosen.parts):
            return Located(path, None, error=f"several files are named {submission_file}: "
                                             f"{', '.join(map(str, named[:MAX_LISTED]))}. Upload only one.")
        note = f"Graded {chosen} (found in a subfolder)." if len(chosen.parts) > 1 else ""
        return Located(path, chosen, note=note)
    candidates = [f for f in files if f.suffix in (".py", ".ipynb")]
    if len(candidates) == 1:
        chosen = candidates[0]
        what = "the only Python file" if chosen.suffix == ".py" else "the only notebook; its code cells"
        return Located(path, chosen, note=(
            f"No file named {submission_file} was uploaded, so {chosen} ({what}) was graded instead. "
            f"Please name your file {submission_file}."))
    listing = ", ".join(map(str, files[:MAX_LISTED])) + (" ..." if len(files) > MAX_LISTED else "")
    if len(candidates) > 1:
        return Located(path, None, error=(
            f"No {submission_file} found, and several files could be it: "
            f"{', '.join(map(str, candidates[:MAX_LISTED]))}. Upload only your {submission_file} "
            f"(or a single notebook). Uploaded: {listing}."))
    return Located(path, None, error=(
        f"No {submission_file} found in your submission. Uploaded: {listing or 'nothing'}. "
        f"Please upload your completed {submission_file}."))


@dataclass(frozen=True)
class Staged:
    """The upload's copy in the scratch folder."""

    module: Path  # the file the worker runs: a .py, or a notebook
    notes: tuple[str, ...] = ()  # what was not copied, and why (said to the student)


def stage(located: Located, scratch: Path) -> Staged:
    """Copy the upload into scratch/submission; say which file the worker runs there (a .py, or a
    notebook, whose code cells the worker reads: sandbox/toplevel.py).

    A whole uploaded folder is copied (helper modules beside the file keep working); a file given
    on its own is copied alone. Nothing is followed: a link whose target lies inside the upload is
    copied as a link, a link out of it is left out (with a note), and so are devices, fifos and
    sockets. Files are copied with their permission bits only (no setuid).
    Raises NotebookError for a notebook too large to be read (checked before it is copied).
    """
    assert located.relative is not None
    target = scratch / "submission"
    source = located.root / located.relative
    if source.suffix == ".ipynb":
        problem = too_large(source)
        if problem:
            raise NotebookError(problem)
    notes: list[str] = []
    if located.single_file or len(uploaded_files(located.root)) > MAX_COPIED_FILES:
        target.mkdir(parents=True)
        staged = target / located.relative.name
        _copy_file(source.resolve() if located.single_file else source, staged)  # a file named: followed
    else:
        notes += copy_upload(located.root, target)
        staged = target / located.relative
    return Staged(staged, tuple(notes))


def _same(path: Path, other: Path) -> bool:
    try:
        return os.path.samefile(path, other)
    except OSError:
        return False


def copy_upload(root: Path, target: Path, leave_out: Path | None = None) -> list[str]:
    """Copy the folder `root` to `target` (new) without following a link; notes on what was left out.

    leave_out: a folder below `root` not to copy (a batch's output folder inside its input).

    A link is copied as a link, then kept only if, in the copy, it leads to something inside the
    copy (checked on the finished copy, so chains of links and ".." are judged as the system
    resolves them).
    """
    root, target = Path(root), Path(target)
    left_out: list[str] = []
    links: list[tuple[Path, str]] = []
    target.mkdir(parents=True)
    for folder, dirs, files in os.walk(root):  # os.walk lists links to folders but never enters them
        here = Path(folder)
        rel = here.relative_to(root)
        dirs[:] = [d for d in dirs if d not in IGNORED and not (leave_out and _same(here / d, leave_out))]
        for name in sorted(dirs + files):
            if name in IGNORED:
                continue
            source, copy = here / name, target / rel / name
            mode = source.lstat().st_mode
            if stat.S_ISLNK(mode):
                os.symlink(os.readlink(source), copy)
                links.append((copy, str(rel / name)))
            elif stat.S_ISDIR(mode):
                copy.mkdir()
            elif stat.S_ISREG(mode):
                _copy_file(source, copy)
            else:
                left_out.append(f"{rel / name} (not a regular file)")
    inside = target.resolve()
    for copy, shown in links:
        try:
            ok = copy.resolve(strict=True).is_relative_to(inside)
        except (OSError, RuntimeError):  # missing, or a loop of links
            ok = False
        if not ok:
            left_out.append(f"{shown} (a link to {os.readlink(copy)}, which is not in your upload)")
            copy.unlink()
    if not left_out:
        return []
    shown = ", ".join(sorted(left_out)[:MAX_LISTED]) + (" ..." if len(left_out) > MAX_LISTED else "")
    return [f"Not copied from your upload: {shown}."]


def _copy_file(source: Path, copy: Path) -> None:
    """Copy a regular file's bytes and its rwx bits; the copy is created anew (never through a link)."""
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as src:
        mode = os.fstat(fd).st_mode & 0o777
        with os.fdopen(os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode), "wb") as dst:
            shutil.copyfileobj(src, dst)
    os.chmod(copy, mode)  # whatever the umask
