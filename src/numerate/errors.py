"""One exception type for mistakes a user can fix; the command line turns it into a message and exit code 2."""


class UsageError(Exception):
    """Bad input, config or arguments: the message names what is wrong."""
