"""Errors a user can cause and fix.

Every module raises a subclass of `DemoError` for problems that come from the user's input or
machine (a missing file, a camera that is not there, weights for another model). The CLI prints
the message as one line and exits with status 2, so messages must say what to do, not just what
went wrong. Programming errors stay ordinary exceptions.
"""

from __future__ import annotations


class DemoError(Exception):
    """A problem the user can fix; the message is one line that says how."""

    exit_status = 2

    def __str__(self) -> str:  # one line, whatever the caller passed
        return " ".join(super().__str__().split())


class UsageError(DemoError):
    """Command-line arguments that do not fit together or are out of range."""


class InputNotFoundError(DemoError):
    """A file, folder, camera or stream that was named but cannot be opened."""


class OutputError(DemoError):
    """A place to write results that does not exist or is not writable."""


class WeightsError(DemoError):
    """Weights that are missing, corrupt, or belong to another model."""


class ConfigError(DemoError):
    """A model configuration that is unknown or malformed."""


class DownloadError(DemoError):
    """A download that failed (offline machine, moved file, bad checksum)."""


class SourceError(DemoError):
    """A video source that cannot be read (not a video, truncated, camera lost)."""


class NotAvailableError(DemoError):
    """A feature that this build does not provide (yet, or on this machine)."""


class BoxesFileError(DemoError):
    """A precomputed boxes file (--boxes) that cannot be read; the message names the line."""


class EvaluationFileError(DemoError):
    """A ground truth, results, label map or exclusions file that `evaluate` cannot read; the
    message names the file and the line."""
