"""Submission limits (grading/limits.py): which earlier submissions count, what the student is told,
and the results over the limit, from metadata as Gradescope writes it."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from autograder.config import ConfigError, SubmissionPolicy, parse_config
from autograder.core.homework import homework_named
from autograder.grading.grade import Status
from autograder.grading.limits import GRADER_ERROR, OVER_LIMIT, attempts, parse_time, within_limits
from autograder.grading.results import failure_results

NOW = datetime(2026, 12, 7, 17, 30, tzinfo=timezone(timedelta(hours=-8)))
DAY = SubmissionPolicy(limit=3, window_hours=24)
VISIBLE = homework_named("two-layer-net").visible_cases  # (12 cases, each grading every part)


def metadata(*hours_ago: float, now: datetime = NOW, **extra) -> dict:
    """Submission metadata with a previous submission `h` hours before now for each h (scores 1, 2, ...),
    the latest with its results."""
    previous = [{"submission_time": (now - timedelta(hours=h)).isoformat(), "score": float(i + 1),
                 "autograder_error": False} for i, h in enumerate(sorted(hours_ago, reverse=True))]
    if previous:
        previous[-1]["results"] = {"score": previous[-1]["score"], "tests": [{"name": "t", "score": 1.0}]}
    return {"id": 7, "created_at": now.isoformat(), "users": [{"email": "s@uni.edu", "id": 11, "name": "S"}],
            "previous_submissions": previous} | extra


def test_off_by_default_and_validated_like_every_table():
    assert parse_config({}).submissions == SubmissionPolicy() and attempts(SubmissionPolicy(), metadata(1)) is None
    policy = parse_config({"submissions": {"limit": 3, "window_hours": 24, "exempt": ["TA@uni.edu ", "S42"]}})
    assert policy.submissions == SubmissionPolicy(3, 24.0, ("ta@uni.edu", "s42"))
    for bad, words in (({"limit": -1}, "submissions.limit must be between"), ({"limit": 2.5}, "whole number"),
                       ({"window_hours": 0}, "submissions.window_hours must be between"),
                       ({"exempt": "ta@uni.edu"}, "submissions.exempt must be a list"),
                       ({"per": 1}, "unknown setting")):
        with pytest.raises(ConfigError, match=words):
            parse_config({"submissions": bad})


def test_only_earlier_submissions_inside_the_window_that_did_not_fail_count():
    fresh = attempts(DAY, metadata(30, 2))  # 30 h ago is outside the window
    assert (fresh.allowed, fresh.used, fresh.left) == (True, 1, 1)
    failed = metadata(3, 2)
    failed["previous_submissions"][0]["autograder_error"] = True  # the harness failed on it
    failed["previous_submissions"][1]["results"] = failure_results("boom")  # ours failed on it
    assert failure_results("boom")["extra_data"]["status"] == GRADER_ERROR == Status.GRADER_ERROR
    assert attempts(DAY, failed).used == 0
    later = metadata(2, 1)  # a regrade: submissions after this one's time are not before it
    later["previous_submissions"].append({"submission_time": (NOW + timedelta(hours=1)).isoformat(), "score": 9})
    assert attempts(DAY, later).used == 2
    full = attempts(DAY, metadata(5, 3))
    assert (full.allowed, full.left) == (True, 0) and full.returns_at == NOW - timedelta(hours=5) + timedelta(hours=24)


def test_over_the_limit_no_code_runs_and_the_latest_counted_score_stays_with_its_tests():
    found = attempts(DAY, metadata(20, 5, 1))
    assert not found.allowed and found.kept.score == 3.0
    assert found.returns_at == NOW - timedelta(hours=20) + timedelta(hours=24)  # when the oldest leaves
    results = within_limits(found, lambda: pytest.fail("student code ran over the limit"), VISIBLE)
    assert results["score"] == 3.0 and results["tests"] == [{"name": "t", "score": 1.0}]
    assert results["extra_data"]["status"] == OVER_LIMIT
    said = results["output"]
    assert said.startswith("Submissions: you have used all 3 submissions that count in any 24 hours, so this "
                           "submission was not graded")
    assert "your score stays 3 from your submission of 2026-12-07 16:30 (UTC-08:00)" in said
    assert "from 2026-12-07 21:30 (UTC-08:00)" in said and "selfcheck.py" in said
    # without the kept submission's results (Gradescope passes the latest previous one's only)
    older = metadata(20, 5, 1)
    del older["previous_submissions"][-1]["results"]
    assert within_limits(attempts(DAY, older), dict, VISIBLE)["tests"] == []
    assert "Its feedback is on your submission of" in within_limits(attempts(DAY, older), dict, VISIBLE)["output"]
    one = attempts(SubmissionPolicy(limit=1, window_hours=24), metadata(2))
    assert "you have used the 1 submission that counts in any 24 hours" in within_limits(one, dict, VISIBLE)["output"]
    whole = attempts(SubmissionPolicy(limit=2), metadata(400, 300))  # no window: the whole assignment
    assert not whole.allowed and whole.returns_at is None
    said = within_limits(whole, dict, VISIBLE)["output"]
    assert "you have used all 2 submissions that count for this assignment" in said


def test_the_count_is_said_first_in_a_graded_submissions_summary():
    results = within_limits(attempts(DAY, metadata(2)), lambda: {"score": 5, "output": "Tests shown now: 5/10."},
                            VISIBLE)
    assert results["output"] == "Submissions: this is 2 of 3 in any 24 hours; 1 left.\n\nTests shown now: 5/10."
    assert results["extra_data"]["submissions"]["used_before"] == 1 and results["score"] == 5
    last = within_limits(attempts(DAY, metadata(5, 3)), lambda: {"output": ""}, VISIBLE)
    assert last["output"].startswith("Submissions: this is 3 of 3 in any 24 hours; none left until 2026-12-08 12:30")


def test_staff_are_exempt_and_unreadable_metadata_costs_no_submission():
    staff = SubmissionPolicy(limit=1, window_hours=24, exempt=("s@uni.edu",))
    found = attempts(staff, metadata(3, 2, 1))
    assert found.allowed and found.exempt and "no limit applies to you" in within_limits(found, dict, VISIBLE)["output"]
    by_id = SubmissionPolicy(limit=1, exempt=("11",))
    assert attempts(by_id, metadata(1)).exempt
    for broken in (None, {}, [], {"id": 3}, {"created_at": "yesterday"}, metadata(1, previous_submissions="x")):
        found = attempts(DAY, broken)
        assert found.allowed and found.problem, broken
        said = within_limits(found, lambda: {"output": "graded"}, VISIBLE)["output"]
        assert said.startswith("Submissions: the limit of 3 in any 24 hours could not be applied (")
        assert said.endswith("graded")
    odd = metadata(2, 1)
    odd["previous_submissions"] += ["x", {"submission_time": "never"}, {"score": 4}]  # never counted
    assert attempts(DAY, odd).used == 2


@pytest.mark.parametrize("text, expected", [
    ("2026-12-07T17:30:00.123456-08:00", datetime(2026, 12, 7, 17, 30, 0, 123456, timezone(timedelta(hours=-8)))),
    ("2026-12-07T17:30:00.1-0800", datetime(2026, 12, 7, 17, 30, 0, 100000, timezone(timedelta(hours=-8)))),
    ("2026-12-07 17:30:00Z", datetime(2026, 12, 7, 17, 30, tzinfo=timezone.utc)),
    ("2026-12-07T17:30", datetime(2026, 12, 7, 17, 30, tzinfo=timezone.utc)),
    ("2026-13-07T17:30:00Z", None), ("yesterday", None), (17, None), ("2026-12-07T17:30:00+25:00", None),
])
def test_times_are_read_as_gradescope_writes_them(text, expected):
    assert parse_time(text) == expected


def test_past_details_for_the_visible_cases_say_only_which_pass():
    policy = SubmissionPolicy(limit=3, window_hours=24, details_for=1)
    visible = {"name": "Loss (visible cases)", "score": 0.5, "output": "**small**, in full: x = [1, 2] instead of 3",
               "tags": ["loss"], "extra_data": {"hidden": False, "failing_cases": ["small", "n = h = k = 1"],
                              "failures": ["small: 3 instead of 6"]}}
    hidden = {"name": "Loss (hidden cases)", "score": 0, "output": "0/4 cases passed.", "extra_data": {"hidden": True}}

    def graded() -> dict:
        return {"score": 0.5, "output": "summary", "tests": [dict(visible), dict(hidden)]}

    first = within_limits(attempts(policy, metadata()), graded, VISIBLE)
    assert first["tests"][0] == visible and first["extra_data"]["submissions"]["in_full"]
    second = within_limits(attempts(policy, metadata(2)), graded, VISIBLE)
    shown = second["tests"][0]
    assert shown["output"].startswith("10/12 cases passed.\n\nFailing cases (their inputs and values are shown")
    assert "- small\n- n = h = k = 1" in shown["output"] and "instead of" not in json.dumps(shown)
    assert second["tests"][1] == hidden and second["score"] == 0.5
    assert "The first 1 of a window show the visible cases in full; this one shows which pass and which fail" \
        in second["output"]
    staff = SubmissionPolicy(limit=3, window_hours=24, details_for=1, exempt=("s@uni.edu",))
    assert within_limits(attempts(staff, metadata(2)), graded, VISIBLE)["tests"][0] == visible
    for bad, words in (({"details_for": 1}, "set submissions.limit too"),
                       ({"limit": 2, "details_for": 3}, "at most submissions.limit")):
        with pytest.raises(ConfigError, match=words):
            parse_config({"submissions": bad})
