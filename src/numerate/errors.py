"""Errors a user can act on. The command line prints the message (no traceback) and exits with `exit_code`."""


class NumerateError(Exception):
    exit_code = 1


class UsageError(NumerateError):
    """Bad input, config, arguments or files: the message names what is wrong."""

    exit_code = 2


class TrainingDiverged(NumerateError):
    """The loss or gradient stopped being finite; the last good checkpoint is kept."""

    exit_code = 3


class Interrupted(NumerateError):
    """Stopped by SIGINT/SIGTERM after writing a checkpoint that `--resume` continues."""

    def __init__(self, message: str, exit_code: int = 130):
        super().__init__(message)
        self.exit_code = exit_code
