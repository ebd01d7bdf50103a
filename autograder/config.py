"""Load and validate the instructor's grading configuration (grading.toml).

Every value has a default; a bad value stops the grader with a ConfigError naming the key.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .core.homework import DEFAULT_HOMEWORK, HOMEWORKS, Homework, SubsetOf, homework_named

if sys.version_info >= (3, 11):
    import tomllib
else:  # Gradescope's Ubuntu 22.04 runs Python 3.10
    import tomli as tomllib

DEFAULT_CONFIG_PATH = Path(__file__).absolute().parent.parent / "grading.toml"  # beside the package, as installed
STUDENT_REQUIREMENTS = DEFAULT_CONFIG_PATH.with_name("requirements-student.txt")
VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
# The secret published with the project: with it anyone can compute every hidden case (build-zip refuses it).
PLACEHOLDER_SECRET = "change-me-each-term"


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or holds a bad value."""


@dataclass(frozen=True)
class Tolerance:
    """|r - e| <= rtol * |e| + atol * max(|e|), elementwise (see compare.py)."""

    rtol: float = 1e-4
    atol: float = 1e-4


@dataclass(frozen=True)
class Limits:
    """call_timeout and import_timeout are seconds of the worker's CPU time, so a busy machine gives
    the same verdicts as an idle one; code that waits instead (sleep, a lock, a child process) is
    stopped after wall_clock_factor times as many seconds of wall-clock time. total_timeout is
    wall-clock time for the whole submission."""

    call_timeout: float = 2.0
    import_timeout: float = 10.0
    wall_clock_factor: float = 5.0
    total_timeout: float = 300.0
    timeouts_before_skip: int = 2
    memory_mb: int = 512
    max_processes: int = 64
    max_result_mb: float = 8.0
    max_output_chars: int = 2000


@dataclass(frozen=True)
class PartConfig:
    points: float
    tolerance: Tolerance


@dataclass(frozen=True)
class SubmissionPolicy:
    """[submissions]: how many submissions count in a window, and who is exempt (off by default)."""

    limit: int = 0  # submissions that count per window; 0: no limit
    window_hours: float | None = None  # None: the whole assignment is one window
    exempt: tuple[str, ...] = ()  # staff: emails or student ids, lower-cased
    # the first this many submissions of a window show the visible cases in full (inputs, expected and
    # received values); later ones which cases pass and fail only. 0: every one in full
    details_for: int = 0

    @property
    def active(self) -> bool:
        return self.limit > 0


@dataclass(frozen=True)
class Config:
    parts: dict[str, PartConfig]
    homework: Homework = field(default_factory=lambda: homework_named(DEFAULT_HOMEWORK))  # [assignment] homework
    limits: Limits = field(default_factory=Limits)
    hidden_share: float = 0.5
    hidden_cases: int = 4
    visible_cases_visibility: str = "visible"
    hidden_cases_visibility: str = "after_due_date"
    secret: str = PLACEHOLDER_SECRET
    sandbox_user: str = "ag-student"
    bubblewrap: str = "auto"  # auto: use bwrap where it works; off: never
    # grade even where student code would run with the grader's own privileges (no sandbox user, no bwrap)
    unsafe_run_as_grader: bool = False
    runtime_packages: tuple[str, ...] = ()  # what student code may import besides numpy ([runtime] packages)
    # [assignment]: the answer key's conventions, an instance of homework.conventions
    conventions: Any = field(default_factory=lambda: homework_named(DEFAULT_HOMEWORK).conventions())
    submissions: SubmissionPolicy = field(default_factory=SubmissionPolicy)  # [submissions]

    @property
    def student_packages(self) -> tuple[str, ...]:
        """What student code may import besides the standard library: the homework's (numpy) and [runtime] packages."""
        return self.homework.runtime_packages + self.runtime_packages

    @property
    def total_points(self) -> float:
        return sum(p.points for p in self.parts.values())


def default_config() -> Config:
    """The configuration with every default (as an empty grading.toml gives)."""
    return parse_config({})


