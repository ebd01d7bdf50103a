"""Grading one submission: the contract, the cases, the runner, the comparison, the score, results.json."""
