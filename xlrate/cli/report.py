"""``xlrate init``, ``xlrate build`` and ``xlrate demo``: the analysis workbook."""

from __future__ import annotations

import time
from pathlib import Path

import click

from xlrate.errors import XlrateError


def _summary_lines(analysis: object) -> list[str]:
    # lazy: the CLI imports only the command being run (pandas, openpyxl)
    from xlrate.analysis import Analysis

    assert isinstance(analysis, Analysis)
    lines = []
    width = max(len(p.name) + (12 if p.synthetic else 0) for p in analysis.payers)
    summary = analysis.summary.set_index("payer")
    for payer in analysis.payers:
        s = summary.loc[payer.name].to_dict()
        label = payer.name + (" (synthetic)" if payer.synthetic else "")
        weighted = s["weighted_pct"]
        if weighted == weighted:  # not NaN: there are volumes to weight by
            lines.append(
                f"  {label:<{width}}  {weighted:6.1%} of Medicare (weighted), {int(s['codes_compared'])} codes, "
                f"${s['shortfall']:,.0f}/yr short of its {s['target']:.0%} target"
            )
        else:
            median = s["median_pct"]
            shown = f"{median:6.1%}" if median == median else "   n/a"
            lines.append(
                f"  {label:<{width}}  {shown} of Medicare (median; no volumes to weight by), "
                f"{int(s['codes_compared'])} codes"
            )
    return lines


def _report(analysis: object, result: object, seconds: float) -> None:
    # lazy: the CLI imports only the command being run (pandas, openpyxl)
    from xlrate.analysis import Analysis
    from xlrate.report.workbook import BuildResult

    assert isinstance(analysis, Analysis) and isinstance(result, BuildResult)
    click.echo(f"Built {result.path} in {seconds:.1f} s")
    click.echo(
        f"  {analysis.profile.name}: Medicare CY{analysis.year} release {analysis.release}, "
        f"locality {analysis.locality}"
        + (f" ({analysis.locality_name})" if analysis.locality_name else "")
    )
    for line in _summary_lines(analysis):
        click.echo(line)
    if result.backup is not None:
        click.echo(f"  (the previous file was kept as {result.backup.name})")
    for warning in analysis.warnings[:5]:
        click.echo(f"  note: {warning}", err=True)
    click.echo(
        "Open it in Excel or LibreOffice: start on Summary; the yellow cells on Scenarios are yours to change."
    )


@click.command("init")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path), default="practice.toml")
@click.option("--force", is_flag=True, help="Replace an existing file.")
def init_cmd(path: Path, force: bool) -> None:
    """Write a commented practice profile to PATH (default practice.toml).

    \b
    Example:
      xlrate init practice.toml
      (edit it: practice name, locality or ZIP, payers and their files)
      xlrate build --profile practice.toml
    """
    # lazy: the CLI imports only the command being run (pandas, openpyxl)
    from xlrate.profile import profile_template

    if path.exists() and not force:
        raise click.ClickException(f"{path} already exists: edit it, or pass --force to start over")
    path.write_text(profile_template(path.name), "utf-8")
    click.echo(
        f"Wrote {path}: fill in your practice and payers, then run `xlrate build --profile {path}`"
    )


@click.command("build")
@click.option(
    "--profile",
    "profile_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The practice profile (TOML; `xlrate init` writes one).",
)
@click.option(
    "--fees",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A payer fee schedule (CSV/XLSX); pair each with a --payer, in order.",
)
@click.option(
    "--payer", "payers", multiple=True, help="The payer of the --fees file in the same position."
)
@click.option(
    "--era",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="835 remittance files; they belong to the --payer named after the last --fees pair.",
)
@click.option(
    "--target",
    type=float,
    default=None,
    help="Target percent of Medicare for payers added here (e.g. 125).",
)
@click.option(
    "--locality", default=None, help="Medicare locality, e.g. 01112-05 (overrides the profile)."
)
@click.option("--zip", "zip_code", default=None, help="ZIP code instead of a locality.")
@click.option("--year", type=int, default=None, help="Medicare year (overrides the profile).")
@click.option(
    "--release", default=None, help="Medicare release, e.g. 2025D (overrides the profile)."
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the workbook (default: the profile's output, or analysis.xlsx).",
)
@click.option(
    "--template",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Your own copy of workbook/template.xlsx (branding).",
)
@click.option(
    "--force", is_flag=True, help="Replace an existing output (the old file is kept as .bak)."
)
def build_cmd(
    profile_path: Path | None,
    fees: tuple[Path, ...],
    payers: tuple[str, ...],
    era: tuple[Path, ...],
    target: float | None,
    locality: str | None,
    zip_code: str | None,
    year: int | None,
    release: str | None,
    output: Path | None,
    template: Path | None,
    force: bool,
) -> None:
    """Build the analysis workbook from a practice profile and/or files on the command line.

    \b
    Examples:
      xlrate build --profile practice.toml
      xlrate build --profile practice.toml --fees bcbs.xlsx --payer "BCBS PPO" --force
      xlrate build --locality 10112-00 --fees aetna.csv --payer Aetna --era remits/*.835 --payer Aetna
    """
    # lazy: the CLI imports only the command being run (pandas, openpyxl)
    from xlrate.analysis import analyze, build_profile
    from xlrate.report import build_workbook

    started = time.perf_counter()
    try:
        profile = build_profile(
            profile_path,
            fees=fees,
            payers=payers,
            era=era,
            target=target,
            locality=locality,
            zip=zip_code,
            year=year,
            release=release,
            output=output,
        )
    except XlrateError as exc:  # a bad option or profile: one line, as for any usage error
        raise click.ClickException(str(exc)) from None
    if profile.output.exists() and not force:
        raise click.ClickException(
            f"{profile.output} already exists: pass --force to replace it (the old file is kept as .bak)"
        )
    analysis = analyze(profile)
    result = build_workbook(analysis, profile.output, template=template, force=force)
    _report(analysis, result, time.perf_counter() - started)


@click.command("demo")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("xlrate-demo.xlsx"),
    show_default=True,
    help="Where to write the demo workbook.",
)
@click.option(
    "--template",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Your own copy of workbook/template.xlsx.",
)
def demo_cmd(output: Path, template: Path | None) -> None:
    """Build the workbook for the sample practice shipped with xlrate (no network needed).

    One payer is Alabama Medicaid's real published fee schedule; the others are synthetic
    and labelled so. Medicare amounts come from the CMS data embedded in the package.
    An existing file at --output is replaced and kept as .bak.

    \b
    Example:
      xlrate demo --output demo.xlsx
    """
    # lazy: the CLI imports only the command being run (pandas, openpyxl)
    from xlrate.analysis import analyze, load_profile
    from xlrate.demo import demo_profile_path
    from xlrate.report import build_workbook

    started = time.perf_counter()
    profile = load_profile(demo_profile_path())
    analysis = analyze(profile)
    result = build_workbook(analysis, output, template=template, force=True)
    _report(analysis, result, time.perf_counter() - started)
