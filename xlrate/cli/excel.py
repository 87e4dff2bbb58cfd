"""``xlrate addin``, ``xlrate share``, ``xlrate email``: Excel and sharing, from the terminal."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("addin")
def addin_group() -> None:
    """The Excel macro workbook with the xlrate functions and buttons.

    \b
    Examples:
      xlrate addin build                       write xlrate.xlsm here
      xlrate addin build --profile practice.toml --output analysis.xlsm
      xlrate addin build --output ~/xlrate.xlsm --interpreter C:\\py\\pythonw.exe
      xlrate addin install                     use xlwings' add-in instead
    """


@addin_group.command("build")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("xlrate.xlsm"),
    show_default=True,
    help="The .xlsm to write.",
)
@click.option(
    "--template",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Workbook to start from. Default: workbook/template.xlsx.",
)
@click.option(
    "--interpreter",
    metavar="PATH",
    help="Python that Excel starts (pythonw.exe on Windows). Default: xlwings' own setting.",
)
@click.option(
    "--profile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Practice profile: the analysis is built from it, and Rebuild analysis re-reads it.",
)
@click.option("--force", is_flag=True, help="Overwrite the output if it exists.")
def build_cmd(
    output: Path, template: Path | None, interpreter: str | None, profile: Path | None, force: bool
) -> None:
    """Write the macro workbook: functions wired, buttons bound, no setup clicks.

    It holds xlwings' VBA module from the installed xlwings, the function wrappers
    xlwings' generator writes for xlrate's functions, and the buttons Refresh Medicare
    rates, Rebuild analysis, Prepare to share and Email.

    \b
    Examples:
      xlrate addin build --output xlrate.xlsm --force
      xlrate addin build --profile practice.toml --output analysis.xlsm
      xlrate addin build --template analysis.xlsx --output analysis.xlsm
    """
    # lazy: the CLI imports only the command being run
    from xlrate.excel.addin import build_addin

    path = build_addin(
        output, template=template, interpreter=interpreter, force=force, profile=profile
    )
    click.echo(f"Wrote {path}")
    click.echo("Open it in Excel and enable macros; functions need Windows Excel.")


@addin_group.command("install")
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    help="xlwings config file to update. Default: ~/.xlwings/xlwings.conf.",
)
def install_cmd(config: Path | None) -> None:
    """Point xlwings' add-in at the xlrate functions (UDF Modules in xlwings.conf).

    \b
    Example:
      xlrate addin install
    """
    # lazy: the CLI imports only the command being run
    from xlrate.excel.addin import install_instructions, install_user_config

    path = install_user_config(config)
    click.echo(f"Set UDF MODULES in {path}")
    click.echo(install_instructions())


@click.command("share")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help='Where to write. Default: "<workbook> (shared).xlsx" next to it.',
)
def share_cmd(workbook: Path, output: Path | None) -> None:
    """Write a shared copy: values instead of xlrate functions, no macros.

    The copy opens on a machine without Python; its Sources sheet names the Medicare
    data used; an 835's details never leave (only aggregates).

    \b
    Example:
      xlrate share analysis.xlsm
    """
    # lazy: CLI start-up (xlwings, openpyxl)
    from xlrate.excel.functions import FUNCTIONS
    from xlrate.report.shared import prepare_shared_copy

    copy = prepare_shared_copy(workbook, output, functions=FUNCTIONS)
    click.echo(f"Wrote {copy.path} ({len(copy.frozen)} function cell(s) frozen to values)")


@click.command("email")
@click.argument("workbook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--to", "to", multiple=True, required=True, help="Recipient (repeat for more).")
@click.option("--cc", multiple=True, help="Copy to (repeat for more).")
@click.option("--subject", help="Subject line. Default: names the workbook.")
@click.option(
    "--eml",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the message as an .eml draft instead of sending it.",
)
@click.option(
    "--profile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Practice profile with an [smtp] table (host, port, starttls, user, from).",
)
def email_cmd(
    workbook: Path,
    to: tuple[str, ...],
    cc: tuple[str, ...],
    subject: str | None,
    eml: Path | None,
    profile: Path | None,
) -> None:
    """Send the shared copy by email, with the headline numbers in the body.

    SMTP settings come from XLRATE_SMTP_HOST, _PORT, _STARTTLS, _USER, _FROM or the
    profile's [smtp] table; the password from XLRATE_SMTP_PASSWORD or the system keyring
    (service xlrate-smtp), never from a file.

    \b
    Examples:
      xlrate email analysis.xlsm --to partner@example.com
      xlrate email analysis.xlsm --to partner@example.com --eml draft.eml
    """
    # lazy: CLI start-up (keyring, openpyxl)
    from xlrate.email import email_workbook
    from xlrate.excel.functions import FUNCTIONS

    copy, _ = email_workbook(
        workbook, to=to, cc=cc, subject=subject, eml=eml, profile=profile, functions=FUNCTIONS
    )
    if eml:
        click.echo(f"Wrote {eml} with {copy.path.name} attached: open it in your mail program")
    else:
        click.echo(f"Sent {copy.path.name} to {', '.join(to + cc)}")
