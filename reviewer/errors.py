"""Errors that reach the user as one line and an exit status, never as a traceback.

Flow position: shared by every stage.  Sources raise `InputError` for input they cannot read
(malformed patch, binary-only diff, mbox with no patches, bad revision range, unparsable C);
the CLI prints `notifier-review: <input>: <message>` and exits with `EXIT_BAD_INPUT`.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_BAD_INPUT = 2


class ReviewError(Exception):
    """Base class for errors shown to the user as a single line."""

    exit_status = EXIT_BAD_INPUT

    def __init__(self, subject: str, message: str) -> None:
        super().__init__(f"{subject}: {message}")
        self.subject = subject
        self.message = message

    def one_line(self) -> str:
        text = f"{self.subject}: {self.message}" if self.subject else self.message
        return " ".join(text.split())


class InputError(ReviewError):
    """The input named by `subject` (a file, a revision range, a directory) cannot be used."""


class UsageError(ReviewError):
    """The command line itself is wrong."""
