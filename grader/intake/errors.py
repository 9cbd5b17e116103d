"""The error for SUBMISSIONS that cannot be used at all."""


class InputError(Exception):
    """SUBMISSIONS as a whole is unusable: missing, not a folder, or without files."""
