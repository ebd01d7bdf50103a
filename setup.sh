#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04, Python 3.10).
# It makes a virtual environment at $AUTOGRADER_ROOT/venv with the pinned runtime dependencies
# (no torch), leaving the system python3 that Gradescope's harness needs untouched.
# AUTOGRADER_ROOT (default /autograder) lets you rehearse it in a temporary folder.
set -euo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
PYTHON="${AUTOGRADER_SETUP_PYTHON:-python3}"

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))'; then
    echo "setup.sh: $PYTHON is $("$PYTHON" --version 2>&1); Python 3.10 or newer is needed" >&2
    exit 1
fi
# Ubuntu's python3 ships without venv/ensurepip; install them only if missing (and only as root).
if ! "$PYTHON" -c 'import ensurepip, venv' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv python3-pip
    else
        echo "setup.sh: $PYTHON has no venv module; install python3-venv" >&2
        exit 1
    fi
fi
# The grader's files (the reference, the config's secret) are closed to other users from the start.
if [ "$(id -u)" = 0 ]; then chmod 700 "$SOURCE"; fi
"$PYTHON" -m venv "$ROOT/venv"
"$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$SOURCE/requirements.txt"
"$ROOT/venv/bin/python" -I -c 'import numpy, gradescope_utils, yaml; print("setup.sh: numpy", numpy.__version__)'
# The packages student code may import beyond the grader's own (the homework's, e.g. nyu-hw1's torch, and
# grading.toml's [runtime]), pinned in requirements-student.txt (none: the file stays empty, and
# nothing is installed or said).
"$ROOT/venv/bin/python" -I -c 'import sys; sys.path.insert(0, sys.argv[1]); from autograder.config import load_config, student_package_pins; pins = student_package_pins(); lines = [line for name in load_config().student_packages if name in pins for line in pins[name]]; lines and print("\n".join(lines))' "$SOURCE" > "$ROOT/student-packages.txt"
if [ -s "$ROOT/student-packages.txt" ]; then
    "$ROOT/venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$ROOT/student-packages.txt"
    echo "setup.sh: student code may also import: $(grep -o '^[A-Za-z0-9_.-]*' "$ROOT/student-packages.txt" | sort -u | tr '\n' ' ')"
fi

# The unprivileged user student code runs as (name from grading.toml's [sandbox] user), and the
# grader's own files closed to it. The venv stays readable: the worker runs its python.
if [ "$(id -u)" = 0 ]; then
    user=$("$ROOT/venv/bin/python" -I -c 'import sys; sys.path.insert(0, sys.argv[1]); from autograder.config import load_config; print(load_config().sandbox_user)' "$SOURCE")
    id -u "$user" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group "$user"
    chmod 700 "$SOURCE"
    chmod -R o+rX "$ROOT/venv"
    # Student code runs this venv's python as that user: say so loudly if it cannot (a Python under a
    # closed home folder, a root other users cannot reach). The grader would then run it as root
    # unless bubblewrap works at run time (its allowlist shows the interpreter to the sandbox user).
    blocked=$("$ROOT/venv/bin/python" -I -c 'import sys; sys.path.insert(0, sys.argv[1]); from autograder.sandbox.isolation import unreadable_runtime_path; print(unreadable_runtime_path() or "")' "$SOURCE")
    if [ -n "$blocked" ]; then
        echo "setup.sh: WARNING: the sandbox user $user cannot run $ROOT/venv/bin/python: $blocked is closed to other users." >&2
        echo "setup.sh: without bubblewrap, student code would then run as ROOT. Make $ROOT and every folder above it" >&2
        echo "setup.sh: readable by others (chmod 755), and build the venv from a Python they can run, e.g." >&2
        echo "setup.sh:     AUTOGRADER_SETUP_PYTHON=/usr/bin/python3 AUTOGRADER_ROOT=$ROOT bash $SOURCE/setup.sh" >&2
    fi
    # An optional extra layer: used at run time only if the container allows its namespaces.
    command -v bwrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap >/dev/null 2>&1 \
        || echo "setup.sh: bubblewrap not installed (optional)"
fi
