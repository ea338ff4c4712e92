"""Errors that describe a user's mistake; the CLI prints them as one line and exits 2."""


class DataError(ValueError):
    """Input data that cannot be used as given: names the file, column and first offending row."""


class DownloadError(RuntimeError):
    """A file could not be fetched (offline, or the source is gone) and is not on disk either."""
