"""The ``xlrate`` command line: a thin skin over the library.

Each command group lives in its own module and is imported only when used, so
``xlrate price`` does not pay for loading the workbook or email code. The commands are click
commands (:mod:`xlrate.cli.app` holds the group and the error boundary); the one command line
people type most, ``xlrate price CODES`` with plain options, is answered without loading click
when it prices cleanly (:mod:`xlrate.cli.quick`), and by the click command otherwise.

Every failure ends as one clear line and exit code 1 (2 for a usage error); ``--debug``
anywhere on the command line (or ``XLRATE_DEBUG=1``) shows the traceback.
"""

from __future__ import annotations

import os
import sys
from typing import Any, NoReturn


def main(argv: list[str] | None = None) -> Any:
    """Run the command line; every failure ends as one line and exit code 1 or 2."""
    from xlrate.cli import quick  # lazy: `from xlrate.cli import cli` does not need it

    args, debug = _split_debug(list(sys.argv[1:] if argv is None else argv))
    try:
        answer = quick.answer(args)
        if answer is not None:
            answer.write()
            return None
    except (OSError, KeyboardInterrupt) as exc:  # a closed pipe, Ctrl-C: said as anywhere else
        failure: BaseException = exc
        from xlrate.cli.app import guard  # lazy: click, only when the quick path failed

        return guard(lambda: _raise(failure), debug)
    from xlrate.cli.app import cli, guard  # lazy: click, for every other command line

    return guard(lambda: cli.main(args=args, prog_name="xlrate", standalone_mode=False), debug)


def __getattr__(name: str) -> Any:
    if name in ("cli", "COMMANDS"):  # the click group and its commands, for tests and scripts
        from xlrate.cli import app  # lazy: click, loaded when asked for

        return getattr(app, name)
    raise AttributeError(f"module 'xlrate.cli' has no attribute {name!r}")


def _split_debug(argv: list[str]) -> tuple[list[str], bool]:
    """Take ``--debug`` out wherever it was typed (before ``--``)."""
    end = argv.index("--") if "--" in argv else len(argv)
    debug = "--debug" in argv[:end] or os.environ.get("XLRATE_DEBUG", "") not in ("", "0")
    return [a for i, a in enumerate(argv) if not (a == "--debug" and i < end)], debug


def _raise(exc: BaseException) -> NoReturn:
    raise exc
