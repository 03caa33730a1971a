"""Errors the engine raises for a person to read.

Every `StudioError` carries a one-line message that names the file (or argument) and the problem;
the command line prints it and exits 2, the window shows it and carries on.
"""

from __future__ import annotations

from pathlib import Path


class StudioError(Exception):
    """A problem with the user's input, explained in one line."""

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class ImageError(StudioError):
    """An image file that cannot be read."""

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class ModelFileError(StudioError):
    """A model file that cannot be opened (missing, truncated, foreign or unsafe)."""

    def __init__(self, path: str | Path, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class DataError(StudioError):
    """A data set that cannot be used for training or evaluation."""
