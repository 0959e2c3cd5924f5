"""Fixtures of the console suites: a live service on SQLite with an admin and a runner
token, a loopback OAuth 2 provider, and a headless Chromium (the Debian `chromium` and
`chromium-driver` packages; `.ci/run` installs them) driven through Selenium. Screenshots
go to $SLUICE_TEST_ARTIFACTS/console (default: test-artifacts/ in the checkout)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sluice_testdb import sluice_home  # noqa: F401
from sluicegate.examples.provider import LocalProvider
from sluicegate.service.app import create_app
from sluicegate.service.tokens import TokenBook
from sluicegate.store.db import make_engine
from sluicegate.triggers import open_triggers
from sluicegate.triggers.setup import Triggers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "service"))
from servicelab import LiveServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@dataclass
class Console:
    url: str
    triggers: Triggers
    tokens: TokenBook
    admin: str
    runner: str
    provider: LocalProvider


@pytest.fixture
def console(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Console]:
    monkeypatch.setenv("SLUICE_ALLOW_PRIVATE_HOSTS", "127.0.0.1")
    monkeypatch.setenv("SLUICE_MASTER_KEY", "console tests passphrase not a real key")
    engine = make_engine(f"sqlite:///{tmp_path / 'console.db'}")
    triggers = open_triggers(engine, node="console-test")
    tokens = TokenBook(triggers.sessions)
    admin = tokens.create("admin", "ops")[1]
    runner = tokens.create("runner", "viewer")[1]
    with LocalProvider(access_ttl=3600) as provider, \
            LiveServer(create_app(triggers, tokens)) as server:
        yield Console(server.url, triggers, tokens, admin, runner, provider)
    engine.dispose()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    base = Path(os.environ.get("SLUICE_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    folder = base / "console"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM or not CHROMEDRIVER:
        pytest.skip("headless Chromium is not installed (Debian packages chromium and "
                    "chromium-driver; .ci/run installs them): the browser flows were not "
                    "driven")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--disable-gpu", "--window-size=1280,1000", "--no-first-run",
                 "--disable-extensions", "--password-store=basic"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
