"""Autograder for the "Two-Layer Neural Network" homework.

Data flows one way: submission (grading/submission.py) -> sandboxed worker (sandbox/calls.py,
sandbox/worker.py, sandbox/protocol.py) -> comparison in the grading process (core/compare.py,
driven by the grading tests in tests/ through grading/runner.py) -> scores (grading/rubric.py) ->
results.json (grading/results.py). The layers are in the README's layout.
"""

__version__ = "0.1.0"
