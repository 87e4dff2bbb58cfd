"""Sharing the finished workbook: a shared copy, and an email (or .eml draft) carrying it.

The shared copy (:func:`prepare_shared_copy`) is an ``.xlsx`` next to the workbook that
opens on a machine without Python or xlrate:

- every cell that calls an xlrate function (``PCT_MEDICARE``, ``MEDICARE_RATE``,
  ``MEDICARE_LOCALITY``) holds the value instead: the value Excel last computed, or, for a
  workbook Excel never calculated, the value the function returns now;
- no macros, no buttons, no ``xlwings.conf`` sheet;
- the Sources sheet lists the Medicare release(s) used, with CMS's files and checksums,
  and when and from what the copy was made;
- nothing from an 835 but aggregates: a cell holding X12 segment text, or a column whose
  heading names patient, member or claim identifiers, stops the copy with the cell named.

Email (:func:`send_email`) goes through SMTP with settings from the practice profile's
``[smtp]`` table or the environment (``XLRATE_SMTP_HOST``, ``_PORT``, ``_STARTTLS``,
``_USER``, ``_FROM``). The password comes from ``XLRATE_SMTP_PASSWORD`` or the system
keyring (service ``xlrate-smtp``, the user name); it is never written to a file, the
profile or the workbook. :func:`write_eml` writes the same message as a draft for mail
programs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import re
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from xlrate.errors import ShareError
from xlrate.files import atomic_path, describe_os_error, describe_read_error, save_workbook

#: Names of the xlrate worksheet functions, as they appear in formulas.
ADDIN_FUNCTIONS = ("PCT_MEDICARE", "MEDICARE_RATE", "MEDICARE_LOCALITY")
_FUNCTION_RE = re.compile(
    r"(?:'[^']*'!|\[\d+\]!|[A-Za-z0-9_.\\:]+!)?\b(" + "|".join(ADDIN_FUNCTIONS) + r")\s*\(",
    re.IGNORECASE,
)
SOURCES_SHEET = "Sources"
#: Sheets the shared copy never carries.
DROPPED_SHEETS = ("xlwings.conf", "_xlwings.conf")
# X12 segments that carry people or claims: their text in a cell means raw 835 content.
_X12_RE = re.compile(r"(?:^|[~\s])(?:ISA|GS|ST|CLP|NM1|SVC|CAS|DTM|REF|N1)\*", re.MULTILINE)
_PRIVATE_HEADING_RE = re.compile(
    r"\b(patient\s*(?:name|id|account)|member\s*(?:id|name)|subscriber\s*(?:id|name)|"
    r"insured\s*(?:id|name)|claim\s*(?:number|no\b|id|#)|icn|date\s*of\s*birth|dob)",
    re.IGNORECASE,
)

_EXCEL_ERRORS = frozenset(
    ("#NAME?", "#VALUE!", "#N/A", "#REF!", "#DIV/0!", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")
)
XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --------------------------------------------------------------------------------------
# The shared copy
# --------------------------------------------------------------------------------------


@dataclass
class SharedCopy:
    """What :func:`prepare_shared_copy` wrote."""

    path: Path
    frozen: dict[str, Any] = field(default_factory=dict)  # "Sheet!A1" -> value now in the cell
    dropped_sheets: list[str] = field(default_factory=list)
    releases: list[str] = field(default_factory=list)


def shared_copy_path(workbook: Path) -> Path:
    """``<name> (shared).xlsx`` next to the workbook."""
    stem = workbook.stem.removesuffix(" (shared)")
    return workbook.with_name(f"{stem} (shared).xlsx")


def calls_addin_function(formula: object) -> bool:
    return isinstance(formula, str) and bool(_FUNCTION_RE.search(formula))


def _formula_text(value: object) -> str | None:
    """The formula text of an openpyxl cell value (plain, array or data-table formula)."""
    if isinstance(value, str) and value.startswith("="):
        return value
    text = getattr(value, "text", None)
    if isinstance(text, str):
        return text if text.startswith("=") else "=" + text
    return None


_REF_RE = re.compile(
    r"^(?:(?P<sheet>'(?:[^']|'')+'|[A-Za-z0-9_.]+)!)?"
    r"(?P<a>\$?[A-Za-z]{1,3}\$?\d+)(?::(?P<b>\$?[A-Za-z]{1,3}\$?\d+))?$"
)
_CALL_RE = re.compile(
    r"^=\s*(?:_xludf\.|'[^']*'!|\[\d+\]!)?(?P<name>"
    + "|".join(ADDIN_FUNCTIONS)
    + r")\s*\((?P<args>.*)\)\s*$",
    re.IGNORECASE | re.DOTALL,
)


def _split_args(text: str) -> list[str]:
    args: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            args.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    args.append("".join(current).strip())
    return args if text.strip() else []


class _Unfreezable(Exception):
    pass


def _evaluate_call(formula: str, sheet_name: str, values: Any, formulas: Any) -> Any:
    """Evaluate ``=FUNC(arg, ...)`` whose arguments are cells, ranges or constants."""
    from openpyxl.utils.cell import range_boundaries

    from xlrate.excel import functions

    match = _CALL_RE.match(formula)
    if not match:
        raise _Unfreezable(formula)

    def cell_value(ws_values: Any, ws_formulas: Any, row: int, col: int) -> Any:
        value = ws_values.cell(row, col).value
        if value is None:
            raw = ws_formulas.cell(row, col).value
            if _formula_text(raw) is None:
                value = raw
        return value

    args: list[Any] = []
    for text in _split_args(match.group("args")):
        if text == "":
            args.append(None)
        elif text.startswith('"') and text.endswith('"'):
            args.append(text[1:-1].replace('""', '"'))
        elif text.upper() in ("TRUE", "FALSE"):
            args.append(text.upper() == "TRUE")
        elif re.fullmatch(r"[-+]?\d+(?:\.\d+)?", text):
            args.append(float(text))
        else:
            ref = _REF_RE.match(text)
            if not ref:
                raise _Unfreezable(formula)
            target = ref.group("sheet") or sheet_name
            target = target[1:-1].replace("''", "'") if target.startswith("'") else target
            if target not in values.sheetnames:
                raise _Unfreezable(formula)
            ws_v, ws_f = values[target], formulas[target]
            a = ref.group("a").replace("$", "")
            b = (ref.group("b") or ref.group("a")).replace("$", "")
            min_col, min_row, max_col, max_row = range_boundaries(f"{a}:{b}")
            assert min_col and min_row and max_col and max_row
            if (min_col, min_row) == (max_col, max_row):
                args.append(cell_value(ws_v, ws_f, min_row, min_col))
            else:
                args.append(
                    [
                        [cell_value(ws_v, ws_f, r, c) for c in range(min_col, max_col + 1)]
                        for r in range(min_row, max_row + 1)
                    ]
                )
    fn = functions.FUNCTIONS[match.group("name").upper()]
    return fn(*args)


def _grid(result: Any) -> list[list[Any]]:
    if isinstance(result, list):
        if result and isinstance(result[0], list):
            return result
        return [[v] for v in result]
    return [[result]]


def _check_private(ws: Any) -> None:
    """Refuse cells that carry raw 835 content or identify people and claims."""
    for row in ws.iter_rows():
        for cell in row:
            value = cell.value
            if not isinstance(value, str) or value.startswith("="):
                continue
            if _X12_RE.search(value):
                raise ShareError(
                    f"{ws.title}!{cell.coordinate} holds raw 835 (X12) text; a shared copy "
                    "carries only aggregates: remove that cell and try again"
                )
            if cell.row <= 30 and _PRIVATE_HEADING_RE.search(value) and len(value) <= 40:
                raise ShareError(
                    f"{ws.title}!{cell.coordinate} is headed {value!r}: patient, member and "
                    "claim identifiers from an 835 may not leave the practice; remove that "
                    "column and try again"
                )


def _releases_named(wb: Any) -> list[str]:
    """Release ids the workbook mentions: MedicareRelease, or ids such as 2025D in Sources."""
    found: list[str] = []
    for name in ("MedicareRelease", "Release"):
        if name in wb.defined_names:
            for sheet, coord in wb.defined_names[name].destinations:
                if sheet in wb.sheetnames:
                    value = wb[sheet][coord.replace("$", "")].value
                    if isinstance(value, str) and re.fullmatch(r"\d{4}[A-D]", value.strip()):
                        found.append(value.strip().upper())
    if SOURCES_SHEET in wb.sheetnames:
        for row in wb[SOURCES_SHEET].iter_rows(values_only=True):
            for value in row:
                if isinstance(value, str):
                    found += re.findall(r"\b(20\d\d[A-D])\b", value)
    return list(dict.fromkeys(found))


def _complete_sources(wb: Any, workbook: Path, frozen: int) -> list[str]:
    """Make sure the Sources sheet names the Medicare data and how this copy was made."""
    from xlrate.medicare import store

    ws = wb[SOURCES_SHEET] if SOURCES_SHEET in wb.sheetnames else wb.create_sheet(SOURCES_SHEET)
    existing = "\n".join(
        str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None
    )
    releases = _releases_named(wb)
    if not releases:
        try:
            releases = [store.resolve_release().release_id]
        except Exception:
            releases = []
    known = {info.release_id: info for info in store.list_releases()}
    rows: list[tuple[Any, ...]] = []
    for release_id in releases:
        info = known.get(release_id)
        if info is None:
            continue
        prov = info.provenance
        for entry in prov.get("files", []):
            sha = str(entry.get("sha256", ""))
            if sha and sha in existing:
                continue
            rows.append(
                (
                    f"Medicare PFS {release_id}",
                    entry.get("name"),
                    f"sha256 {sha}",
                    prov.get("source_url") or prov.get("landing_page") or "",
                )
            )
        cf = prov.get("conversion_factor")
        if cf and f"{release_id} conversion factor" not in existing:
            rows.append(
                (f"Medicare PFS {release_id} conversion factor", cf, prov.get("release_date"), "")
            )
    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    rows.append(
        (
            "Shared copy",
            f"made {now} from {workbook.name}",
            f"{frozen} xlrate function cell(s) replaced by their values",
            "no macros; 835 data as aggregates only",
        )
    )
    start = ws.max_row + 2 if ws.max_row > 1 or ws["A1"].value is not None else 1
    for offset, values in enumerate(rows):
        for col, value in enumerate(values, start=1):
            ws.cell(start + offset, col, value)
    return releases


def prepare_shared_copy(
    workbook: Path | str, output: Path | str | None = None, *, force: bool = True
) -> SharedCopy:
    """Write the shared ``.xlsx`` copy of ``workbook`` and return what it holds.

    Raises :class:`ShareError` naming the cell when a function call cannot be frozen (a
    formula that mixes the function with other arithmetic, in a workbook Excel never
    calculated) or when the workbook carries 835 detail.
    """
    import openpyxl

    source = Path(workbook)
    if not source.is_file():
        raise ShareError(f"workbook {source} not found")
    target = Path(output) if output else shared_copy_path(source)
    if target.suffix.lower() != ".xlsx":
        raise ShareError(f"{target}: the shared copy is an .xlsx (no macros); name it so")
    if target.resolve() == source.resolve():
        raise ShareError(f"{target} is the workbook itself: choose another name")
    if target.exists() and not force:
        raise ShareError(f"{target} exists: pass --force to replace it")
    try:
        formulas = openpyxl.load_workbook(source, keep_vba=False, keep_links=False)
        values = openpyxl.load_workbook(source, data_only=True, keep_links=False)
    except Exception as exc:
        raise ShareError(f"cannot read {source}: {describe_read_error(exc)}") from None

    copy = SharedCopy(path=target)
    for name in DROPPED_SHEETS:
        if name in formulas.sheetnames:
            del formulas[name]
            copy.dropped_sheets.append(name)

    pending: list[tuple[Any, Any, str]] = []
    for ws in formulas.worksheets:
        ws_values = values[ws.title]
        for row in ws.iter_rows():
            for cell in row:
                text = _formula_text(cell.value)
                if text is None or not calls_addin_function(text):
                    continue
                cached = ws_values[cell.coordinate].value
                if isinstance(cached, str) and cached in _EXCEL_ERRORS:
                    # Excel could not call Python (a Mac, no add-in): compute it here.
                    cached = None
                if cached is not None:
                    cell.value = cached
                    copy.frozen[f"{ws.title}!{cell.coordinate}"] = cached
                else:
                    pending.append((ws, cell, text))
    for ws, cell, text in pending:
        try:
            result = _evaluate_call(text, ws.title, values, formulas)
        except _Unfreezable:
            raise ShareError(
                f"{ws.title}!{cell.coordinate} ({text}) has no value saved by Excel and is "
                "not a plain call xlrate can evaluate: open the workbook in Excel, let it "
                "calculate, save, and try again"
            ) from None
        for dr, out_row in enumerate(_grid(result)):
            for dc, value in enumerate(out_row):
                target_cell = ws.cell(cell.row + dr, cell.column + dc)
                if (dr, dc) != (0, 0) and target_cell.value not in (None, ""):
                    continue  # never overwrite a cell the spill would not have
                if isinstance(value, float) and math.isnan(value):
                    value = None
                target_cell.value = value
                copy.frozen[f"{ws.title}!{target_cell.coordinate}"] = value

    for name in list(formulas.defined_names):
        if calls_addin_function(formulas.defined_names[name].attr_text):
            del formulas.defined_names[name]
    for ws in formulas.worksheets:
        for name in list(ws.defined_names):
            if calls_addin_function(ws.defined_names[name].attr_text):
                del ws.defined_names[name]
        _check_private(ws)
        for row in ws.iter_rows():
            for cell in row:
                if calls_addin_function(_formula_text(cell.value)):
                    raise ShareError(f"{ws.title}!{cell.coordinate} still calls an xlrate function")

    copy.releases = _complete_sources(formulas, source, len(copy.frozen))
    formulas.vba_archive = None
    try:
        with atomic_path(target, backup=True) as tmp:  # a replaced copy is kept as .bak
            save_workbook(formulas, tmp)
    except OSError as exc:
        raise ShareError(describe_os_error(exc, target, open_elsewhere=True)) from None
    return copy


# --------------------------------------------------------------------------------------
# The message
# --------------------------------------------------------------------------------------


def headline(workbook: Path | str) -> list[str]:
    """The headline numbers, as lines: weighted % of Medicare per payer, revenue at stake.

    Read from the Summary sheet the report writes: the values Excel saved, or, for a
    workbook no spreadsheet has calculated yet (as ``xlrate build`` writes it), the values
    of its formulas computed by pyopenvba's formula engine. An empty list when the
    workbook has no such table, so the message still goes out.
    """
    import openpyxl
    from openpyxl.utils import get_column_letter

    path = Path(workbook)
    try:
        wb = openpyxl.load_workbook(path, data_only=True, read_only=True)
    except Exception:
        return []
    try:
        sheet = next((n for n in ("Summary", "Payers") if n in wb.sheetnames), None)
        if sheet is None:
            return []
        ws = wb[sheet]
        lines = _headline_lines([list(r) for r in ws.iter_rows(values_only=True)])
        extent = f"A1:{get_column_letter(max(ws.max_column or 1, 1))}{max(ws.max_row or 1, 1)}"
    finally:
        wb.close()
    if lines is None:  # formulas without saved values
        try:
            from pyopenvba.apps.excel import ExcelApplication

            app = ExcelApplication.open(path, with_vba=False)
            computed = app.sheet(sheet).value(extent)
            lines = _headline_lines(computed if isinstance(computed, list) else [[computed]])
        except Exception:
            lines = None
    return lines or []


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _headline_lines(rows: list[list[Any]]) -> list[str] | None:
    """Lines from the payer table; None when its numbers have not been calculated."""
    for i, row in enumerate(rows):
        labels = [str(v).strip().lower() if isinstance(v, str) else "" for v in row]
        payer_col = next((j for j, v in enumerate(labels) if v == "payer"), None)
        pct_col = next((j for j, v in enumerate(labels) if "% of medicare" in v), None)
        if payer_col is None or pct_col is None:
            continue
        stake_col = next(
            (j for j, v in enumerate(labels) if "at stake" in v or "shortfall" in v), None
        )
        lines: list[str] = []
        total: float | None = None
        for data in rows[i + 1 :]:
            payer = data[payer_col] if payer_col < len(data) else None
            if payer in (None, ""):
                break
            pct = _number(data[pct_col]) if pct_col < len(data) else None
            if pct is None:
                return None
            line = f"{payer}: {pct * 100:.0f}% of Medicare (weighted by volume)"
            stake = (
                _number(data[stake_col])
                if stake_col is not None and stake_col < len(data)
                else None
            )
            if stake is not None:
                line += f", {_money(stake)} a year below target"
                if str(payer).strip().lower() == "all payers":
                    total = stake
            lines.append(line)
        if total is not None:
            lines.append(f"Revenue at stake: {_money(total)} a year (every payer at its target)")
        return lines
    return []


def _money(value: Any) -> str:
    number = _number(value)
    return f"${number:,.0f}" if number is not None else str(value)


def compose_message(
    attachment: Path,
    *,
    to: Sequence[str],
    cc: Sequence[str] = (),
    sender: str | None = None,
    subject: str | None = None,
    lines: Iterable[str] = (),
) -> EmailMessage:
    """The email: a short body with the headline numbers, the shared copy attached."""
    if not to:
        raise ShareError("no recipient: give --to ADDRESS")
    message = EmailMessage()
    message["Subject"] = subject or f"Payer rates vs Medicare: {attachment.stem}"
    message["From"] = sender or os.environ.get("XLRATE_SMTP_FROM") or "xlrate@localhost"
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="xlrate.local")
    body = ["Hello,", "", f"Attached: {attachment.name}, our payer rates against Medicare."]
    numbers = list(lines)
    if numbers:
        body += ["", "Headline numbers:"] + [f"  - {line}" for line in numbers]
    body += [
        "",
        "Values only: the file opens in Excel without add-ins or macros.",
        "",
        "Sent with xlrate",
    ]
    message.set_content("\n".join(body))
    message.add_attachment(
        attachment.read_bytes(),
        maintype=XLSX_MIME[0],
        subtype=XLSX_MIME[1],
        filename=attachment.name,
    )
    return message


def write_eml(message: EmailMessage, path: Path | str) -> Path:
    """Write ``message`` as an .eml draft (``X-Unsent: 1`` opens it for editing in Outlook)."""
    path = Path(path)
    if "X-Unsent" not in message:
        message["X-Unsent"] = "1"
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, backup=True) as tmp:
        tmp.write_bytes(message.as_bytes())
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------
# SMTP
# --------------------------------------------------------------------------------------

KEYRING_SERVICE = "xlrate-smtp"


@dataclass(frozen=True)
class SmtpSettings:
    """Where and as whom to send; the password is looked up only when sending."""

    host: str
    port: int = 587
    starttls: bool = True
    user: str | None = None
    sender: str | None = None

    @property
    def implicit_tls(self) -> bool:
        return self.port == 465


def _truthy(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


def smtp_settings(profile: dict[str, Any] | None = None) -> SmtpSettings:
    """SMTP settings from the environment, then the profile's ``[smtp]`` table.

    The environment wins so one send can go elsewhere without editing the profile.
    """
    table: dict[str, Any] = dict((profile or {}).get("smtp", {}) or {})
    if "password" in table:
        raise ShareError(
            "the practice profile's [smtp] table holds a password: remove it; set "
            f"XLRATE_SMTP_PASSWORD or store it in the system keyring (service {KEYRING_SERVICE!r})"
        )
    env = os.environ
    host = env.get("XLRATE_SMTP_HOST") or table.get("host")
    if not host:
        raise ShareError(
            "no SMTP server: set XLRATE_SMTP_HOST (and _PORT, _USER) or add an [smtp] table "
            "with host, port, user to the practice profile; or use --eml to write a draft"
        )
    port_text = env.get("XLRATE_SMTP_PORT") or table.get("port") or 587
    try:
        port = int(port_text)
    except (TypeError, ValueError):
        raise ShareError(f"SMTP port {port_text!r} is not a number") from None
    starttls_value = env.get("XLRATE_SMTP_STARTTLS")
    if starttls_value is not None:
        starttls = _truthy(starttls_value)
    else:
        starttls = bool(table.get("starttls", port == 587))
    return SmtpSettings(
        host=str(host),
        port=port,
        starttls=starttls,
        user=env.get("XLRATE_SMTP_USER") or table.get("user"),
        sender=env.get("XLRATE_SMTP_FROM") or table.get("from") or table.get("sender"),
    )


def smtp_password(user: str) -> str | None:
    """The password for ``user``: ``XLRATE_SMTP_PASSWORD``, else the system keyring."""
    password = os.environ.get("XLRATE_SMTP_PASSWORD")
    if password:
        return password
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, user)
    except Exception:
        return None  # no usable keyring backend on this machine


def send_email(
    message: EmailMessage,
    settings: SmtpSettings,
    *,
    password: Callable[[str], str | None] = smtp_password,
    timeout: float = 30.0,
) -> None:
    """Send ``message``; any failure is one :class:`ShareError` saying what to check."""
    where = f"{settings.host}:{settings.port}"
    try:
        smtp: smtplib.SMTP
        if settings.implicit_tls:
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        with smtp:
            smtp.ehlo()
            if settings.starttls and not settings.implicit_tls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if settings.user:
                secret = password(settings.user)
                if not secret:
                    raise ShareError(
                        f"no SMTP password for {settings.user}: set XLRATE_SMTP_PASSWORD or "
                        f"store it with: keyring set {KEYRING_SERVICE} {settings.user}"
                    )
                smtp.login(settings.user, secret)
            refused = smtp.send_message(message)
    except ShareError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise ShareError(
            f"the SMTP server {where} refused the login for {settings.user} "
            f"({exc.smtp_code}): check the user name and the password in "
            f"XLRATE_SMTP_PASSWORD or the keyring ({KEYRING_SERVICE})"
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise ShareError(
            f"the SMTP server {where} does not support {exc}: check XLRATE_SMTP_STARTTLS "
            "and the port (587 STARTTLS, 465 TLS)"
        ) from None
    except (ConnectionRefusedError, socket.gaierror, TimeoutError) as exc:
        raise ShareError(
            f"cannot connect to the SMTP server {where}: {exc.strerror or exc}; check "
            "XLRATE_SMTP_HOST and XLRATE_SMTP_PORT, or use --eml to write a draft instead"
        ) from None
    except ssl.SSLError as exc:
        raise ShareError(f"TLS with the SMTP server {where} failed: {exc.reason or exc}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise ShareError(
            f"the SMTP server {where} refused every recipient: {', '.join(exc.recipients)}"
        ) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise ShareError(f"sending through the SMTP server {where} failed: {exc}") from None
    if refused:
        raise ShareError(
            f"the SMTP server {where} refused some recipients: {', '.join(sorted(refused))}"
        )


def load_profile_table(path: Path | str | None) -> dict[str, Any]:
    """The profile TOML as a plain table (only ``[smtp]`` is read here)."""
    if path is None:
        env = os.environ.get("XLRATE_PROFILE")
        if not env:
            return {}
        path = env
    path = Path(path)
    if not path.is_file():
        raise ShareError(f"profile {path} not found")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except Exception as exc:
        raise ShareError(f"cannot read profile {path}: {exc}") from exc


def email_workbook(
    workbook: Path | str,
    *,
    to: Sequence[str],
    cc: Sequence[str] = (),
    subject: str | None = None,
    eml: Path | str | None = None,
    profile: Path | str | None = None,
    password: Callable[[str], str | None] = smtp_password,
) -> tuple[SharedCopy, EmailMessage]:
    """Prepare the shared copy, then send it (or write the .eml draft when ``eml`` is given)."""
    table = load_profile_table(profile)
    settings = None if eml else smtp_settings(table)
    copy = prepare_shared_copy(workbook)
    sender = settings.sender if settings else os.environ.get("XLRATE_SMTP_FROM")
    if sender is None:
        sender = (table.get("smtp") or {}).get("from")
    message = compose_message(
        copy.path,
        to=to,
        cc=cc,
        sender=sender,
        subject=subject,
        lines=headline(workbook),
    )
    if eml:
        write_eml(message, eml)
    else:
        assert settings is not None
        send_email(message, settings, password=password)
    return copy, message
