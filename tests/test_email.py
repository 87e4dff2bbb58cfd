"""Email through a real SMTP server (aiosmtpd on 127.0.0.1) and .eml drafts."""

from __future__ import annotations

import email
import email.policy
import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from openpyxl.workbook.defined_name import DefinedName

from xlrate.email import email_workbook
from xlrate.errors import ShareError, XlrateError
from xlrate.excel.functions import FUNCTIONS
from xlrate.report.shared import prepare_shared_copy

USER, PASSWORD = "office@practice.example", "s3cret-pass"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = (
        isinstance(data, LoginPassword)
        and data.login.decode() == USER
        and data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as s:  # a port nothing listens on (once closed)
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        port = controller.port
        monkeypatch.setenv("XLRATE_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("XLRATE_SMTP_PORT", str(port))
        monkeypatch.setenv("XLRATE_SMTP_STARTTLS", "false")
        monkeypatch.setenv("XLRATE_SMTP_USER", USER)
        monkeypatch.setenv("XLRATE_SMTP_FROM", USER)
        monkeypatch.setenv("XLRATE_SMTP_PASSWORD", PASSWORD)
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Summary"
    ws.append(["Payer", "Weighted % of Medicare", "Shortfall to target per year"])
    ws.append(["Aetna", 1.32, 12000])
    ws.append(["Cigna", 1.08, 45500])
    ws.append(["All payers", "=(B2+B3)/2", "=C2+C3"])  # no saved value: computed
    ws["E1"] = '=MEDICARE_RATE(99213,,"NATIONAL")'
    # The names the report writes: the headline is read back by them.
    for name, ref in (
        ("Summary_Payer", "$A$2:$A$3"),
        ("Summary_WeightedPct", "$B$2:$B$3"),
        ("Summary_Shortfall", "$C$2:$C$3"),
        ("Summary_Total_WeightedPct", "$B$4"),
        ("Summary_Total_Shortfall", "$C$4"),
    ):
        wb.defined_names[name] = DefinedName(name, attr_text=f"Summary!{ref}")
    path = tmp_path / "analysis.xlsx"
    wb.save(path)
    return path


def parse(raw: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(raw, policy=email.policy.default)  # type: ignore[return-value]


def attachment(message: email.message.EmailMessage) -> tuple[str, bytes]:
    part = next(message.iter_attachments())
    return part.get_filename() or "", part.get_payload(decode=True)


def test_message_arrives_with_the_shared_copy_byte_identical(smtp: Inbox, workbook: Path) -> None:
    copy, _ = email_workbook(
        workbook,
        functions=FUNCTIONS,
        to=["partner@example.com"],
        cc=["billing@example.com"],
        subject="Q3 rates",
    )
    assert len(smtp.messages) == 1
    recipients, raw = smtp.messages[0]
    assert sorted(recipients) == ["billing@example.com", "partner@example.com"]
    message = parse(raw)
    assert message["Subject"] == "Q3 rates"
    assert message["From"] == USER
    name, data = attachment(message)
    assert name == "analysis (shared).xlsx"
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(copy.path.read_bytes()).hexdigest()
    body = message.get_body(("plain",)).get_content()
    assert "Aetna: 132% of Medicare (weighted by volume), $12,000 a year below target" in body
    assert "Cigna: 108% of Medicare" in body
    assert "All payers: 120% of Medicare" in body
    assert "Revenue at stake: $57,500 a year (every payer at its target)" in body
    assert PASSWORD not in raw.decode("utf-8", "replace")


def test_refused_connection_is_one_clear_error(
    workbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setenv("XLRATE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("XLRATE_SMTP_PORT", str(port))
    monkeypatch.setenv("XLRATE_SMTP_STARTTLS", "0")
    with pytest.raises(ShareError) as info:
        email_workbook(workbook, functions=FUNCTIONS, to=["partner@example.com"])
    text = str(info.value)
    assert text.startswith(f"cannot connect to the SMTP server 127.0.0.1:{port}")
    assert "\n" not in text and "XLRATE_SMTP_HOST" in text


def test_failed_login_is_one_clear_error(
    smtp: Inbox, workbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XLRATE_SMTP_PASSWORD", "wrong")
    with pytest.raises(ShareError) as info:
        email_workbook(workbook, functions=FUNCTIONS, to=["partner@example.com"])
    text = str(info.value)
    assert "refused the login for office@practice.example (535)" in text
    assert "wrong" not in text and "\n" not in text
    assert smtp.messages == []


def test_password_from_keyring_when_not_in_environment(
    smtp: Inbox, workbook: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring

    monkeypatch.delenv("XLRATE_SMTP_PASSWORD")
    asked: list[tuple[str, str]] = []

    def get_password(service: str, user: str) -> str:
        asked.append((service, user))
        return PASSWORD

    monkeypatch.setattr(keyring, "get_password", get_password)
    email_workbook(workbook, functions=FUNCTIONS, to=["partner@example.com"])
    assert asked == [("xlrate-smtp", USER)] and len(smtp.messages) == 1


def test_settings_from_profile_and_password_refused_there(
    smtp: Inbox, workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = int(__import__("os").environ["XLRATE_SMTP_PORT"])
    for name in ("HOST", "PORT", "STARTTLS", "USER", "FROM"):
        monkeypatch.delenv(f"XLRATE_SMTP_{name}")
    profile = tmp_path / "practice.toml"
    profile.write_text(
        f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\nuser = "{USER}"\n'
        'from = "Front desk <office@practice.example>"\n',
        encoding="utf-8",
    )
    email_workbook(workbook, functions=FUNCTIONS, to=["partner@example.com"], profile=profile)
    assert parse(smtp.messages[0][1])["From"] == "Front desk <office@practice.example>"
    profile.write_text(profile.read_text() + 'password = "oops"\n', encoding="utf-8")
    with pytest.raises(XlrateError, match="holds a password: remove it"):
        email_workbook(workbook, functions=FUNCTIONS, to=["partner@example.com"], profile=profile)


def test_eml_draft(workbook: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XLRATE_SMTP_HOST", raising=False)
    draft = tmp_path / "draft.eml"
    copy, _ = email_workbook(workbook, functions=FUNCTIONS, to=["partner@example.com"], eml=draft)
    message = parse(draft.read_bytes())
    assert message["X-Unsent"] == "1" and message["To"] == "partner@example.com"
    name, data = attachment(message)
    assert data == copy.path.read_bytes() and name.endswith("(shared).xlsx")
    assert "Payer rates vs Medicare" in message["Subject"]


def test_no_smtp_settings_says_what_to_do(workbook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XLRATE_SMTP_HOST", raising=False)
    monkeypatch.delenv("XLRATE_PROFILE", raising=False)
    with pytest.raises(ShareError, match="set XLRATE_SMTP_HOST.*--eml"):
        email_workbook(workbook, functions=FUNCTIONS, to=["partner@example.com"])


def test_cli_email(smtp: Inbox, workbook: Path) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "xlrate", "email", str(workbook), "--to", "partner@example.com"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Sent analysis (shared).xlsx to partner@example.com" in result.stdout
    assert len(smtp.messages) == 1


def test_cli_email_failure_is_one_line(workbook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess
    import sys

    port = free_port()
    env = dict(__import__("os").environ, XLRATE_SMTP_HOST="127.0.0.1", XLRATE_SMTP_PORT=str(port))
    result = subprocess.run(
        [sys.executable, "-m", "xlrate", "email", str(workbook), "--to", "a@example.com"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("Error: cannot connect to the SMTP server")


def test_shared_copy_of_plain_workbook(workbook: Path) -> None:
    copy = prepare_shared_copy(workbook, functions=FUNCTIONS)
    assert isinstance(openpyxl.load_workbook(copy.path)["Summary"]["E1"].value, float)


@pytest.mark.parametrize(
    ("field", "value"),
    [("to", ["a@example.com\r\nBcc: evil@example.com"]), ("subject", "Hi\nBcc: evil@example.com")],
)
def test_line_breaks_in_headers_are_one_clear_error(
    workbook: Path, tmp_path: Path, field: str, value: Any
) -> None:
    arguments: dict[str, Any] = {"to": ["partner@example.com"], field: value}
    with pytest.raises(ShareError, match="contains a line break") as err:
        email_workbook(workbook, eml=tmp_path / "draft.eml", functions=FUNCTIONS, **arguments)
    assert "\n" not in str(err.value).replace("\\n", "")
    assert not (tmp_path / "draft.eml").exists()
