"""E-mail: compose a message with a workbook attached, send it by SMTP, or write an .eml draft.

Settings come from the environment (``XLRATE_SMTP_HOST``, ``_PORT``, ``_STARTTLS``,
``_USER``, ``_FROM``) or the practice profile's ``[smtp]`` table (:class:`xlrate.profile.SmtpSpec`,
read and checked by :mod:`xlrate.profile`); the environment wins. The password comes from
``XLRATE_SMTP_PASSWORD`` or the system keyring (service ``xlrate-smtp``, the user name); it
is never written to a file, the profile or the workbook. :func:`write_eml` writes the same
message as a draft for mail programs (``X-Unsent: 1``).

A leaf of the package: nothing below imports it. :func:`email_workbook` is the one call the
``xlrate email`` command and the Excel button make.
"""

from __future__ import annotations

import os
import smtplib
import socket
import ssl
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from xlrate.errors import ShareError
from xlrate.files import atomic_path
from xlrate.profile import KEYRING_SERVICE, SmtpSpec, load_smtp
from xlrate.report.readback import headline
from xlrate.report.shared import Functions, SharedCopy, prepare_shared_copy

XLSX_MIME = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _header(value: str, what: str) -> str:
    """A header value, refused when it carries a line break (header injection)."""
    if "\r" in value or "\n" in value:
        raise ShareError(f"{what} {value!r} contains a line break: give it on one line")
    return value


# ---------------------------------------------------------------------------- the message


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
    message["Subject"] = _header(
        subject or f"Payer rates vs Medicare: {attachment.stem}", "--subject"
    )
    message["From"] = _header(
        sender or os.environ.get("XLRATE_SMTP_FROM") or "xlrate@localhost",
        "the sender (XLRATE_SMTP_FROM or [smtp] from)",
    )
    message["To"] = ", ".join(_header(address, "--to") for address in to)
    if cc:
        message["Cc"] = ", ".join(_header(address, "--cc") for address in cc)
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
    with atomic_path(path) as tmp:
        tmp.write_bytes(message.as_bytes())
    return path


# ---------------------------------------------------------------------------- SMTP


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


def smtp_settings(profile: SmtpSpec | None = None) -> SmtpSettings:
    """SMTP settings from the environment, then the profile's ``[smtp]`` table.

    The environment wins so one send can go elsewhere without editing the profile.
    """
    spec = profile or SmtpSpec()
    env = os.environ
    host = env.get("XLRATE_SMTP_HOST") or spec.host
    if not host:
        raise ShareError(
            "no SMTP server: set XLRATE_SMTP_HOST (and _PORT, _USER) or add an [smtp] table "
            "with host, port, user to the practice profile; or use --eml to write a draft"
        )
    port_text = env.get("XLRATE_SMTP_PORT") or spec.port or 587
    try:
        port = int(port_text)
    except (TypeError, ValueError):
        raise ShareError(f"SMTP port {port_text!r} is not a number") from None
    starttls_value = env.get("XLRATE_SMTP_STARTTLS")
    if starttls_value is not None:
        starttls = _truthy(starttls_value)
    else:
        starttls = spec.starttls if spec.starttls is not None else port == 587
    return SmtpSettings(
        host=str(host),
        port=port,
        starttls=starttls,
        user=env.get("XLRATE_SMTP_USER") or spec.user,
        sender=env.get("XLRATE_SMTP_FROM") or spec.sender,
    )


def smtp_password(user: str) -> str | None:
    """The password for ``user``: ``XLRATE_SMTP_PASSWORD``, else the system keyring."""
    password = os.environ.get("XLRATE_SMTP_PASSWORD")
    if password:
        return password
    try:
        import keyring  # lazy: its backends take ~0.2 s to discover; only a send needs them

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


def profile_smtp(path: Path | str | None) -> SmtpSpec | None:
    """The ``[smtp]`` table of ``path``, or of ``XLRATE_PROFILE`` when no path is given."""
    if path is None:
        path = os.environ.get("XLRATE_PROFILE") or None
    return load_smtp(path) if path is not None else None


def email_workbook(
    workbook: Path | str,
    *,
    to: Sequence[str],
    cc: Sequence[str] = (),
    subject: str | None = None,
    eml: Path | str | None = None,
    profile: Path | str | None = None,
    password: Callable[[str], str | None] = smtp_password,
    functions: Functions | None = None,
) -> tuple[SharedCopy, EmailMessage]:
    """Prepare the shared copy, then send it (or write the .eml draft when ``eml`` is given).

    ``functions``: the Excel functions, for function cells Excel saved no value for
    (:func:`xlrate.report.shared.prepare_shared_copy`).
    """
    spec = profile_smtp(profile)
    settings = None if eml else smtp_settings(spec)
    copy = prepare_shared_copy(workbook, functions=functions)
    sender = settings.sender if settings else os.environ.get("XLRATE_SMTP_FROM")
    if sender is None and spec is not None:
        sender = spec.sender
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
