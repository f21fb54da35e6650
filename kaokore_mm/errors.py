"""The error vocabulary of the package, at the bottom of every room (pure Python).

Each kind names a problem of the user's input, not a bug, and is raised where the
problem is found; the one error boundary of the tools
(:func:`kaokore_mm.utils.cli.cli_main`) turns it into one line and exit code 2.
Library messages name the parameter or the config key; the tools map them to
their flags.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input (a file, an option, a config value), not a
    bug: the tools print its message as one line and exit with code 2."""


class BadPageError(ValueError):
    """A page image that cannot be used: missing, truncated, not an image, or
    of another size than its annotations say."""


class SplitError(ValueError):
    """A split that cannot be made from these pages (a subset would be empty, ...)."""


class EmptyDatasetError(ValueError):
    """A training set without a single sample (mmengine cannot build it)."""


def first_line(e: BaseException) -> str:
    """The first line of ``e``'s message (a ``KeyError``'s without the quotes
    ``str`` adds), or its type name when it has none."""
    text = str(e.args[0]) if isinstance(e, KeyError) and e.args else str(e)
    return text.strip().splitlines()[0] if text.strip() else type(e).__name__


def last_line(e: Exception) -> str:
    """The message of ``e`` without the traceback a DataLoader worker puts before it."""
    text = str(e).strip()
    if 'Traceback' not in text:
        return text
    line = text.splitlines()[-1]
    return line.split(f'{type(e).__name__}: ', 1)[-1]
