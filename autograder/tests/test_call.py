"""The statuses a call and a grading end in: enums that are their words wherever they are written."""

from __future__ import annotations

import csv
import io
import json

from autograder.core.call import OOM, CallStatus
from autograder.grading.grade import Status


def test_a_status_reads_as_its_words_in_every_medium():
    for status in (*CallStatus, *Status):
        out = io.StringIO()
        csv.writer(out).writerow([status])
        written = (str(status), f"{status}", "{}".format(status), "%s" % status,  # noqa: UP031, UP032
                   json.loads(json.dumps(status)),
                   out.getvalue().strip().strip('"'))
        assert written == (status.value,) * 6, written
        assert status == status.value and hash(status) == hash(status.value)  # compares as its words too
    assert f"({OOM:>15})" == "(  out of memory)"
