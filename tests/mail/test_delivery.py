"""Delivery of `sendmail` after the run through a local SMTP server (aiosmtpd): headers,
Bcc only in the envelope, HTML with a text alternative, attachments; a server that
refuses (permanent failure), one that is down (retried with backoff, the run never
waits); no SMTP configured ("not delivered: no SMTP configured"); claims across nodes.
On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import email
from collections.abc import Iterator
from email import policy
from pathlib import Path

import pytest
from smtplab import SmtpServer, free_port
from sluicegate.cli import main
from sluicegate.mail import NO_SMTP, MailCourier, Outbox, SmtpTransport, smtp_settings
from sluicegate.org import ProfileBook
from sluicegate.store.db import make_engine
from sluicegate.triggers import open_triggers
from sluicegate.triggers.launcher import Actor
from sluicegate.triggers.setup import Triggers

MAILER = '''report = "total,12.50".toFile("report.csv");
sendmail
[
    from: zoho.adminuserid
    to: "ada@client.test", "Bob <bob@client.test>"
    cc: "cc@client.test"
    bcc: "audit@acme.test"
    reply to: "billing@acme.test"
    subject: "Invoice INV-7"
    message: "<p>Dear Ada,</p><p>your invoice is <b>due</b>.</p>"
    attachments: file:report
]
return "queued";
'''


@pytest.fixture
def triggers(db_url: str) -> Iterator[Triggers]:
    engine = make_engine(db_url)
    t = open_triggers(engine, migrate=False, node="mail-test")
    ProfileBook(t.sessions).set({"admin_email": "admin@acme.test"}, by="test")
    t.catalog.save("mailer", MAILER, kind="function")
    yield t
    engine.dispose()


def _run(triggers: Triggers) -> int:
    outcome = triggers.launcher.execute_function("mailer", {}, actor=Actor.named("t"))
    assert outcome.result.ok, outcome.result.error
    assert "files" not in outcome.to_json()["mail"][0]   # no attachment bytes in answers
    return outcome.run_id


def _courier(triggers: Triggers, url: str, node: str = "n1", **outbox: object) -> MailCourier:
    settings = smtp_settings({"SLUICE_SMTP_URL": url})
    assert settings is not None
    return MailCourier(Outbox(triggers.sessions, **outbox),  # type: ignore[arg-type]
                       SmtpTransport(settings), node=node)


def test_mail_is_delivered_after_the_run_with_every_header_and_attachment(
        triggers: Triggers, monkeypatch: pytest.MonkeyPatch) -> None:
    with SmtpServer() as smtp:
        monkeypatch.setenv("SLUICE_SMTP_URL", smtp.url)
        run_id = _run(triggers)
        # recorded with the run, not sent by it
        assert smtp.received == []
        assert triggers.history.get(run_id).mail[0]["delivery"]["state"] == "pending"
        assert _courier(triggers, smtp.url).deliver_due() == 1
        assert len(smtp.received) == 1
    got = smtp.received[0]
    assert got.mail_from == "admin@acme.test"
    assert sorted(got.rcpt_tos) == ["ada@client.test", "audit@acme.test", "bob@client.test",
                                    "cc@client.test"]
    msg = email.message_from_bytes(got.data, policy=policy.default)
    assert msg["From"] == "admin@acme.test" and msg["Subject"] == "Invoice INV-7"
    assert msg["To"] == "ada@client.test, Bob <bob@client.test>"
    assert msg["Cc"] == "cc@client.test" and msg["Reply-To"] == "billing@acme.test"
    assert msg["Bcc"] is None and b"audit@acme.test" not in got.data
    assert msg.get_body(("html",)).get_content().startswith("<p>Dear Ada,")
    assert "your invoice is due." in msg.get_body(("plain",)).get_content()
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "report.csv"
    assert attachment.get_content().strip() in ("total,12.50", b"total,12.50")
    record = triggers.history.get(run_id)
    delivery = record.mail[0]["delivery"]
    assert delivery["state"] == "sent" and delivery["attempts"] == 1 and "sent_at" in delivery
    assert record.mail[0]["attachments"] == ["report.csv"] and "files" not in record.mail[0]


def test_a_refusing_server_fails_the_message_once_and_for_all(
        triggers: Triggers, monkeypatch: pytest.MonkeyPatch) -> None:
    with SmtpServer(refuse="550 5.1.1 mailbox unavailable") as smtp:
        monkeypatch.setenv("SLUICE_SMTP_URL", smtp.url)
        run_id = _run(triggers)
        courier = _courier(triggers, smtp.url)
        assert courier.deliver_due() == 1
        assert courier.deliver_due() == 0          # permanent: not tried again
    delivery = triggers.history.get(run_id).mail[0]["delivery"]
    assert delivery["state"] == "failed" and "550" in delivery["error"]
    assert smtp.received == []


def test_a_server_that_is_down_never_holds_the_run_and_is_retried_with_backoff(
        triggers: Triggers, monkeypatch: pytest.MonkeyPatch) -> None:
    down = f"smtp://127.0.0.1:{free_port()}"        # nothing listens there
    monkeypatch.setenv("SLUICE_SMTP_URL", down)
    started = dt.datetime.now(dt.UTC)
    run_id = _run(triggers)
    assert (dt.datetime.now(dt.UTC) - started).total_seconds() < 10
    now = [dt.datetime.now(dt.UTC)]
    courier = _courier(triggers, down, now=lambda: now[0], max_attempts=3)
    assert courier.deliver_due() == 1
    delivery = triggers.history.get(run_id).mail[0]["delivery"]
    assert delivery["state"] == "pending" and delivery["attempts"] == 1
    assert "cannot reach 127.0.0.1" in delivery["error"]
    retry_at = dt.datetime.fromisoformat(delivery["next_attempt_at"])
    assert 29 <= (retry_at - now[0]).total_seconds() <= 31
    assert courier.deliver_due() == 0              # not due yet
    now[0] += dt.timedelta(seconds=31)
    assert courier.deliver_due() == 1              # second attempt, 60 s backoff next
    second = dt.datetime.fromisoformat(
        triggers.history.get(run_id).mail[0]["delivery"]["next_attempt_at"])
    assert 59 <= (second - now[0]).total_seconds() <= 61
    now[0] += dt.timedelta(seconds=61)
    # the server is back: the third attempt delivers
    with SmtpServer() as smtp:
        assert _courier(triggers, smtp.url, now=lambda: now[0]).deliver_due() == 1
        assert len(smtp.received) == 1
    assert triggers.history.get(run_id).mail[0]["delivery"]["attempts"] == 3


def test_the_last_temporary_failure_gives_up(triggers: Triggers,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    down = f"smtp://127.0.0.1:{free_port()}"
    monkeypatch.setenv("SLUICE_SMTP_URL", down)
    run_id = _run(triggers)
    assert _courier(triggers, down, max_attempts=1).deliver_due() == 1
    assert triggers.history.get(run_id).mail[0]["delivery"]["state"] == "failed"


def test_two_nodes_never_claim_the_same_message(triggers: Triggers,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICE_SMTP_URL", "smtp://127.0.0.1:1")
    for _ in range(3):
        _run(triggers)
    outbox = Outbox(triggers.sessions)
    first = outbox.claim("node-a", 2, lease=60)
    second = outbox.claim("node-b", 2, lease=60)
    assert len(first) == 2 and len(second) == 1
    assert not {c.id for c in first} & {c.id for c in second}
    assert outbox.claim("node-c", 5, lease=60) == []
    # a node that dies leaves its claims to be taken again once the lease expires
    later = Outbox(triggers.sessions, now=lambda: dt.datetime.now(dt.UTC)
                   + dt.timedelta(seconds=120))
    assert len(later.claim("node-c", 5, lease=60)) == 3
    assert not outbox.sent(first[0], "node-a")     # node-a lost it: its outcome is ignored


def test_without_smtp_the_message_is_recorded_and_the_run_says_it_was_not_delivered(
        db_url: str, triggers: Triggers, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    monkeypatch.delenv("SLUICE_SMTP_URL", raising=False)
    run_id = _run(triggers)
    delivery = triggers.history.get(run_id).mail[0]["delivery"]
    assert delivery == {"state": "not_sent", "attempts": 0, "reason": NO_SMTP}
    assert Outbox(triggers.sessions).claim("n", 5, lease=60) == []
    monkeypatch.setenv("SLUICE_DATABASE_URL", db_url)
    assert main(["runs", "show", str(run_id)]) == 0
    out = capsys.readouterr().out
    assert NO_SMTP in out and "ada@client.test" in out


def test_a_sender_past_the_daily_limit_is_deferred_until_the_window_frees(
        triggers: Triggers, monkeypatch: pytest.MonkeyPatch) -> None:
    with SmtpServer() as smtp:
        monkeypatch.setenv("SLUICE_SMTP_URL", smtp.url)
        first, second = _run(triggers), _run(triggers)
        now = [dt.datetime.now(dt.UTC)]
        settings = smtp_settings({"SLUICE_SMTP_URL": smtp.url})
        assert settings is not None
        courier = MailCourier(Outbox(triggers.sessions, now=lambda: now[0]),
                              SmtpTransport(settings), node="n1", daily_limit=1)
        assert courier.deliver_due() == 2
        assert len(smtp.received) == 1
        deferred = triggers.history.get(second).mail[0]["delivery"]
        assert deferred["state"] == "pending" and deferred["attempts"] == 0
        assert deferred["error"].startswith("deferred: admin@acme.test sent 1 messages")
        sent_at = dt.datetime.fromisoformat(
            triggers.history.get(first).mail[0]["delivery"]["sent_at"])
        retry = dt.datetime.fromisoformat(deferred["next_attempt_at"])
        assert abs((retry - sent_at) - dt.timedelta(days=1)) < dt.timedelta(seconds=1)
        now[0] += dt.timedelta(hours=23)
        assert courier.deliver_due() == 0
        now[0] += dt.timedelta(hours=2)
        assert courier.deliver_due() == 1 and len(smtp.received) == 2
    assert triggers.history.get(second).mail[0]["delivery"]["state"] == "sent"


def test_concurrent_claims_on_postgresql_never_share_a_message(
        postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setenv("SLUICE_SMTP_URL", "smtp://127.0.0.1:1")
    engine = make_engine(postgres_url)
    t = open_triggers(engine, migrate=False, node="pg")
    try:
        ProfileBook(t.sessions).set({"admin_email": "admin@acme.test"}, by="test")
        t.catalog.save("mailer", MAILER, kind="function")
        for _ in range(30):
            _run(t)
        barrier = threading.Barrier(4)
        taken: list[list[int]] = [[] for _ in range(4)]

        def claim(n: int) -> None:
            outbox = Outbox(t.sessions)
            barrier.wait(10)
            while batch := outbox.claim(f"node-{n}", 2, lease=60):
                taken[n].extend(c.id for c in batch)

        threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        claimed = [i for part in taken for i in part]
        assert len(claimed) == 30 and len(set(claimed)) == 30
    finally:
        engine.dispose()


def test_a_scheduled_runs_mail_is_saved_with_its_batched_run(
        triggers: Triggers, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICE_SMTP_URL", "smtp://127.0.0.1:1")
    triggers.catalog.save("digest", 'sendmail [ from: zoho.adminuserid to: "team@acme.test" '
                          'subject: "Digest" message: "3 invoices overdue" ]',
                          kind="schedule")
    triggers.schedules.add({"name": "digest", "script": "digest",
                            "recurrence": {"kind": "hourly"}, "start": "2099-01-01T00:00"})
    triggers.schedules.run_now("digest")
    assert triggers.scheduler().run_due() == 1
    [run] = triggers.history.list(trigger="schedule")
    message = triggers.history.get(run.id).mail[0]
    assert message["from"] == "admin@acme.test"   # the profile, in a schedule too
    assert message["delivery"]["state"] == "pending"
    assert [c.run_id for c in Outbox(triggers.sessions).claim("n", 5, lease=60)] == [run.id]
