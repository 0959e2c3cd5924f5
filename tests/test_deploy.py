"""The packaging and deployment files, checked statically: LICENSE, CHANGELOG, `--version`,
shell completion, the Dockerfile, the compose file and the systemd units; and the image
built and run where a container engine answers (skipped, saying so, where none does)."""

from __future__ import annotations

import configparser
import re
import tomllib
from pathlib import Path

import pytest
import yaml
from sluicegate.cli import main, package_version

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_license_file_is_the_apache_2_license_pyproject_declares() -> None:
    text = (ROOT / "LICENSE").read_text()
    assert PYPROJECT["project"]["license"]["text"] == "Apache-2.0"
    assert text.lstrip().startswith("Apache License") and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_version_and_changelog(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"sluice {PYPROJECT['project']['version']}\n"
    assert package_version() == PYPROJECT["project"]["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"## [{PYPROJECT['project']['version']}]" in changelog


@pytest.mark.parametrize("shell", ["bash", "zsh"])
def test_completion_scripts_cover_every_command(shell: str,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["completion", shell]) == 0
    out = capsys.readouterr().out
    for command in ("run", "check", "connections", "scripts", "schedules", "runs", "org",
                    "serve", "worker", "completion"):
        assert re.search(rf"\b{command}\b", out), command
    assert "expose" in out and "--admin-email" in out
    if shell == "zsh":
        assert out.startswith("#compdef sluice")


def test_the_dockerfile_installs_every_package_folder_runs_unprivileged_and_checks_health(
        ) -> None:
    text = (ROOT / "Dockerfile").read_text()
    lines = [line.strip() for line in text.splitlines()]
    folders = set(PYPROJECT["tool"]["setuptools"]["package-dir"].values())
    copied = {line.split()[1] for line in lines if line.startswith("COPY ")}
    assert folders <= copied, folders - copied
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    health = next(line for line in lines if line.startswith("HEALTHCHECK")) + \
        text.split("HEALTHCHECK", 1)[1].split("\n\n", 1)[0]
    assert "/readyz" in health
    assert 'ENTRYPOINT ["sluice"]' in text and '"serve"' in text
    ignored = (ROOT / ".dockerignore").read_text()
    assert ".git" in ignored and "deploy/*.env" in ignored


def test_compose_starts_postgres_one_serve_and_two_workers_sharing_one_key() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "serve", "worker"}
    assert services["serve"]["command"][0] == "serve"
    assert services["worker"]["command"] == ["worker"]
    assert services["worker"]["deploy"]["replicas"] == 2
    for name in ("serve", "worker"):
        service = services[name]
        assert service["env_file"] == "sluice.env"        # the same key on every node
        assert service["environment"]["SLUICE_DATABASE_URL"].startswith(
            "postgresql://sluicegate:")
        assert "@postgres:5432/" in service["environment"]["SLUICE_DATABASE_URL"]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert "SLUICE_MASTER_KEY" not in service.get("environment", {})
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    example = (ROOT / "deploy" / "sluice.env.example").read_text()
    assert re.search(r"^SLUICE_MASTER_KEY=$", example, re.M)   # never a real key in git
    assert "deploy/sluice.env" in (ROOT / ".gitignore").read_text()


@pytest.mark.parametrize(("unit", "command"), [("sluice-serve.service", "serve"),
                                               ("sluice-worker@.service", "worker")])
def test_systemd_units_run_sluice_unprivileged_with_the_shared_environment(
        unit: str, command: str) -> None:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((ROOT / "deploy" / "systemd" / unit).read_text())
    service = parser["Service"]
    assert service["ExecStart"].split()[1] == command
    assert service["ExecStart"].split()[0].endswith("/sluice")
    assert service["User"] not in ("root", "0")
    assert service["EnvironmentFile"] == "/etc/sluicegate/sluice.env"
    assert service["KillSignal"] == "SIGTERM" and service["NoNewPrivileges"] == "yes"
    assert parser["Install"]["WantedBy"] == "multi-user.target"


def _container_engine() -> str | None:
    """`docker` or `podman` when its daemon (or service) answers, else None."""
    import shutil
    import subprocess

    for engine in ("docker", "podman"):
        if shutil.which(engine) is None:
            continue
        try:
            answered = subprocess.run([engine, "info"], capture_output=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if answered.returncode == 0:
            return engine
    return None


def test_the_image_builds_and_runs_where_a_container_engine_answers(tmp_path: Path) -> None:
    import subprocess

    engine = _container_engine()
    if engine is None:
        pytest.skip("no container engine answers here (`docker info` / `podman info`): the "
                    "image was not built; the Dockerfile is checked statically above")
    tag = f"sluicegate-test:{tmp_path.name.lower()}"
    built = subprocess.run([engine, "build", "-t", tag, str(ROOT)], capture_output=True,
                           text=True, timeout=1800)
    assert built.returncode == 0, built.stderr[-4000:]
    try:
        ran = subprocess.run([engine, "run", "--rm", tag, "--version"],   # entrypoint: sluice
                             capture_output=True, text=True, timeout=120)
        assert ran.returncode == 0, ran.stderr[-2000:]
        assert ran.stdout.strip() == f"sluice {PYPROJECT['project']['version']}"
        user = subprocess.run([engine, "run", "--rm", "--entrypoint", "id", tag, "-u"],
                              capture_output=True, text=True, timeout=120)
        assert user.stdout.strip() not in ("", "0")   # the image runs unprivileged
    finally:
        subprocess.run([engine, "rmi", "-f", tag], capture_output=True, timeout=120)
