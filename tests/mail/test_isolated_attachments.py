"""An isolated run's attachments reach the outbox (their bytes cross from the child to
the parent) but never the run's answer."""

from __future__ import annotations

import base64

from sluicegate.isolation import IsolatedExecutor
from sluicegate.limits import Limits
from sluicegate.mail.message import build_message

SCRIPT = ('f = "total,12.50".toFile("report.csv");\n'
          'sendmail [ from: "a@acme.test" to: "c@client.test" subject: "s" message: "m" '
          'attachments: file:f ]\nreturn 1;')


def test_attachments_of_an_isolated_run_reach_the_message() -> None:
    result = IsolatedExecutor().execute(SCRIPT, {}, Limits())
    assert result.ok, result.error
    [message] = result.mail
    assert base64.b64decode(message["files"][0]["base64"]) == b"total,12.50"
    assert "files" not in result.to_json()["mail"][0]
    built = build_message(message)
    [part] = list(built.iter_attachments())
    assert part.get_filename() == "report.csv" and part.get_content() == "total,12.50"


def test_an_unreadable_attachment_is_a_permanent_failure_naming_it() -> None:
    import pytest
    from sluicegate.mail.message import BadMessage

    with pytest.raises(BadMessage, match="report.csv"):
        build_message({"from": "a@acme.test", "to": ["c@client.test"],
                       "files": [{"name": "report.csv", "base64": "%%%"}]})


def test_attachments_of_a_warm_childs_runs_reach_the_message_too() -> None:
    from sluicegate.isolation import DirectForker
    from sluicegate.isolation.warm import WarmExecutor

    warm = WarmExecutor(forker=DirectForker(), max_runs=3, timezone="UTC")
    try:
        for n in (1, 2):   # a fresh child, then the same child serving again
            result = warm.execute(SCRIPT, {}, Limits())
            assert result.ok and result.stats["child_run"] == n, result.error
            [message] = result.mail
            assert base64.b64decode(message["files"][0]["base64"]) == b"total,12.50"
            assert "files" not in result.to_json()["mail"][0]
    finally:
        warm.close()
