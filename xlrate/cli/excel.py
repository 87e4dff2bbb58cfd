"""``xlrate addin``, ``xlrate share``, ``xlrate email``: Excel and sharing, from the terminal."""

from __future__ import annotations

import os
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
    help="The file to write. Default: xlrate.xlsm (xlrate-lite.xlsx with --lite).",
)
@click.option(
    "--template",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Workbook to start from. Default: workbook/template.xlsx.",
)
@click.option(
    "--interpreter",
    metavar="PATH",
    help="Python that Excel starts. Default: the Python running this command.",
)
@click.option(
    "--interpreter-win", metavar="PATH", help="Python for Excel on Windows (pythonw.exe)."
)
@click.option("--interpreter-mac", metavar="PATH", help="Python for Excel on Mac.")
@click.option(
    "--lite",
    is_flag=True,
    help="Write the xlwings Lite edition: a plain .xlsx for Windows, Mac and Excel on the web.",
)
@click.option("--locality", default="NATIONAL", show_default=True, help="(--lite) Locality cell.")
@click.option("--year", type=int, help="(--lite) MedicareYear cell; empty: the release in force.")
@click.option(
    "--package",
    metavar="REQUIREMENT",
    help="(--lite) How Lite installs xlrate: default the PyPI release; or a wheel URL (CORS).",
)
@click.option(
    "--profile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Practice profile: the analysis is built from it, and Rebuild analysis re-reads it.",
)
@click.option(
    "--force", is_flag=True, help="Replace the output if it exists (the old file is kept as .bak)."
)
def build_cmd(
    output: Path | None,
    template: Path | None,
    interpreter: str | None,
    interpreter_win: str | None,
    interpreter_mac: str | None,
    lite: bool,
    locality: str,
    year: int | None,
    package: str | None,
    profile: Path | None,
    force: bool,
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
      xlrate addin build --lite --locality 01112-05 --output xlrate-lite.xlsx
    """
    if lite:
        from xlrate.excel.lite import build_lite  # lazy: the CLI imports only what it runs
        from xlrate.files import prepare_output  # lazy: the CLI loads only the command being run

        target = output or Path("xlrate-lite.xlsx")
        backup = prepare_output(target, force=force, what="Lite workbook")
        path = build_lite(target, locality=locality, year=year, package=package, force=True)
        click.echo(f"Wrote {path}")
        if backup is not None:
            click.echo(f"  (the previous file was kept as {backup.name})")
        click.echo(
            "Open it in Excel (Windows, Mac or the web) with the free xlwings Lite add-in: "
            "it installs xlrate and registers the functions. See docs/excel.md."
        )
        return
    # lazy: the CLI imports only the command being run
    from xlrate.excel.addin import build_addin
    from xlrate.files import prepare_output

    output = output or Path("xlrate.xlsm")
    backup = prepare_output(output, inputs=[template, profile], force=force, what="add-in")
    path = build_addin(
        output,
        template=template,
        interpreter=interpreter,
        interpreter_win=interpreter_win,
        interpreter_mac=interpreter_mac,
        force=True,
        profile=profile,
    )
    click.echo(f"Wrote {path}")
    if backup is not None:
        click.echo(f"  (the previous file was kept as {backup.name})")
    click.echo(
        "Open it in Excel and enable macros. Functions: Windows Excel (Mac and the web: "
        "use --lite). Buttons on Mac: run `xlwings runpython install` once."
    )


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
@click.option(
    "--force", is_flag=True, help="Replace an existing copy (the old file is kept as .bak)."
)
def share_cmd(workbook: Path, output: Path | None, force: bool) -> None:
    """Write a shared copy: values instead of xlrate functions, no macros.

    The copy opens on a machine without Python; its Sources sheet names the Medicare
    data used; an 835's details never leave (only aggregates).

    \b
    Example:
      xlrate share analysis.xlsm
    """
    # lazy: CLI start-up (xlwings, openpyxl)
    from xlrate.files import prepare_output
    from xlrate.report.shared import prepare_shared_copy, shared_copy_path

    target = output or shared_copy_path(workbook)
    backup = prepare_output(target, inputs=[workbook], force=force, what="shared copy")
    copy = prepare_shared_copy(workbook, output, force=True)
    click.echo(f"Wrote {copy.path} ({len(copy.frozen)} function cell(s) frozen to values)")
    if backup is not None:
        click.echo(f"  (the previous file was kept as {backup.name})")


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
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing shared copy or .eml (the old files are kept as .bak).",
)
def email_cmd(
    workbook: Path,
    to: tuple[str, ...],
    cc: tuple[str, ...],
    subject: str | None,
    eml: Path | None,
    profile: Path | None,
    force: bool,
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
    from xlrate.files import check_output, prepare_output
    from xlrate.report.shared import shared_copy_path
    from xlrate.text import header_text

    for value in to:
        header_text(value, "--to")
    for value in cc:
        header_text(value, "--cc")
    if subject is not None:
        header_text(subject, "--subject")
    header_text(os.environ.get("XLRATE_SMTP_FROM", ""), "XLRATE_SMTP_FROM")
    shared = shared_copy_path(workbook)
    if eml:
        check_output(eml, inputs=[workbook, shared, profile], force=force, what=".eml draft")
    prepare_output(shared, inputs=[workbook, profile], force=force, what="shared copy")
    if eml:
        prepare_output(eml, inputs=[workbook, shared, profile], force=force, what=".eml draft")
    copy, _ = email_workbook(workbook, to=to, cc=cc, subject=subject, eml=eml, profile=profile)
    if eml:
        click.echo(f"Wrote {eml} with {copy.path.name} attached: open it in your mail program")
    else:
        click.echo(f"Sent {copy.path.name} to {', '.join(to + cc)}")


@click.command("doctor")
@click.argument(
    "workbook", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
def doctor_cmd(workbook: Path | None) -> None:
    """Check this computer (and a built workbook) for what the Excel functions need.

    Checks the interpreter the workbook names, xlwings against the DLL its VBA declares,
    the COM server (Windows), xlwings' RunPython script (Mac), the functions module, the
    Medicare data, and a Lite workbook's requirements; prints the fix for each problem.

    \b
    Examples:
      xlrate doctor
      xlrate doctor analysis.xlsm
    """
    from xlrate.excel.doctor import run_checks  # lazy: the CLI loads only the command being run

    checks = run_checks(workbook)
    for check in checks:
        mark = "ok " if check.ok else "FIX"
        click.echo(f"[{mark}] {check.name}: {check.detail}")
        if not check.ok and check.fix:
            click.echo(f"      -> {check.fix}")
    if not all(check.ok for check in checks):
        raise SystemExit(1)
