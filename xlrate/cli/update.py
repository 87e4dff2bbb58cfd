"""``xlrate medicare``: refresh the Medicare data from CMS, or install a zip downloaded by hand."""

from __future__ import annotations

import click

from xlrate.cli.medicare import repair_cmd
from xlrate.errors import XlrateError


@click.group("medicare")
def medicare_group() -> None:
    """Get newer Medicare data from CMS.

    \b
    Examples:
      xlrate medicare update                        the release in force today (and next
                                                    year's January release once CMS lists it)
      xlrate medicare update --dry-run              what it would fetch, without downloading
      xlrate medicare update --year 2026 --release C
      xlrate medicare update --schedule clfs        the lab fee schedule (also asp, dmepos, all)
      xlrate medicare install rvu26c.zip            a zip you downloaded yourself
      xlrate medicare repair                        remove damaged installed data
    """


medicare_group.add_command(repair_cmd)


@medicare_group.command("update")
@click.option("--year", type=int, help="Calendar year of the release, e.g. 2026.")
@click.option(
    "--release",
    metavar="A|B|C|D",
    help="Quarterly release: A (January), B (April), C (July), D (October), or a correction "
    "such as AR (2024AR). Default: the one in force today.",
)
@click.option(
    "--schedule",
    type=click.Choice(["pfs", "clfs", "asp", "dmepos", "all"], case_sensitive=False),
    default="pfs",
    show_default=True,
    help="Which fee schedule: pfs (physician RVU files), clfs (lab), asp (Part B drugs), "
    "dmepos (DMEPOS and PEN), or all of them.",
)
@click.option(
    "--zip-file",
    is_flag=True,
    help="Also refresh CMS's ZIP code to carrier locality file.",
)
@click.option("--sha256", metavar="HEX", help="Refuse the RVU zip unless it has this checksum.")
@click.option("--force", is_flag=True, help="Download again even if CMS says it is unchanged.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True, max=3600),
    default=30.0,
    show_default=True,
    help="Network timeout in seconds (more than 0).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Print what would be fetched (page, link, file name, release, effective date); "
    "download nothing.",
)
def update_cmd(
    year: int | None,
    release: str | None,
    schedule: str,
    zip_file: bool,
    sha256: str | None,
    force: bool,
    timeout: float,
    dry_run: bool,
) -> None:
    """Download a quarterly RVU release from CMS, verify it and install it.

    The release in use stays until the new one is completely installed; if anything
    fails, nothing changes. Each release says from when it applies: prices use the one in
    force today (or on --date) even when next year's is installed. Set XLRATE_CMS_BASE_URL
    to use a mirror.

    Without --year and --release: the release in force today, and the next one (next
    year's January release, posted in December) when CMS already lists it.

    \b
    --schedule clfs|asp|dmepos|all refreshes the other schedules the same way (CMS's
    quarterly CLFS, ASP and DMEPOS files; the DMEPOS zip brings the PEN fees too).

    \b
    Examples:
      xlrate medicare update --dry-run
      xlrate medicare update --year 2025 --release D
      xlrate medicare update --schedule clfs --year 2025 --release A
      xlrate medicare update --schedule all --dry-run
    """
    from xlrate.medicare.update import (  # lazy: the CLI loads only the command being run
        HttpOptions,
        refresh,
    )

    try:
        done = refresh(
            schedule,
            year,
            release,
            sha256=sha256,
            force=force,
            zip_file=zip_file,
            dry_run=dry_run,
            options=HttpOptions(timeout=timeout),
        )
    except XlrateError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in done.lines:
        click.echo(line)
    if done.failures:
        raise click.ClickException(" ".join(done.failures))


@medicare_group.command("install")
@click.argument("path", type=click.Path(dir_okay=False, path_type=str))
@click.option("--release", "release_id", metavar="ID", help="Expected release id, e.g. 2025D.")
@click.option("--sha256", metavar="HEX", help="Refuse the zip unless it has this checksum.")
def install_cmd(path: str, release_id: str | None, sha256: str | None) -> None:
    """Verify and install a CMS zip you downloaded yourself (an RVU bundle such as
    rvu25d.zip, or the ZIP code to carrier locality zip).

    \b
    Example:
      xlrate medicare install ~/Downloads/rvu25d.zip
    """
    from xlrate.medicare.update import install_zip  # lazy: the CLI loads only the command being run

    try:
        click.echo(install_zip(path, release_id=release_id, sha256=sha256).message)
    except XlrateError as exc:
        raise click.ClickException(str(exc)) from exc
