"""Top-level code, run one statement at a time (sandbox/toplevel.py): notebooks' cells and .py files."""

import json
import sys
import textwrap

import pytest

from autograder.sandbox.toplevel import NotebookError, code_cells, run, strip_magics, too_large, units


def test_line_magics_and_shell_lines_become_blank():
    assert strip_magics("%matplotlib inline\n!pip install x\nx = 1\n  %time y = 2") == "\n\nx = 1\n"
    assert strip_magics("get_ipython().run_line_magic('a', 'b')\nz = 3") == "\nz = 3"


def test_cell_magics_keep_python_and_drop_the_rest():
    assert strip_magics("%%time\nx = 1") == "\nx = 1"
    assert strip_magics("%%bash\necho hi") == ""


def test_code_cells_are_numbered_as_in_the_notebook(tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "cells": [
        {"cell_type": "markdown", "source": "# title"},
        {"cell_type": "code", "source": ["x = 1\n", "y = 2"]},
        {"cell_type": "code", "source": "%matplotlib inline"},
        {"cell_type": "code", "source": "z = 3"},
    ]}))
    assert code_cells(str(path)) == [(2, "x = 1\ny = 2"), (4, "z = 3")]


def test_format_3_notebooks_are_read(tmp_path):
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps({"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "code", "input": ["a = 1"]}]}]}))
    assert code_cells(str(path)) == [(1, "a = 1")]


@pytest.mark.parametrize("text", ["not json", "[1, 2]", "[" * 100_000])
def test_not_a_notebook(tmp_path, text):
    path = tmp_path / "bad.ipynb"
    path.write_text(text)
    with pytest.raises(NotebookError, match="not a valid notebook"):
        code_cells(str(path))


def test_saved_outputs_do_not_count_against_the_code_limit(tmp_path):
    """A notebook's plots weigh megabytes; only a file over MAX_NOTEBOOK_BYTES is refused, unread."""
    plot = "iVBORw0KGgo" * 2_000_000  # 22 MB of a saved PNG
    path = tmp_path / "plots.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": "x = 1", "outputs": [
        {"output_type": "display_data", "data": {"image/png": plot}}]}]}))
    assert path.stat().st_size > 20 * 2**20 and too_large(str(path)) == ""
    assert code_cells(str(path)) == [(1, "x = 1")]
    with open(path, "ab") as f:
        f.truncate(70 * 2**20)
    assert "over the 64 MB" in too_large(str(path)) and "Clear all outputs" in too_large(str(path))


def run_source(source, budget=5.0, **kw):
    namespace = {"__name__": "submission"}
    return run([(None, "two_layer_net.py", source)], namespace, budget, 5.0, **kw), namespace


def test_a_failing_statement_stops_only_itself():
    events, ns = run_source("import numpy as np\nundefined_name\nimport sys\nsys.exit(3)\ndef f():\n    return 1\n")
    assert ns["f"]() == 1 and "np" in ns
    assert [(e["line"], e["outcome"], e["error"]) for e in events] == [
        (2, "failed", "NameError: name 'undefined_name' is not defined"), (4, "failed", "the code called sys.exit(3)")]
    assert events[0]["code"] == "undefined_name" and events[0]["cell"] is None


def test_a_long_statement_is_stopped_and_what_follows_still_runs():
    events, ns = run_source("a = 1\nwhile True:\n    pass\nb = 2\nwhile True:\n    pass\nc = 3\n", budget=0.6)
    assert (ns["a"], ns["b"], ns["c"]) == (1, 2, 3)
    stopped = [(e["line"], e["outcome"], e["seconds"]) for e in events]
    assert stopped == [(2, "stopped", 0.3), (5, "stopped", pytest.approx(0.15, abs=0.05))]


def test_code_that_swallows_the_stop_is_stopped_again():
    """The timers repeat: a statement that catches one stop meets the next. (One that catches every
    stop, in a loop, runs until the import's own limit stops the worker: the sandbox's tests.)"""
    source = "try:\n    while True:\n        pass\nexcept BaseException:\n    pass\nwhile True:\n    pass\n"
    events, ns = run_source("if True:\n" + textwrap.indent(source, "    ") + "d = 4\n", budget=0.4)
    assert ns["d"] == 4 and [e["outcome"] for e in events] == ["stopped"]


def test_a_waiting_statement_is_stopped_by_the_wall_clock():
    events, ns = run_source("import time\ntime.sleep(60)\ne = 5\n", budget=0.2)
    assert ns["e"] == 5 and events[0]["line"] == 2 and events[0]["outcome"] == "stopped"


def test_future_imports_hold_for_every_later_statement():
    events, ns = run_source("from __future__ import annotations\ndef f(x: NotDefinedAnywhere) -> None:\n    pass\n")
    assert events == [] and ns["f"].__annotations__["x"] == "NotDefinedAnywhere"


