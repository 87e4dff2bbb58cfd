"""``xlrate init``, ``xlrate build`` and ``xlrate demo``: the analysis workbook."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import click

from xlrate.errors import InputError
from xlrate.text import terminal_text


def _summary_lines(analysis: object) -> list[str]:
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


def _inputs(profile: object) -> list[Path]:
    """Every file a build reads: none of them may be its output."""
    from xlrate.analysis.profile import Profile

    assert isinstance(profile, Profile)
    paths: list[Path] = [p for p in (profile.path, profile.volumes, profile.charges) if p]
    for payer in profile.payers:
        paths.extend(payer.fees)
        paths.extend(payer.era)
    return paths


def _report(analysis: object, result: object, seconds: float, backup: Path | None = None) -> None:
    from xlrate.analysis import Analysis
    from xlrate.report.workbook import BuildResult

    assert isinstance(analysis, Analysis) and isinstance(result, BuildResult)
    click.echo(f"Built {result.path} in {seconds:.1f} s")
    click.echo(
        f"  {terminal_text(analysis.profile.name)}: Medicare CY{analysis.year} release {analysis.release}, "
        f"locality {analysis.locality}"
        + (f" ({analysis.locality_name})" if analysis.locality_name else "")
    )
    for line in _summary_lines(analysis):
        click.echo(terminal_text(line))  # payer names come from profiles and 835s
    if backup is not None:
        click.echo(f"  (the previous file was kept as {backup.name})")
    for warning in analysis.warnings[:5]:
        click.echo(f"  note: {terminal_text(warning)}", err=True)
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
    from xlrate.analysis.profile import profile_template
    from xlrate.files import prepare_output, write_text_atomic

    if path.is_file() and not force:
        raise click.ClickException(f"{path} already exists: edit it, or pass --force to start over")
    backup = prepare_output(path, force=force, what="profile")
    write_text_atomic(path, profile_template(path.name))
    click.echo(
        f"Wrote {path}: fill in your practice and payers, then run `xlrate build --profile {path}`"
    )
    if backup is not None:
        click.echo(f"  (the previous file was kept as {backup.name})")


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
    from xlrate.analysis import analyze, with_payers
    from xlrate.analysis.profile import PayerSpec, Profile, load_profile, parse_percent
    from xlrate.files import check_output, prepare_output
    from xlrate.report import build_workbook

    started = time.perf_counter()
    profile = load_profile(profile_path) if profile_path else Profile(name="My practice")
    if len(payers) < len(fees) or len(payers) > len(fees) + (1 if era else 0):
        raise click.UsageError(
            "give one --payer per --fees file (and one more for --era files without --fees)"
        )
    goal = parse_percent(target, "--target") if target is not None else 1.25
    extra: list[PayerSpec] = []
    for path, name in zip(fees, payers, strict=False):
        extra.append(PayerSpec(name=name, fees=(path,), target=goal))
    if era:
        name = payers[-1] if payers else _era_payer(era)
        match = [p for p in extra if p.name == name]
        if match:
            extra[extra.index(match[0])] = replace(match[0], era=era)
        else:
            existing = [p for p in profile.payers if p.name == name]
            extra.append(
                replace(existing[0], era=era)
                if existing
                else PayerSpec(name=name, era=era, target=goal)
            )
    profile = with_payers(profile, extra)
    changes: dict[str, object] = {}
    if locality:
        changes.update(locality=locality, zip=None)
    elif zip_code:
        changes.update(zip=zip_code, locality=None)
    if year:
        changes["year"] = year
    if release:
        changes["release"] = release
    profile = replace(profile, **changes)  # type: ignore[arg-type]
    if not profile.locality and not profile.zip:
        raise InputError(
            'no Medicare locality: put locality = "10112-00" (or zip) in the profile, or pass --locality'
        )
    out = output or (profile.output if profile_path else Path("analysis.xlsx"))
    check_output(out, inputs=[*_inputs(profile), template], force=force, what="workbook")
    analysis = analyze(profile)
    backup = prepare_output(out, inputs=[*_inputs(profile), template], force=force)
    result = build_workbook(analysis, out, template=template, force=True)
    _report(analysis, result, time.perf_counter() - started, backup)


def _era_payer(paths: tuple[Path, ...]) -> str:
    from xlrate.practice.era835 import read_era

    by_payer = read_era(list(paths)).by_payer
    if len(by_payer):
        return str(by_payer["payer"].iloc[0]).title()
    return "835 payer"


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
    An existing file at --output is replaced and kept as a numbered .bak.

    \b
    Example:
      xlrate demo --output demo.xlsx
    """
    from xlrate.analysis import analyze, load_profile
    from xlrate.demo import demo_profile_path
    from xlrate.files import check_output, prepare_output
    from xlrate.report import build_workbook

    started = time.perf_counter()
    profile = load_profile(demo_profile_path())
    check_output(output, inputs=[template], force=True, what="workbook")
    analysis = analyze(profile)
    backup = prepare_output(output, inputs=[template], force=True)
    result = build_workbook(analysis, output, template=template, force=True)
    _report(analysis, result, time.perf_counter() - started, backup)
