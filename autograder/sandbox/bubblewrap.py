"""An extra sandbox layer where the machine allows it: bubblewrap (bwrap) namespaces.

Inside, student code sees an allowlist, read-only: the system's programs and libraries (/usr and
its links), a few files of /etc the dynamic loader and Python read, the Python running the grader
(its prefix and the venv's), and the scratch folder (the one writable place). Nothing else of the
machine exists there: not the checkout the grader runs from, its .git, examples/ or reference/,
not /root or /home, not a batch's input or another copy of the project. /tmp is private, the
network is gone (a namespace with only loopback).

The zygote (zygote.py) runs inside it, so every worker it forks does too; a grading process
starts bwrap once, not once per submission. Gradescope's Docker usually forbids the namespaces
bwrap needs; `zygote_wrapper()` tries it once and returns None there, and the other layers
(user, rlimits, seccomp) carry on alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# What the zygote keeps, as root inside, to fork workers as the sandbox user, kill them, and empty
# the private /tmp between submissions. Its workers lose them all when they switch user.
ZYGOTE_CAPABILITIES = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_FOWNER")


# The system's programs and libraries (on merged-/usr systems the others are links into /usr).
SYSTEM_TREES = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What the dynamic loader and Python read in /etc.
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/passwd",
                "/etc/group", "/etc/nsswitch.conf")
PRIVATE = ("/tmp", "/var/tmp", "/dev/shm")  # empty, writable, the sandbox's own


def zygote_wrapper(scratch: Path, hidden: list[Path], as_root: bool, tmpfs_mb: int | None = None) -> list[str] | None:
    """The command prefix that runs the zygote (and so every worker) under bwrap, if bwrap works here.

    scratch: the one folder left writable (every submission is staged below it). hidden: grader
    files to cover should one lie inside what is exposed (a package installed under /usr, say).
    as_root: the grader is root, and the zygote stays root inside (no user namespace) to fork
    workers as the sandbox user; otherwise everything runs as the grader's user in a user namespace.
    tmpfs_mb: the size of the private tmpfs mounts (/tmp, /var/tmp, /dev/shm) together, whose pages
    no rlimit counts (None: unbounded); the mounts covering grader files are made tiny and read-only.
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None
    unshare = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"] \
        if as_root else ["--unshare-all"]
    sizes = tmpfs_mb is not None and _supports_size(bwrap)
    command = [bwrap, *unshare, "--die-with-parent",
               *allowlist(Path(scratch), [Path(p) for p in hidden], tmpfs_mb // len(PRIVATE) if sizes else None)]
    if as_root:
        for capability in ZYGOTE_CAPABILITIES:
            command += ["--cap-add", capability]
    command.append("--")
    try:
        # the interpreter itself starts in there (cheap: no site, no numpy)
        probe = subprocess.run([*command, sys.executable, "-I", "-S", "-c", ""], stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return command if probe.returncode == 0 else None


def _supports_size(bwrap: str) -> bool:
    """bwrap 0.6 and later size a tmpfs (--size); older ones refuse the option."""
    try:
        shown = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--size" in shown.stdout + shown.stderr


def python_prefixes() -> list[str]:
    """Where this Python and the venv's packages live (as named, and with links resolved)."""
    prefixes = {sys.prefix, sys.base_prefix}
    return sorted(prefixes | {os.path.realpath(p) for p in prefixes})


def exposed_trees() -> list[str]:
    """The folders the allowlist shows as they are on the machine (with their own permissions).
    Any other folder on the way to them is one bwrap made, open to everyone (0755)."""
    return [t for t in SYSTEM_TREES if os.path.isdir(t) and not os.path.islink(t)] + python_prefixes()


def allowlist(scratch: Path, hidden: list[Path] = (), tmpfs_mb: int | None = None) -> list[str]:
    """bwrap arguments building a root that holds only what the zygote and its workers need; each
    private tmpfs of `tmpfs_mb` MB (None: no size given).

    A mount point's missing parents are created listable (0755): bwrap would make them 0700 and
    root's, which the sandbox user cannot cross (a venv under /tmp, a batch's nested scratch).
    """
    args: list[str] = []
    exposed: list[str] = []  # trees mounted so far
    made: set[str] = set()

    def within(path: str, trees) -> bool:
        return any(path == tree or path.startswith(tree.rstrip("/") + "/") for tree in trees)

    def parents(path: str) -> None:
        for ancestor in reversed(Path(path).parents):
            name = str(ancestor)
            if name != "/" and name not in made and not within(name, exposed):
                args.extend(["--perms", "0755", "--dir", name])
                made.add(name)

    for tree in SYSTEM_TREES:
        if os.path.islink(tree):
            args.extend(["--symlink", os.readlink(tree), tree])
        elif os.path.isdir(tree):
            args.extend(["--ro-bind", tree, tree])
            exposed.append(tree)
    for file in SYSTEM_FILES:
        if os.path.exists(file):
            parents(file)
            args.extend(["--ro-bind", file, file])
    args.extend(["--dev", "/dev", "--proc", "/proc"])
    made.update(("/dev", "/proc"))
    for folder in PRIVATE:
        parents(folder)
        args.extend([*(["--size", str(tmpfs_mb << 20)] if tmpfs_mb else []), "--tmpfs", folder])
        made.add(folder)
    # this Python and the venv's packages, wherever they live (even under /tmp)
    for prefix in python_prefixes():
        if not within(prefix, exposed) and os.path.isdir(prefix):
            parents(prefix)
            args.extend(["--ro-bind", prefix, prefix])
            exposed.append(prefix)
    parents(str(scratch))
    args.extend(["--bind", str(scratch), str(scratch)])
    exposed.append(str(scratch))
    for path in hidden:  # after the binds above, so these mounts cover them
        if not within(str(path), exposed) or within(str(path), [str(scratch)]):
            continue
        if path.is_dir():  # an empty cover, which nobody inside may fill
            args.extend([*(["--size", "65536", "--perms", "0555"] if tmpfs_mb else []), "--tmpfs", str(path)])
        elif path.exists():
            args.extend(["--ro-bind", "/dev/null", str(path)])
    args.extend(["--remount-ro", "/"])  # the root bwrap built: only the scratch and private folders stay writable
    return args
