"""An extra sandbox layer where the machine allows it: bubblewrap (bwrap) namespaces.

Inside, the whole filesystem is read-only, /tmp is private, the network is gone (a namespace with
only loopback), and the grader's own files are covered by empty mounts, so even a checkout that
other users can read (an instructor's machine) is out of reach. Writable: the scratch folder only.

The zygote (zygote.py) runs inside it, so every worker it forks does too; a grading process
starts bwrap once, not once per submission. Gradescope's Docker usually forbids the namespaces
bwrap needs; `zygote_wrapper()` tries it once and returns None there, and the other layers
(user, rlimits, seccomp) carry on alone.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

# What the zygote keeps, as root inside, to fork workers as the sandbox user, kill them, and empty
# the private /tmp between submissions. Its workers lose them all when they switch user.
ZYGOTE_CAPABILITIES = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_FOWNER")


def zygote_wrapper(scratch: Path, hidden: list[Path], as_root: bool) -> list[str] | None:
    """The command prefix that runs the zygote (and so every worker) under bwrap, if bwrap works here.

    scratch: the one folder left writable (every submission is staged below it). as_root: the
    grader is root, and the zygote stays root inside (no user namespace) to fork workers as the
    sandbox user; otherwise everything runs as the grader's user in a user namespace.
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return None
    unshare = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"] \
        if as_root else ["--unshare-all"]
    command = [bwrap, *unshare, "--die-with-parent", "--ro-bind", "/", "/", "--dev", "/dev",
               "--proc", "/proc", "--tmpfs", "/tmp", "--tmpfs", "/var/tmp", "--tmpfs", "/dev/shm"]
    for prefix in {sys.prefix, sys.base_prefix}:  # this Python, even if it lives under /tmp
        command += ["--ro-bind-try", prefix, prefix]
    for path in hidden:  # after the binds above, so these mounts cover them
        if path.is_dir():
            command += ["--tmpfs", str(path)]
        elif path.exists():
            command += ["--ro-bind", "/dev/null", str(path)]
    command += ["--bind", str(scratch), str(scratch)]
    if as_root:
        for capability in ZYGOTE_CAPABILITIES:
            command += ["--cap-add", capability]
    command.append("--")
    try:
        probe = subprocess.run([*command, "/bin/true"], stdin=subprocess.DEVNULL, capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return command if probe.returncode == 0 else None
