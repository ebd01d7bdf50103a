"""Autograder for the "Two-Layer Neural Network" homework.

Data flows one way: submission (submission.py) -> sandboxed worker (sandbox.py, worker.py,
protocol.py) -> comparison in the grading process (compare.py, driven by the grading tests in
tests/ through runner.py) -> scores (rubric.py) -> results.json (results.py).
"""

__version__ = "0.1.0"
