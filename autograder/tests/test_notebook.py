import json

import pytest

from autograder.grading.notebook import NotebookError, code_cells, strip_magics


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
    assert code_cells(path) == [(2, "x = 1\ny = 2"), (4, "z = 3")]


def test_format_3_notebooks_are_read(tmp_path):
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps({"nbformat": 3, "worksheets": [{"cells": [
        {"cell_type": "code", "input": ["a = 1"]}]}]}))
    assert code_cells(path) == [(1, "a = 1")]


@pytest.mark.parametrize("text", ["not json", "[1, 2]"])
def test_not_a_notebook(tmp_path, text):
    path = tmp_path / "bad.ipynb"
    path.write_text(text)
    with pytest.raises(NotebookError, match="not a valid notebook"):
        code_cells(path)
