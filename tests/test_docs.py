"""The documentation in docs/ stays true to the code: the built-in reference equals what
the tables generate, every command, route and setting is documented, and every link
between the README and docs/ leads to a file of the repository."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from sluicegate.cli import build_parser
from sluicegate.service.routes import ROUTERS

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"


def test_the_builtin_reference_is_the_one_the_tables_generate() -> None:
    # a fresh interpreter: the tables as a run sees them, whatever earlier tests loaded
    done = subprocess.run([sys.executable, "-m", "sluicegate.stdlib.reference"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (DOCS / "builtins.md").read_text(encoding="utf-8") == done.stdout, (
        "regenerate: python -m sluicegate.stdlib.reference > docs/builtins.md")


def _subcommands(parser: object) -> dict[str, object]:
    import argparse

    for action in getattr(parser, "_actions", []):
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_command_and_action_is_in_the_cli_page() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    missing = []
    for name, sub in _subcommands(build_parser()).items():
        actions = _subcommands(sub)
        if not actions and f"sluice {name}" not in text:
            missing.append(name)
        for action in actions:
            if not re.search(rf"sluice {name} {action}\b|`{action}[ `]|, `?{action}\b", text):
                missing.append(f"{name} {action}")
    assert missing == []


def test_every_route_is_in_the_http_api_page() -> None:
    text = (DOCS / "http-api.md").read_text(encoding="utf-8")
    missing = []
    for router in ROUTERS:
        for route in router.routes:
            path = route.path  # type: ignore[attr-defined]
            tail = path.rsplit("/", 1)[-1]
            if path not in text and f".../{tail}" not in text and f"/{tail}`" not in text:
                missing.append(path)
    assert missing == []


def test_every_environment_setting_of_the_readme_is_in_the_operations_page() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    settings = set(re.findall(r"^\| `(SLUICE_[A-Z_]+)`", readme, re.M))
    assert {"SLUICE_SMTP_URL", "SLUICE_SMTP_PASSWORD", "SLUICE_LOG_FORMAT"} <= settings
    operations = (DOCS / "operations.md").read_text(encoding="utf-8")
    assert sorted(s for s in settings if s not in operations) == []


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")) + ["../README.md"])
def test_links_lead_to_files_of_the_repository(page: str) -> None:
    path = (DOCS / page).resolve()
    text = path.read_text(encoding="utf-8")
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        # the README and docs/ link to nothing outside the repository
        assert not target.startswith(("http://", "https://")), f"{page}: {target}"
        assert (path.parent / target).exists(), f"{page}: {target}"
