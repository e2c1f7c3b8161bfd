"""The errors a command reports in one line: `w2v-ext COMMAND: error: MESSAGE`."""
from __future__ import annotations

EXIT_ERROR = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """An error to report to the user in one line (exit status 1)."""


class UsageError(CommandError):
    """Arguments that cannot be used together or as given (exit status 2, as argparse's)."""
