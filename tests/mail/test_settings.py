"""SLUICE_SMTP_URL and SLUICE_SMTP_PASSWORD: what they select, and clear refusals that
never show the password."""

from __future__ import annotations

import pytest
from sluicegate.cli import main
from sluicegate.mail import SmtpUrlError, smtp_settings


def test_smtp_urls_select_host_port_tls_and_the_password_comes_from_its_own_variable() -> None:
    assert smtp_settings({}) is None
    plain = smtp_settings({"SLUICE_SMTP_URL": "smtp://ops%40acme.test@mail.acme.test",
                           "SLUICE_SMTP_PASSWORD": "s3cret-pw"})
    assert plain is not None
    assert (plain.host, plain.port, plain.tls, plain.starttls, plain.username,
            plain.password) == ("mail.acme.test", 587, False, "auto", "ops@acme.test",
                                "s3cret-pw")
    assert "s3cret-pw" not in repr(plain) and "s3cret-pw" not in plain.describe()
    tls = smtp_settings({"SLUICE_SMTP_URL": "smtps://relay.test"})
    assert tls is not None and (tls.port, tls.tls) == (465, True)
    strict = smtp_settings({"SLUICE_SMTP_URL": "smtp://relay.test:2525?starttls=require"})
    assert strict is not None and (strict.port, strict.starttls) == (2525, "require")


@pytest.mark.parametrize(("url", "words"), [
    ("smtp://me:hunter2@relay.test", "SLUICE_SMTP_PASSWORD"),
    ("http://relay.test", "smtp://"),
    ("smtp://", "no host"),
    ("smtp://relay.test?starttls=maybe", "starttls"),
    ("smtps://relay.test?starttls=off", "smtps://"),
    ("smtp://relay.test?tls=1", "unknown option"),
    ("smtp://relay.test:99999", "not a URL"),
])
def test_unusable_smtp_urls_are_refused_naming_the_variable(url: str, words: str) -> None:
    with pytest.raises(SmtpUrlError) as err:
        smtp_settings({"SLUICE_SMTP_URL": url})
    assert "SLUICE_SMTP_URL" in str(err.value) and words in str(err.value)
    assert "hunter2" not in str(err.value)


def test_a_node_with_an_unusable_smtp_url_exits_2(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SLUICE_SMTP_URL", "smtp://me:hunter2@relay.test")
    assert main(["worker", "--in-process"]) == 2
    err = capsys.readouterr().err
    assert "SLUICE_SMTP_PASSWORD" in err and "hunter2" not in err


def test_help_names_the_smtp_variables(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = capsys.readouterr().out
    assert "SLUICE_SMTP_URL" in out and "SLUICE_SMTP_PASSWORD" in out
