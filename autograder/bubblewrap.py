"""An extra sandbox layer where the machine allows it: bubblewrap (bwrap) namespaces.

Inside, the whole filesystem is read-only, /tmp is private, the network is gone (a namespace with
only loopback), and the grader's own files are covered by empty mounts, so even a checkout that
other users can read (an instructor's machine) is out of reach. Writable: the scratch folder only.

Gradescope's Docker usually forbids the namespaces bwrap needs; `wrapper()` tries it once and
returns None there, and the other layers (user, rlimits, seccomp) carry on alone.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .isolation import SandboxUser


def wrapper(scratch: Path, hidden: list[Path], user: SandboxUser | None) -> list[str] | None:
    """The command prefix that runs a program under bwrap, if bwrap works here; else None."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None
    command = [bwrap, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev",
               "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/dev/shm"]
    for prefix in {sys.prefix, sys.base_prefix}:  # this Python, even if it lives under /tmp
        command += ["--ro-bind-try", prefix, prefix]
    for path in hidden:  # after the binds above, so these mounts cover them
        if path.is_dir():
            command += ["--tmpfs", str(path)]
        elif path.exists():
            command += ["--ro-bind", "/dev/null", str(path)]
    command += ["--bind", str(scratch), str(scratch), "--"]
    as_user = {"user": user.uid, "group": user.gid, "extra_groups": []} if user else {}
    try:
        probe = subprocess.run([*command, "/bin/true"], stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=10, **as_user)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return command if probe.returncode == 0 else None