def load_config(path: Path | str | None = None) -> Config:
    """Read and validate a TOML config; `None` means the grading.toml shipped beside the package."""
    path = Path(path) if path is not None else DEFAULT_CONFIG_PATH
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read the config file: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    try:
        return parse_config(raw)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def parse_config(raw: dict[str, Any]) -> Config:
    """Validate a config given as a dict (the parsed TOML)."""
    _only_keys(raw, "", ("assignment", "grading", "limits", "tolerance", "parts", "sandbox", "runtime", "submissions"))
    assignment = _table(raw, "assignment")
    homework = homework_named(_choice(assignment, "assignment.homework", DEFAULT_HOMEWORK, tuple(HOMEWORKS)))
    _only_keys(assignment, "assignment.", ("homework", *homework.convention_choices))
    handout = homework.conventions()  # the defaults: the handout's conventions
    conventions = homework.conventions(**{
        name: (_subset if isinstance(choices, SubsetOf) else _choice)(assignment, f"assignment.{name}",
                                                                        getattr(handout, name), choices)
        for name, choices in homework.convention_choices.items()})
    grading = _table(raw, "grading")
    _only_keys(grading, "grading.", ("hidden_share", "hidden_cases", "visible_cases_visibility",
                                     "hidden_cases_visibility", "secret"))
    limits_raw = _table(raw, "limits")
    defaults = Limits()
    _only_keys(limits_raw, "limits.", tuple(defaults.__dataclass_fields__))
    limits = Limits(
        call_timeout=_number(limits_raw, "limits.call_timeout", defaults.call_timeout, low=0.01, high=600),
        import_timeout=_number(limits_raw, "limits.import_timeout", defaults.import_timeout, low=0.1, high=600),
        wall_clock_factor=_number(limits_raw, "limits.wall_clock_factor", defaults.wall_clock_factor, low=1, high=100),
        total_timeout=_number(limits_raw, "limits.total_timeout", defaults.total_timeout, low=1, high=2400),
        timeouts_before_skip=_integer(limits_raw, "limits.timeouts_before_skip", defaults.timeouts_before_skip, low=1),
        memory_mb=_integer(limits_raw, "limits.memory_mb", defaults.memory_mb, low=128),
        max_processes=_integer(limits_raw, "limits.max_processes", defaults.max_processes, low=4, high=4096),
        max_result_mb=_number(limits_raw, "limits.max_result_mb", defaults.max_result_mb, low=0.001, high=1024),
        max_output_chars=_integer(limits_raw, "limits.max_output_chars", defaults.max_output_chars, low=0),
    )
    tolerance = _table(raw, "tolerance")
    _only_keys(tolerance, "tolerance.", ("rtol", "atol"))
    base_tol = _tolerance(tolerance, "tolerance.", Tolerance())
    sandbox = _table(raw, "sandbox")
    _only_keys(sandbox, "sandbox.", ("user", "bubblewrap", "unsafe_run_as_grader"))
    runtime = _table(raw, "runtime")
    _only_keys(runtime, "runtime.", ("packages",))
    submissions = _table(raw, "submissions")
    _only_keys(submissions, "submissions.", tuple(SubmissionPolicy.__dataclass_fields__))

    parts_raw = _table(raw, "parts")
    unknown = [k for k in parts_raw if k not in homework.part_ids]
    if unknown:
        raise ConfigError(f"unknown part id {unknown[0]!r} in [parts]; the part ids of {homework.name} are: "
                          f"{', '.join(homework.part_ids)}")
    parts = {}
    for pid in homework.part_ids:
        entry = parts_raw.get(pid, {})
        where = f'parts."{pid}".'
        if not isinstance(entry, dict):
            raise ConfigError(f"{where[:-1]} must be a table such as {{ points = 1 }}, got {entry!r}")
        _only_keys(entry, where, ("points", "rtol", "atol"))
        parts[pid] = PartConfig(
            points=_number(entry, where + "points", float(homework.default_points[pid]), low=0, high=1e6),
            tolerance=_tolerance(entry, where, base_tol),
        )
    d = Config(parts={})  # the defaults
    return Config(
        parts=parts,
        homework=homework,
        limits=limits,
        hidden_share=_number(grading, "grading.hidden_share", d.hidden_share, low=0, high=1),
        hidden_cases=_integer(grading, "grading.hidden_cases", d.hidden_cases, low=0, high=50),
        visible_cases_visibility=_choice(grading, "grading.visible_cases_visibility",
                                         d.visible_cases_visibility, VISIBILITIES),
        hidden_cases_visibility=_choice(grading, "grading.hidden_cases_visibility",
                                        d.hidden_cases_visibility, VISIBILITIES),
        secret=_string(grading, "grading.secret", d.secret),
        sandbox_user=_username(sandbox, "sandbox.user", d.sandbox_user),
        bubblewrap=_choice(sandbox, "sandbox.bubblewrap", d.bubblewrap, ("auto", "off")),
        unsafe_run_as_grader=_choice(sandbox, "sandbox.unsafe_run_as_grader", d.unsafe_run_as_grader, (False, True)),
        runtime_packages=_packages(runtime, "runtime.packages"),
        conventions=conventions,
        submissions=SubmissionPolicy(
            limit=_integer(submissions, "submissions.limit", 0, low=0, high=10_000),
            window_hours=(_number(submissions, "submissions.window_hours", 24.0, low=0.01, high=24 * 366)
                          if "window_hours" in submissions else None),
            exempt=_exempt(submissions, "submissions.exempt"),
            details_for=_details_for(submissions),
        ),
    )


