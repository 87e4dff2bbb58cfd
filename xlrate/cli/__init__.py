"""The ``xlrate`` command line: a thin skin over the library.

Each command group lives in its own module and is imported only when used, so
``xlrate price`` does not pay for loading the workbook or email code. Domain errors
(:class:`xlrate.errors.XlrateError`) become one clear line and exit code 1.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from xlrate.errors import XlrateError

# command name -> (module, attribute); modules are imported lazily.
COMMANDS: dict[str, tuple[str, str]] = {
    "price": ("xlrate.cli.medicare", "price_cmd"),
    "localities": ("xlrate.cli.medicare", "localities_cmd"),
    "releases": ("xlrate.cli.medicare", "releases_cmd"),
    "medicare": ("xlrate.cli.update", "medicare_group"),
    "fees": ("xlrate.cli.practice", "fees_cmd"),
    "era": ("xlrate.cli.practice", "era_cmd"),
    "init": ("xlrate.cli.report", "init_cmd"),
    "build": ("xlrate.cli.report", "build_cmd"),
    "demo": ("xlrate.cli.report", "demo_cmd"),
    "addin": ("xlrate.cli.excel", "addin_group"),
    "email": ("xlrate.cli.excel", "email_cmd"),
    "share": ("xlrate.cli.excel", "share_cmd"),
    "doctor": ("xlrate.cli.excel", "doctor_cmd"),
}


class LazyGroup(click.Group):
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
def cli() -> None:
    """xlrate: compare what your payers pay with Medicare, to the cent.

    \b
    Examples:
      xlrate demo                          build the demo workbook
      xlrate price 99213 --zip 94110       what Medicare pays in San Francisco
      xlrate build --profile practice.toml build your own analysis
    """


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, prog_name="xlrate", standalone_mode=False)
    except XlrateError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
