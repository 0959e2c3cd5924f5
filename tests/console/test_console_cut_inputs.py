"""The console's run page of a run whose inputs were cut when stored (issue 15 point 5):
it says so with the full size, offers no replay, and a replay posted anyway is refused
with the reason."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from conftest import Console
from sluicegate.triggers import Actor

ME = Actor.named("ada", "42")


@pytest.fixture
def admin(console: Console) -> Iterator[httpx.Client]:
    client = httpx.Client(base_url=console.url, timeout=30)
    answer = client.post("/sign-in", data={"token": console.admin, "next": "/"})
    assert answer.status_code == 303, answer.text
    yield client
    client.close()


def test_the_run_page_says_the_inputs_were_cut_and_offers_no_replay(
        console: Console, admin: httpx.Client) -> None:
    console.triggers.catalog.save("size", "return payload.length();", kind="function")
    launcher = console.triggers.launcher
    cut = launcher.execute_function("size", {"payload": "p" * 1_500_000}, actor=ME).run_id
    whole = launcher.execute_function("size", {"payload": "p" * 10}, actor=ME).run_id
    page = admin.get(f"/runs/{cut}").text
    assert re.search(r"The inputs of this run were cut when stored \(1,5\d\d,\d\d\d bytes of "
                     r"JSON, over the cap of 1,048,576", page)
    assert "it cannot be replayed" in page and "Replay with the same version" not in page
    assert "Replay with the same version" in admin.get(f"/runs/{whole}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    answer = admin.post(f"/runs/{cut}/replay", data={"csrf": csrf.group(1),
                                                      "version": "original"})
    assert answer.status_code == 303
    shown = admin.get(answer.headers["location"]).text
    assert f"Replay failed: inputs: run {cut} cannot be replayed" in shown
    assert len(console.triggers.history.list()) == 2