def test_a_py_that_does_not_parse_fails_whole_and_a_cell_only_itself():
    with pytest.raises(SyntaxError):
        run_source("def f(:\n    pass\n")
    events = run([(1, "<cell 1>", "def f(:\n"), (2, "<cell 2>", "g = 1\n")], ns := {}, 1.0, 5.0)
    assert ns["g"] == 1 and events[0]["cell"] == 1 and events[0]["error"].startswith("SyntaxError")


def test_display_only_packages_the_runtime_lacks_get_stand_ins(monkeypatch):
    for name in ("matplotlib", "matplotlib.pyplot", "tqdm", "tqdm.auto", "google", "google.colab"):
        monkeypatch.setitem(sys.modules, name, None)  # (an import of it is refused, as by the runtime guard)
    source = ("import numpy as np\nimport matplotlib.pyplot as plt\nfrom tqdm.auto import tqdm, trange\n"
              "from google.colab import drive\ndrive.mount('/content/drive')\n"
              "fig, ax = plt.subplots()\nax.plot([1, 2])\nplt.show()\n"
              "total = sum(tqdm(range(4))) + sum(trange(3))\n")
    events, ns = run_source(source)
    assert ns["total"] == 9
    assert [(e["line"], e["outcome"], e["module"]) for e in events] == [
        (2, "stand-in", "matplotlib"), (3, "stand-in", "tqdm"), (4, "stand-in", "google.colab")]


def test_a_missing_package_that_is_not_display_only_fails_its_import():
    events, ns = run_source("import surely_not_installed_anywhere as s\nx = 1\n")
    assert ns["x"] == 1
    assert (events[0]["outcome"], events[0]["module"]) == ("failed", "surely_not_installed_anywhere")


def test_notebooks_have_display_as_in_jupyter(tmp_path):
    path = tmp_path / "n.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": "display(3)\ny = 2"}]}))
    events = run(units(str(path)), ns := {}, 1.0, 5.0)
    assert events == [] and ns["y"] == 2


def test_skipped_statements_do_not_run():
    events, ns = run_source("a = 1\nwhile True:\n    pass\nb = 2\n", skip={(None, 2)})
    assert events == [] and ns["b"] == 2


def test_a_stop_turned_into_another_error_is_still_a_stop():
    """Code (or a library it is in) that turns the stop into its own error is stopped all the same."""
    source = "try:\n    while True:\n        pass\nexcept BaseException:\n    raise ValueError('mine')\nf = 6\n"
    events, ns = run_source(source, budget=0.4)
    assert ns["f"] == 6 and [(e["line"], e["outcome"]) for e in events] == [(1, "stopped")]


def test_a_stop_turned_into_another_error_is_a_stop_whatever_process_time_says(monkeypatch):
    """On a loaded machine the kernel's CPU count, which fires the stop, can run ahead of process_time's:
    the stop having been raised is what says the time was up (process_time frozen here: it never is)."""
    from autograder.sandbox import toplevel

    monkeypatch.setattr(toplevel.time, "process_time", lambda: 0.0)
    source = "try:\n    while True:\n        pass\nexcept BaseException:\n    raise ValueError('mine')\nf = 6\n"
    events, ns = run_source(source, budget=0.4)
    assert ns["f"] == 6 and [(e["line"], e["outcome"]) for e in events] == [(1, "stopped")]


def test_a_file_whose_top_level_fails_is_run_again_from_scratch_forgetting_its_first_output():
    """A .py runs whole first; where that fails it runs again one statement at a time, in a fresh
    namespace (restart: the worker forgets what the first try printed)."""
    restarts = []
    events, ns = run_source("a = [1]\na.append(2)\nundefined_name\nb = len(a)\n", restart=lambda: restarts.append(1))
    assert ns["b"] == 2 and restarts == [1] and [e["line"] for e in events] == [3]
    events, ns = run_source("a = 1\n", restart=lambda: restarts.append(1))
    assert events == [] and ns["a"] == 1 and restarts == [1]


def test_a_stop_on_an_instruction_of_no_line_is_put_on_the_line_before_it():
    """Python 3.11 gives a loop's jump back no line (tb_lineno -1): the stop is the loop's all the same."""
    from types import SimpleNamespace

    from autograder.sandbox.toplevel import _top_level_line

    code = compile("x = 0\nwhile True:\n    x += 1\ny = 2\n", "f.py", "exec")
    last = max(start for start, _, line in code.co_lines() if line == 3)
    fake = SimpleNamespace(tb_frame=SimpleNamespace(f_code=code), tb_lineno=-1, tb_lasti=last, tb_next=None)
    assert _top_level_line(SimpleNamespace(__traceback__=fake), code) == 3


def test_what_the_code_chose_to_say_is_capped_in_its_event():
    """An event travels in the worker's first frame: a huge exit code or module name cannot swell it."""
    source = "import sys\nsys.exit('x' * 10**6)\nraise ModuleNotFoundError('m', name='y' * 10**6)\n"
    events, _ = run_source(source)
    assert [len(e["error"]) <= 300 and len(e.get("module", "")) <= 160 for e in events] == [True, True]