def _details_for(table: dict) -> int:
    """submissions.details_for: at most the limit, which it counts within."""
    value = _integer(table, "submissions.details_for", 0, low=0)
    limit = table.get("limit", 0)  # (already validated)
    if value and not limit:
        raise ConfigError("submissions.details_for counts within a limit: set submissions.limit too")
    if value > limit:
        raise ConfigError(f"submissions.details_for must be at most submissions.limit ({limit}), got {value}")
    return value


def _exempt(table: dict, where: str) -> tuple[str, ...]:
    value = table.get("exempt", [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"{where} must be a list of emails or student ids such as [\"ta@uni.edu\"], got {value!r}")
    return tuple(dict.fromkeys(v.strip().lower() for v in value))


def student_package_pins() -> dict[str, list[str]]:
    """{package: its pinned requirement lines} from requirements-student.txt (what setup.sh installs)."""
    pins: dict[str, list[str]] = {}
    for line in STUDENT_REQUIREMENTS.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pins.setdefault(re.split(r"[=<>!~;\[ ]", line, maxsplit=1)[0].lower(), []).append(line)
    return pins


def _packages(table: dict, key: str) -> tuple[str, ...]:
    value = table.get(key.split(".")[-1], [])
    offered = student_package_pins()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key} must be a list of package names such as [\"matplotlib\"], got {value!r}")
    for name in value:
        if name.lower() not in offered:
            raise ConfigError(f"{key}: {name!r} is not a package the grader can install; it can: "
                              f"{', '.join(sorted(offered))} (pinned in requirements-student.txt)")
    return tuple(dict.fromkeys(v.lower() for v in value))


def _tolerance(table: dict, where: str, default: Tolerance) -> Tolerance:
    return Tolerance(
        rtol=_number(table, where + "rtol", default.rtol, low=0, high=1),
        atol=_number(table, where + "atol", default.atol, low=0, high=1),
    )


def _only_keys(table: dict, where: str, allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"unknown setting {where}{key}; allowed here: {', '.join(allowed)}")


def _table(raw: dict, key: str) -> dict:
    value = raw.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{key}] must be a table, got {value!r}")
    return value


def _number(table: dict, where: str, default: float, *, low: float, high: float = math.inf) -> float:
    key = where.rsplit(".", 1)[-1]
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{where} must be between {low:g} and {high:g}, got {value!r}")
    return float(value)


def _integer(table: dict, where: str, default: int, *, low: int, high: int = 10**9) -> int:
    key = where.rsplit(".", 1)[-1]
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{where} must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{where} must be between {low} and {high}, got {value!r}")
    return value


def _choice(table: dict, where: str, default, choices: tuple):
    value = table.get(where.rsplit(".", 1)[-1], default)
    # (1.0 or true are not 1: the type must be a choice's too)
    if not any(type(value) is type(c) and value == c for c in choices):
        raise ConfigError(f"{where} must be one of {', '.join(map(str, choices))}; got {value!r}")
    return value


def _subset(table: dict, where: str, default: tuple, choices: SubsetOf) -> tuple:
    """Some of choices.values, at least one, in their order (a list value given as a list is a tuple)."""
    value = table.get(where.rsplit(".", 1)[-1], default)
    held = tuple(tuple(v) if isinstance(v, list) else v for v in value) if isinstance(value, (list, tuple)) else None
    if not held or any(v not in choices.values for v in held):
        shown = ", ".join(json.dumps(list(v) if isinstance(v, tuple) else v) for v in choices.values)
        raise ConfigError(f"{where} must be a list of at least one of: {shown}; got {value!r}")
    return tuple(v for v in choices.values if v in held)


def _username(table: dict, where: str, default: str) -> str:
    value = _string(table, where, default)
    if not re.fullmatch(r"[a-z_][a-z0-9_-]{0,30}", value) or value == "root":
        raise ConfigError(f"{where} must be a plain user name other than root (e.g. ag-student), got {value!r}")
    return value


def _string(table: dict, where: str, default: str) -> str:
    value = table.get(where.rsplit(".", 1)[-1], default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where} must be a non-empty string, got {value!r}")
    return value
