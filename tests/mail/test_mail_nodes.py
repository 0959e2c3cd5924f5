"""A real `sluice worker` process runs a queued run and delivers its mail through a local
SMTP server, and answers its metrics on --metrics-port; it logs JSON lines for the run
(SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import httpx
from smtplab import SmtpServer, free_port
from sluice_testdb import wait_until
from sluicegate.org import ProfileBook
from sluicegate.store.db import make_engine
from sluicegate.triggers import open_triggers
from sluicegate.triggers.launcher import Actor
from sluicegate.triggers.queue import RunQueue


def test_a_worker_runs_queued_runs_and_delivers_their_mail(db_url: str) -> None:
    engine = make_engine(db_url)
    triggers = open_triggers(engine, migrate=False, node="test")
    ProfileBook(triggers.sessions).set({"admin_email": "admin@acme.test"}, by="test")
    triggers.catalog.save("notify", 'sendmail [ from: zoho.adminuserid to: "ada@client.test" '
                          'subject: "Paid" message: "Thank you" ]\nreturn "ok";',
                          kind="function")
    with SmtpServer() as smtp:
        env = {**os.environ, "SLUICE_DATABASE_URL": db_url, "SLUICE_SMTP_URL": smtp.url,
               "SLUICE_LOG_FORMAT": "json"}
        os.environ["SLUICE_SMTP_URL"] = smtp.url   # the enqueuing side records it pending
        try:
            live, inputs = triggers.launcher.prepare_function("notify", {},
                                                              actor=Actor.named("t"))
            run_id = RunQueue(triggers.sessions, triggers.launcher).enqueue(
                live, inputs, trigger="function", actor=Actor.named("t"))
        finally:
            del os.environ["SLUICE_SMTP_URL"]
        metrics_port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "sluicegate.cli", "worker",
                                 "--in-process", "--poll", "0.1", "--grace", "5",
                                 "--metrics-port", str(metrics_port)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True)
        try:
            wait_until(lambda: len(smtp.received) == 1 or proc.poll() is not None, 60,
                       "the worker to run the queued run and deliver its mail")
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            record = triggers.history.get(run_id)
            assert record.status == "success"
            wait_until(lambda: triggers.history.get(run_id).mail[0]["delivery"]["state"]
                       == "sent", 30, "the delivery to be recorded")
            metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10).text
            assert 'sluice_mail_deliveries_total{outcome="sent"} 1.0' in metrics
            assert 'sluice_runs_total{script="notify",status="success",trigger="function"}' \
                in metrics
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=30)
            engine.dispose()
    assert proc.returncode == 0, err
    assert smtp.received[0].rcpt_tos == ["ada@client.test"]
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    runs = [line for line in lines if line.get("event") == "run"]
    assert [(r["run_id"], r["status"]) for r in runs] == [(run_id, "success")]
