"""Staff tools: grading a class and its report, the upload zip, the handout, the pytest plugin."""
