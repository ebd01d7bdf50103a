"""The reference solution. Imported only by the grading process, never shipped to students."""
