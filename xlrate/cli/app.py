"""The click side of the command line: the lazy command group and the error boundary.

:func:`xlrate.cli.main` runs commands through :func:`guard`. Domain errors
(:class:`xlrate.errors.XlrateError`) become one clear line and exit code 1; a failed write
(full disk, read-only folder) one line naming the file; anything unexpected one line plus
"run with --debug for details". ``--debug`` (or ``XLRATE_DEBUG=1``) shows the traceback.
Exit codes: 0 done, 1 error, 2 usage error.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any, NoReturn

import click

from xlrate.errors import XlrateError
from xlrate.text import terminal_text

# command name -> (module, attribute); modules are imported lazily.
COMMANDS: dict[str, tuple[str, str]] = {
    "price": ("xlrate.cli.medicare", "price_cmd"),
    "localities": ("xlrate.cli.medicare", "localities_cmd"),
    "releases": ("xlrate.cli.medicare", "releases_cmd"),
    "medicare": ("xlrate.cli.update", "medicare_group"),
    "fees": ("xlrate.cli.practice", "fees_cmd"),
    "era": ("xlrate.cli.practice", "era_cmd"),
    "audit": ("xlrate.cli.audit", "audit_cmd"),
    "init": ("xlrate.cli.report", "init_cmd"),
    "build": ("xlrate.cli.report", "build_cmd"),
    "demo": ("xlrate.cli.report", "demo_cmd"),
    "addin": ("xlrate.cli.excel", "addin_group"),
    "email": ("xlrate.cli.excel", "email_cmd"),
    "share": ("xlrate.cli.excel", "share_cmd"),
    "market": ("xlrate.cli.market", "market_group"),
    "doctor": ("xlrate.cli.excel", "doctor_cmd"),
}


class LazyGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        # The domain errors become click's one-line errors here, so every way of running
        # a command (main, click's test runner, a script calling ``cli``) shows one line.
        try:
            return super().invoke(ctx)
        except XlrateError as exc:
            raise _OneLine(terminal_text(str(exc))) from exc

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if self._load(name) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load(cmd_name)

    @staticmethod
    def _load(name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module_name, attr = target
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                return None  # that command group is not built yet
            raise
        command: click.Command | None = getattr(module, attr, None)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="xlrate")
@click.option(
    "--debug",
    is_flag=True,
    help="Show the Python traceback of an unexpected error (also after a command).",
)
def cli(debug: bool) -> None:
    """xlrate: compare what your payers pay with Medicare, to the cent.

    \b
    Examples:
      xlrate demo                          build the demo workbook
      xlrate price 99213 --zip 94110       what Medicare pays in San Francisco
      xlrate build --profile practice.toml build your own analysis
    """


class _OneLine(click.ClickException):
    """A domain error shown as ``Error: <message>``, exit code 1."""


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"Error: {terminal_text(message)}", err=True)
    sys.exit(code)


def _print_traceback(exc: BaseException | None = None) -> None:
    """The traceback ``--debug`` asks for (of ``exc``, or of the exception being handled)."""
    import traceback  # lazy: only with --debug, after a failure (3 ms off every command)

    if exc is None:
        traceback.print_exc()
    else:
        traceback.print_exception(exc)


def guard(work: Callable[[], Any], debug: bool) -> Any:
    """Run ``work`` (a command) so that every failure ends as one line and exit code 1 or 2."""
    try:
        return work()
    except XlrateError as exc:
        if debug:
            _print_traceback()
        _fail(str(exc))
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        if debug and exc.__cause__ is not None:
            _print_traceback(exc.__cause__)
        no_args = getattr(click.exceptions, "NoArgsIsHelpError", ())
        if no_args and isinstance(exc, no_args):
            exc.show()  # plain `xlrate`: the help text, as click prints it
            sys.exit(exc.exit_code)
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            # click's own layout (usage, hint, message), with the message made safe to print
            click.echo(exc.ctx.get_usage(), err=True)
            names = exc.ctx.help_option_names
            hint = "--help" if "--help" in names or not names else names[0]
            click.echo(f"Try '{exc.ctx.command_path} {hint}' for help.\n", err=True)
        _fail(exc.format_message(), exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except OSError as exc:
        if debug:
            _print_traceback()
        if exc.filename:
            from xlrate.files import describe_os_error  # lazy: only when a write failed

            _fail(describe_os_error(exc, exc.filename))
        _fail(f"{exc.strerror or exc} (run with --debug for details)")
    except MemoryError:
        _fail("out of memory: try a smaller file, or close other programs")
    except Exception as exc:
        if debug:
            _print_traceback()
        text = " ".join(str(exc).split())[:300]
        detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        _fail(
            f"unexpected problem ({detail}); run with --debug for details, and report it "
            "if the input looks right"
        )
