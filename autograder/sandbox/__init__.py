"""Running student code: the worker and its zygote, the grader's side of it, and the isolation layers."""
