"""Errors that describe a user's mistake; the CLI prints them as one line and exits 2."""


class DataError(ValueError):
    """Input data that cannot be used as given: names the file, column and first offending row."""
