"""The one place where a tool turns a user error into one line and exit code 2."""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Callable, Iterator

from kaokore_mm.errors import (  # noqa: F401  (the tools' vocabulary, re-exported)
    BadPageError,
    EmptyDatasetError,
    SplitError,
    UserError,
    first_line,
    last_line,
)


def input_error_message(e: BaseException) -> str | None:
    """One line for an exception that the user's input causes, whatever the tool
    and wherever it is raised (``None`` for anything else, which is a bug and keeps
    its traceback): a file that cannot be read or written (``OSError`` with its
    name), text or JSON that does not decode, input nested too deeply, a page
    too large to decode (Pillow's decompression-bomb guard)."""
    if isinstance(e, UserError):
        return str(e)
    if isinstance(e, OSError) and getattr(e, 'filename', None):
        where = f'{e.filename} -> {e.filename2}' if getattr(e, 'filename2', None) else e.filename
        return f'{where}: {e.strerror or first_line(e)} (check the path, its permissions and free space)'
    if isinstance(e, UnicodeDecodeError):
        return f'input is not UTF-8 text ({e.reason} at byte {e.start}); save it as UTF-8'
    if type(e).__name__ == 'JSONDecodeError':
        return f'input is not valid JSON ({first_line(e)})'
    if isinstance(e, RecursionError):
        return 'input is nested too deeply to be read (a JSON file or body of hundreds of levels); give a flat one'
    if type(e).__name__ == 'DecompressionBombError':
        return f'{first_line(e)}; downscale the page (or download it with --max-size)'
    return None


def cli_main(main, argv=None, aliases: dict | None = None) -> int:
    """Run a tool's ``main(argv)``: the one error boundary of the tools. A
    :class:`UserError`, or an exception of the user's input
    (:func:`input_error_message`), becomes ``error: <message>`` on stderr and
    exit code 2, the parameters it names read as the tool's options (:func:`with_flags`:
    the options of the tool's parser, and ``aliases``, a library parameter's name to the
    option that gives it, e.g. ``{'pages_file': '--pages'}``). ``--debug`` anywhere in the
    arguments shows the traceback instead."""
    import argparse

    argv = list(sys.argv[1:] if argv is None else argv)
    debug = '--debug' in argv
    argv = [a for a in argv if a != '--debug']
    original, original_parse = argparse.ArgumentParser.error, argparse.ArgumentParser.parse_known_args
    parsers = []

    def parse_known_args(self, *args, **kwargs):  # the tool's parser: its options name the parameters
        if not parsers:
            parsers.append(self)
        return original_parse(self, *args, **kwargs)

    argparse.ArgumentParser.error = _one_line_usage_error  # a bad option is one line too, not usage + line
    argparse.ArgumentParser.parse_known_args = parse_known_args
    try:
        rc = main(argv)
    except Exception as e:
        message = input_error_message(e)
        if debug or message is None:
            raise
        flags = {**(option_flags(parsers[0]) if parsers else {}), **(aliases or {})}
        print(f'error: {with_flags(message, flags)}', file=sys.stderr, flush=True)
        return 2
    except KeyboardInterrupt:
        print('interrupted', file=sys.stderr)
        return 130
    finally:
        argparse.ArgumentParser.error = original
        argparse.ArgumentParser.parse_known_args = original_parse
    return rc if isinstance(rc, int) and not isinstance(rc, bool) else 0


# a parameter or config key a library message names: `data_root`, `train_cfg.max_iters`
NAMED = re.compile(r'`([A-Za-z_][\w.]*)`')


def option_flags(parser) -> dict:
    """``{dest: '--long-option'}`` of a parser's options."""
    out = {}
    for action in parser._actions:
        longs = [o for o in action.option_strings if o.startswith('--')]
        if longs:
            out[action.dest] = longs[0]
    return out


def with_flags(message: str, flags: dict) -> str:
    """A library message as the command line says it: the package names parameters and config
    keys in backticks (as `data_root`), never a tool's flags; here each name a tool takes as an
    option reads as that option (``--data-root``), any other as written, without the backticks."""
    return NAMED.sub(lambda m: flags.get(m.group(1), m.group(1)), message)


def _one_line_usage_error(parser, message: str):
    """argparse's ``error`` inside :func:`cli_main`: the message and where to read the usage."""
    raise UserError(f'{message} (usage: {parser.prog} --help)')


@contextlib.contextmanager
def data_errors_as_user_errors(what: str) -> Iterator[None]:
    """A book-aware split that cannot be made (an empty subset, ...), a page
    that cannot be used (missing, cut short, of another size than its COCO) or
    a training set without samples is the user's data or settings, not a bug:
    one line naming what and what to change, also when it was raised in a
    DataLoader worker (whose message carries the worker's traceback)."""
    try:
        yield
    except SplitError as e:
        raise UserError(f'{what}: {e}') from None
    except (BadPageError, EmptyDatasetError) as e:
        raise UserError(last_line(e)) from None


def number(
    kind: type = int, lo: float | None = None, hi: float | None = None, lo_open: bool = False, words: tuple = ()
) -> Callable:
    """An argparse ``type`` for a number the user gives: ``kind`` (``int`` or ``float``), finite, in
    ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``), or one of ``words`` (kept as the word). Every
    numeric option of the tools takes one, so ``nan``, ``inf``, ``1e400``, ``-5`` or ``3.5`` for a
    count are refused by argparse (usage and one line, exit 2) before any work, never met as a
    traceback or a silent wrong run."""
    import argparse
    import math

    def parse(text: str):
        if text in words:
            return text
        try:
            value = kind(text)
        except (TypeError, ValueError):
            what = 'an integer' if kind is int else 'a number'
            raise argparse.ArgumentTypeError(f'{text!r} is not {what}{"".join(f" or {w!r}" for w in words)}') from None
        if isinstance(value, float) and not math.isfinite(value):
            raise argparse.ArgumentTypeError(f'{text!r} is not a finite number')
        if (lo is not None and (value < lo or (lo_open and value == lo))) or (hi is not None and value > hi):
            left = '(' if lo_open else '['
            raise argparse.ArgumentTypeError(
                f'{text!r} is out of range: give a number in {left}{"-inf" if lo is None else lo}, '
                f'{"inf" if hi is None else hi}]'
            )
        return value

    parse.__name__ = f'{kind.__name__} in range'
    parse.range = (kind, lo, hi, lo_open)
    return parse


COUNT = number(int, 1)  # pages, iterations, workers, images: at least one
SEED = number(int, 0, 2**32 - 1)
SHARE = number(float, 0.0, 1.0)  # a score threshold, an IoU, a share of a page
SCORE_THR = number(float, 0.0, 1.0, words=('auto',))  # a score threshold, or 'auto': the checkpoint's operating point
PIXELS = number(int, 1, 100_000)  # a side in pixels
SECONDS = number(float, 0.0, 86_400.0, lo_open=True)
