"""`sluice connections ...` and `sluice run` driven as a user would, in a fresh
SLUICE_HOME, against the local provider; no secret on the command line or in output."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from sluicegate.examples.provider import LocalProvider

from connlab import Leaks, dump_database

SLUICE = [sys.executable, "-m", "sluicegate.cli"]


class Cli:
    """The command line: `inproc` calls `sluicegate.cli.main` in this process (fast);
    calling the object runs a real `sluice` process (for what needs one)."""

    def __init__(self, home: Path, leaks: Leaks, monkeypatch: pytest.MonkeyPatch,
                 capsys: pytest.CaptureFixture[str]) -> None:
        self.home = home
        self.leaks = leaks
        self.monkeypatch = monkeypatch
        self.capsys = capsys
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("SLUICE_")} | {"SLUICE_HOME": str(home)}

    def __call__(self, *args: str, stdin: str | None = None,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([*SLUICE, *args], input=stdin, capture_output=True, text=True,
                              env=self.env | (env or {}), timeout=60)
        self.leaks.output(done.stdout + done.stderr)
        return done

    def inproc(self, *args: str, stdin: str | None = None,
               env: dict[str, str] | None = None) -> tuple[int, str, str]:
        from sluicegate.cli import main

        with self.monkeypatch.context() as patch:
            for key in [k for k in os.environ if k.startswith("SLUICE_")]:
                patch.delenv(key)
            for key, value in ({"SLUICE_HOME": str(self.home)} | (env or {})).items():
                patch.setenv(key, value)
            patch.setattr(sys, "stdin", io.StringIO(stdin or ""))
            self.capsys.readouterr()
            code = main(list(args))
            out, err = self.capsys.readouterr()
        self.leaks.output(out + err)
        return code, out, err

    def background(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([*SLUICE, *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=self.env)

    def finish(self, process: subprocess.Popen[str]) -> tuple[int, str, str]:
        out, err = process.communicate(timeout=60)
        self.leaks.output(out + err)
        return process.returncode, out, err


@pytest.fixture
def cli(tmp_path: Path, leaks: Leaks, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> Any:
    home = tmp_path / "home"
    tool = Cli(home, leaks, monkeypatch, capsys)
    yield tool
    database = home / "sluicegate.db"
    if database.exists():
        leaks.output(dump_database(f"sqlite:///{database}"))
        leaks.output(database.read_bytes().decode("latin-1"))


def _add_oauth2(cli: Cli, provider: LocalProvider, *extra: str) -> None:
    code, out, err = cli.inproc("connections", "add", "zb", "--auth", "oauth2", "--client-id",
               provider.client_id, "--authorize-url", provider.authorize_url, "--token-url",
               provider.token_url, "--revoke-url", provider.revoke_url, "--base-url",
               provider.api_base, "--scopes", "ZohoBooks.invoices.ALL,ZohoBooks.settings.READ",
               "--scope-delimiter", ",", "--header-format", "Zoho-oauthtoken {token}",
               "--secret-stdin", *extra, stdin=provider.client_secret + "\n")
    assert code == 0, err
    assert "needs_authorization" in out


def test_add_authorize_by_loopback_redirect_run_test_revoke_delete(
        cli: Cli, provider: LocalProvider, tmp_path: Path) -> None:
    _add_oauth2(cli, provider)
    waiting = cli.background("connections", "authorize", "zb")
    assert waiting.stdout is not None
    url = waiting.stdout.readline().strip()
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["code_challenge_method"] == "S256" and query["state"]
    redirect = provider.approve(url)
    assert redirect.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(redirect, timeout=10) as answer:  # the browser's last hop
        assert answer.status == 200
    code, out, err = cli.finish(waiting)
    assert code == 0, err
    assert "authorized connection 'zb' (connected, token generation 1)" in out

    script = tmp_path / "list.dg"
    script.write_text(f'r = invokeurl [ url: "{provider.api_base}/invoices" type: GET '
                      f'parameters: {{"organization_id": "1"}} connection: "zb" ];\n'
                      f'info r.get("invoices").size();\nreturn r.get("code");\n')
    ran = cli("run", str(script), "--json")
    result = json.loads(ran.stdout)
    assert ran.returncode == 0 and result["status"] == "success", ran.stdout + ran.stderr
    assert result["logs"] == ["3"] and result["http"][0]["connection"] == "zb"
    assert result["http"][0]["token_generation"] == 1

    code, out, _ = cli.inproc("connections", "list")
    assert "zb" in out and "connected" in out
    shown = json.loads(cli.inproc("connections", "show", "zb", "--json")[1])
    assert shown["status"] == "connected" and shown["access_token_set"] is True
    code, out, _ = cli.inproc("connections", "test", "zb", "--url",
                              provider.api_base + "/organizations")
    assert code == 0 and "-> 200" in out
    assert cli.inproc("connections", "revoke", "zb")[0] == 0
    assert provider.counts["revoke"] == 1
    assert cli.inproc("connections", "test", "zb")[0] == 1
    assert cli.inproc("connections", "delete", "zb")[0] == 0
    code, _, err = cli.inproc("connections", "show", "zb")
    assert code == 2 and "no connection named 'zb'" in err


def test_authorize_with_a_pasted_code(cli: Cli, provider: LocalProvider) -> None:
    _add_oauth2(cli, provider)
    waiting = cli.background("connections", "authorize", "zb")
    assert waiting.stdout is not None
    url = waiting.stdout.readline().strip()
    code = dict(parse_qsl(urlsplit(provider.approve(url)).query))["code"]
    status, out, err = cli.inproc("connections", "authorize", "zb", "--code", code)
    assert status == 0, err
    assert "connected" in out
    status, out, err = cli.finish(waiting)  # the waiting command sees it was completed
    assert status == 0 and "connected" in out, err


def test_the_waiting_command_reports_a_slow_pasted_code_exchange(
        cli: Cli, provider: LocalProvider) -> None:
    """The state is taken before the code is exchanged (no transaction across HTTP): the
    waiting command must report the exchange's outcome, not the moment the state went."""
    _add_oauth2(cli, provider)
    waiting = cli.background("connections", "authorize", "zb")
    assert waiting.stdout is not None
    url = waiting.stdout.readline().strip()
    code = dict(parse_qsl(urlsplit(provider.approve(url)).query))["code"]
    provider.set_token_delay(1.5)  # the waiting command polls every 0.25 s meanwhile
    status, out, err = cli.inproc("connections", "authorize", "zb", "--code", code)
    assert status == 0 and "connected" in out, err
    status, out, err = cli.finish(waiting)
    assert status == 0, err
    assert "authorized connection 'zb' (connected, token generation 1)" in out


def test_the_waiting_command_reports_a_pasted_code_that_failed(
        cli: Cli, provider: LocalProvider) -> None:
    _add_oauth2(cli, provider)
    waiting = cli.background("connections", "authorize", "zb")
    assert waiting.stdout is not None
    url = waiting.stdout.readline().strip()
    code = dict(parse_qsl(urlsplit(provider.approve(url)).query))["code"]
    provider.set_token_fault("server_error")
    status, _, err = cli.inproc("connections", "authorize", "zb", "--code", code)
    assert status == 1 and "try again" in err
    status, out, err = cli.finish(waiting)
    assert status == 1 and "connected" not in out
    assert "completed elsewhere and failed: authorization failed" in err


def test_the_waiting_command_says_when_an_exchange_elsewhere_outlasts_its_wait(
        cli: Cli, provider: LocalProvider) -> None:
    _add_oauth2(cli, provider)
    cli.env["SLUICE_AUTHORIZE_TIMEOUT"] = "3"
    waiting = cli.background("connections", "authorize", "zb")
    assert waiting.stdout is not None
    url = waiting.stdout.readline().strip()
    code = dict(parse_qsl(urlsplit(provider.approve(url)).query))["code"]
    provider.set_token_delay(6)  # longer than the waiting command waits
    pasted = cli.background("connections", "authorize", "zb", "--code", code)
    status, out, err = cli.finish(waiting)
    assert status == 1 and "connected" not in out
    assert "completed elsewhere but its code exchange did not finish within 3 s" in err
    status, out, err = cli.finish(pasted)  # the exchange itself still completes
    assert status == 0 and "connected" in out, err


def test_client_credentials_and_api_keys_from_the_environment(
        cli: Cli, provider: LocalProvider) -> None:
    env = {"PROVIDER_SECRET": provider.client_secret}
    code, _, err = cli.inproc("connections", "add", "cc", "--auth", "oauth2", "--grant",
                              "client_credentials", "--client-id", provider.client_id,
                              "--token-url", provider.token_url, "--base-url",
                              provider.api_base, "--secret-env", "PROVIDER_SECRET", env=env)
    assert code == 0, err
    code, out, err = cli.inproc("connections", "authorize", "cc")
    assert code == 0 and "connected" in out, err
    code, out, _ = cli.inproc("connections", "add", "stripe", "--auth", "api_key",
                              "--service", "stripe", "--secret-env", "PROVIDER_SECRET",
                              env=env)
    assert code == 0 and "connected" in out
    shown = cli.inproc("connections", "show", "stripe")[1]
    assert "https://api.stripe.com/" in shown and "Bearer {token}" in shown


@pytest.mark.parametrize("args, message", [
    (["--auth", "basic", "--username", "u", "--base-url", "https://a.example"],
     "one of the arguments --secret-stdin --secret-env is required"),
    (["--auth", "basic", "--username", "u", "--secret-stdin"], "base-url: at least one"),
    (["--auth", "api_key", "--service", "nowhere", "--secret-stdin"], "service: unknown"),
    (["--auth", "basic", "--base-url", "https://a.example", "--username", "u",
      "--secret-env", "NOT_SET_ANYWHERE"], "secret-env: environment variable"),
])
def test_misuse_exits_2_with_the_field_and_reason(cli: Cli, args: list[str],
                                                  message: str) -> None:
    if "required" in message:  # argparse itself: exits through SystemExit(2)
        with pytest.raises(SystemExit) as exited:
            cli.inproc("connections", "add", "x1", *args, stdin="pw")
        assert exited.value.code == 2
        assert message in cli.capsys.readouterr().err
        return
    code, _, err = cli.inproc("connections", "add", "x1", *args, stdin="pw")
    assert code == 2
    assert message in err and err.startswith("sluice connections: error: ")


def test_plain_runs_create_no_files_and_unknown_connections_fail_cleanly(
        cli: Cli, tmp_path: Path) -> None:
    script = tmp_path / "s.dg"
    script.write_text('invokeurl [ url: "https://api.example.com/x" type: GET '
                      'connection: "nope" ];')
    done = cli("run", str(script))
    assert done.returncode == 1 and "Connection 'nope' does not exist" in done.stderr
    assert not cli.home.exists()


def _argparse_exit(cli: Cli, *args: str, stdin: str = "") -> str:
    """Run a command that argparse itself refuses; its stderr (exit status 2)."""
    with pytest.raises(SystemExit) as exited:
        cli.inproc(*args, stdin=stdin)
    assert exited.value.code == 2
    err = cli.capsys.readouterr().err
    cli.leaks.output(err)
    return err


@pytest.mark.parametrize("args", [
    ["--client-secret", "SECRETVALUE-1"],
    ["--secret=SECRETVALUE-1"],
    ["--secret-std=SECRETVALUE-1"],
    ["SECRETVALUE-1"],
    ["--password", "SECRETVALUE-1", "--secret-stdin"],
])
def test_a_secret_typed_as_an_argument_is_refused_and_never_echoed(
        cli: Cli, args: list[str]) -> None:
    err = _argparse_exit(cli, "connections", "add", "x1", "--auth", "basic", "--username",
                         "u", "--base-url", "https://a.example", *args)
    assert "SECRETVALUE" not in err
    assert "values are not shown" in err or "required" in err


def test_a_secret_given_as_the_variable_name_is_not_echoed(cli: Cli) -> None:
    code, out, err = cli.inproc("connections", "add", "x1", "--auth", "basic", "--username",
                                "u", "--base-url", "https://a.example", "--secret-env",
                                "sk_live/SECRETVALUE-2")
    assert code == 2 and "SECRETVALUE" not in out + err
    assert "secret-env: expects the name of an environment variable" in err


@pytest.mark.parametrize("extra, message", [
    (["--refresh-on-status", "forbidden"], "refresh-on-status: must be HTTP status codes"),
    (["--refresh-leeway", "soon"], "refresh-leeway: must be a number of seconds"),
    (["--authorize-param", "offline"], "authorize-param: expected NAME=VALUE"),
    (["--header-format", "Bearer"], "header-format: must contain {token}"),
    (["--token-url", "ftp://x.example/token"], "token-url: Only http and https"),
    (["--param-type", "form"], "param-type: an OAuth 2 token is sent as a header or"),
])
def test_oauth2_option_mistakes_name_the_field(cli: Cli, provider: LocalProvider,
                                               extra: list[str], message: str) -> None:
    code, out, err = cli.inproc(
        "connections", "add", "zb", "--auth", "oauth2", "--client-id", "c", "--authorize-url",
        provider.authorize_url, "--token-url", provider.token_url, "--base-url",
        provider.api_base, "--secret-stdin", *extra, stdin=provider.client_secret)
    assert code == 2, out + err
    assert err.startswith("sluice connections: error: ") and message in err
    assert "Traceback" not in err and provider.client_secret not in out + err


def test_every_documented_add_option_is_accepted_and_shown(cli: Cli,
                                                           provider: LocalProvider) -> None:
    code, _, err = cli.inproc(
        "connections", "add", "full", "--auth", "oauth2", "--service", "custom",
        "--base-url", provider.api_base, "--base-url", provider.url + "/crm/",
        "--client-id", provider.client_id, "--authorize-url", provider.authorize_url,
        "--token-url", provider.token_url, "--refresh-url", provider.token_url,
        "--revoke-url", provider.revoke_url, "--scopes", "a.read,b.write",
        "--scope-delimiter", ",", "--grant", "authorization_code", "--param-type", "header",
        "--param-name", "Authorization", "--header-format", "Zoho-oauthtoken {token}",
        "--authorize-param", "access_type=offline", "--authorize-param", "prompt=consent",
        "--token-auth", "client_secret_post", "--refresh-leeway", "120",
        "--refresh-on-status", "401,403", "--refresh-on-body", "INVALID_OAUTHTOKEN",
        "--secret-stdin", stdin=provider.client_secret + "\n")
    assert code == 0, err
    shown = json.loads(cli.inproc("connections", "show", "full", "--json")[1])
    params = shown["params"]
    assert shown["base_urls"] == [provider.api_base + "/", provider.url + "/crm/"]
    assert params["scopes"] == ["a.read", "b.write"] and params["scope_delimiter"] == ","
    assert params["authorize_params"] == {"access_type": "offline", "prompt": "consent"}
    assert params["refresh_on_status"] == [401, 403]
    assert params["refresh_on_body"] == ["INVALID_OAUTHTOKEN"]
    assert params["refresh_leeway"] == 120.0 and params["token_auth"] == "client_secret_post"
    assert params["refresh_url"] == provider.token_url and shown["secret_set"] is True
    assert provider.client_secret not in json.dumps(shown)
    code, out, _ = cli.inproc("connections", "add", "o1", "--auth", "oauth1", "--client-id",
                              "ck", "--username", "access-token-id", "--base-url",
                              "https://api.example.com", "--secret-stdin",
                              stdin="consumer-secret&token-secret")
    assert code == 0 and "(oauth1, connected)" in out
    code, out, _ = cli.inproc("connections", "add", "k1", "--auth", "api_key", "--param-type",
                              "query", "--param-name", "apikey", "--base-url",
                              "https://api.example.com", "--secret-stdin", stdin="k-123")
    assert code == 0 and "(api_key, connected)" in out


@pytest.mark.parametrize("action", [["show"], ["test"], ["revoke"], ["delete"],
                                    ["authorize"], ["authorize", "--code", "abc"]])
def test_unknown_links_exit_2_naming_the_link(cli: Cli, action: list[str]) -> None:
    code, _, err = cli.inproc("connections", action[0], "ghost", *action[1:])
    assert code == 2 and err == "sluice connections: error: ghost: no connection named " \
        "'ghost'\n"


def test_command_mistakes_and_failures_never_print_a_traceback(
        cli: Cli, provider: LocalProvider, leaks: Leaks) -> None:
    code, _, err = cli.inproc("connections", "add", "b1", "--auth", "basic", "--username", "u",
                              "--base-url", provider.api_base, "--secret-stdin",
                              stdin=leaks.secret("basic-password-123"))
    assert code == 0, err
    code, _, err = cli.inproc("connections", "authorize", "b1")
    assert code == 2 and "only OAuth 2 connections are authorized" in err
    code, out, _ = cli.inproc("connections", "test", "b1", "--url", "https://elsewhere.example/")
    assert code == 1 and "may only be used with" in out and "nothing was sent" in out
    code, _, err = cli.inproc("connections", "authorize", "b1", "--code", "x")
    assert code == 2 and "only OAuth 2" in err
    code, _, err = cli.inproc("connections", "list", env={
        "SLUICE_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"})
    assert code == 1 and "database: cannot use the connections database" in err
    env = {"PROVIDER_SECRET": "wrong-client-secret"}
    code, _, err = cli.inproc("connections", "add", "cc", "--auth", "oauth2", "--grant",
                              "client_credentials", "--client-id", provider.client_id,
                              "--token-url", provider.token_url, "--base-url",
                              provider.api_base, "--secret-env", "PROVIDER_SECRET", env=env)
    assert code == 0
    code, _, err = cli.inproc("connections", "authorize", "cc")
    assert code == 1 and "the provider refused the client credentials (invalid_client" in err
    for text in (out, err):
        assert "Traceback" not in text and "wrong-client-secret" not in text


def test_rotate_key_re_encrypts_and_connections_keep_working(cli: Cli, lab: Any) -> None:
    code, _, err = cli.inproc("connections", "add", "lab", "--auth", "api_key", "--param-type",
                              "header", "--param-name", "X-Api-Key", "--base-url",
                              lab.url + "/key/", "--secret-stdin", stdin=lab.api_key)
    assert code == 0, err
    key_file = cli.home / "master.key"
    before = key_file.read_text()
    cli.leaks.secrets.update(before.split())
    code, out, err = cli.inproc("connections", "rotate-key")
    assert code == 0, err
    after = key_file.read_text()
    cli.leaks.secrets.update(after.split())
    assert after != before and len(after.split()) == 1
    assert after.strip() not in out + err and "re-encrypted every secret with key" in out
    code, out, _ = cli.inproc("connections", "test", "lab", "--url", lab.url + "/key/check")
    assert code == 0 and "-> 200" in out and lab.requests[-1].headers["X-Api-Key"] == \
        lab.api_key


def test_update_changes_settings_and_secret_and_the_audit_tells_who_what_when(
        cli: Cli, leaks: Leaks, provider: LocalProvider) -> None:
    old_key = leaks.secret("key-before-rotation-7d1f")
    new_key = leaks.secret("key-after-rotation-93ab")
    code, _, err = cli.inproc("connections", "add", "crm", "--auth", "api_key",
                              "--base-url", "https://api.example.com/v1/",
                              "--param-type", "header", "--param-name", "X-Key",
                              "--secret-stdin", stdin=old_key, env={"SLUICE_ACTOR": "ana@example.com"})
    assert code == 0, err
    code, out, err = cli.inproc("connections", "update", "crm",
                                "--base-url", "https://api.example.com/v2/",
                                "--param-name", "X-Api-Key", "--secret-env", "NEW_KEY",
                                env={"NEW_KEY": new_key, "SLUICE_ACTOR": "raj@example.com"})
    assert code == 0, err
    assert "base_urls" in out and "param_name" in out and "secret" in out
    assert "token generation 1" in out  # a new key is a new generation
    code, out, _ = cli.inproc("connections", "audit", "crm", "--json")
    entries = json.loads(out)
    assert [e["action"] for e in entries] == ["add", "update"]
    assert entries[0]["actor"] == "ana@example.com"
    update = entries[1]
    assert update["actor"] == "raj@example.com" and update["at"]
    assert update["changes"]["base_urls"] == [["https://api.example.com/v1/"],
                                              ["https://api.example.com/v2/"]]
    assert update["changes"]["param_name"] == ["X-Key", "X-Api-Key"]
    assert update["changes"]["secret"] == "changed"
    assert old_key not in out and new_key not in out
    code, text, _ = cli.inproc("connections", "audit")
    assert code == 0 and "update" in text and "raj@example.com" in text
    # the registry signs with the new key under the new name
    from sluicegate.connections.setup import open_registry

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SLUICE_HOME", str(cli.home))
        registry = open_registry()
        try:
            grant = registry.grant("crm")
            assert new_key in grant.secrets and old_key not in grant.secrets
            assert [str(b) for b in grant.bases] == ["https://api.example.com/v2/"]
        finally:
            registry.close()


@pytest.mark.parametrize("args, message", [
    ([], "update: nothing to change"),
    (["--base-url", "https://api.example.com/v1/"], "update: nothing changed"),
    (["--base-url", "ftp://api.example.com/"], "base-url:"),
    (["--refresh-leeway", "soon"], "refresh-leeway"),
])
def test_update_mistakes_name_the_field_and_change_nothing(cli: Cli, leaks: Leaks,
                                                          args: list[str],
                                                          message: str) -> None:
    key = leaks.secret("update-mistakes-key-41c2")
    assert cli.inproc("connections", "add", "crm", "--auth", "api_key", "--base-url",
                      "https://api.example.com/v1/", "--secret-stdin", stdin=key)[0] == 0
    code, _, err = cli.inproc("connections", "update", "crm", *args)
    assert code == 2 and message in err, err
    entries = json.loads(cli.inproc("connections", "audit", "crm", "--json")[1])
    assert [e["action"] for e in entries] == ["add"]
    code, _, err = cli.inproc("connections", "update", "nope", "--display-name", "x")
    assert code == 2 and "no connection named 'nope'" in err


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_authorize_listens_on_the_registered_redirect_uri(
        cli: Cli, provider: LocalProvider) -> None:
    """Providers accept only the redirect URI registered for the client: the command
    listens on the loopback URI it is given (flag or SLUICE_OAUTH_REDIRECT_URI)."""
    _add_oauth2(cli, provider)
    registered = f"http://127.0.0.1:{_free_port()}/oauth/return"
    waiting = cli.background("connections", "authorize", "zb", "--redirect-uri", registered)
    assert waiting.stdout is not None
    url = waiting.stdout.readline().strip()
    assert dict(parse_qsl(urlsplit(url).query))["redirect_uri"] == registered
    redirect = provider.approve(url)
    assert redirect.startswith(registered + "?")
    with urllib.request.urlopen(redirect, timeout=10) as answer:
        assert answer.status == 200
    code, out, err = cli.finish(waiting)
    assert code == 0, err
    assert "authorized connection 'zb' (connected" in out


def test_authorize_with_a_public_redirect_uri_prints_the_url_for_the_service(
        cli: Cli, provider: LocalProvider) -> None:
    """A redirect to the service's public callback is not listened on here: the command
    prints the URL and exits 0; a pasted redirect URL completes it."""
    _add_oauth2(cli, provider)
    public = "https://sluice.example.com/oauth/callback"
    code, out, err = cli.inproc("connections", "authorize", "zb", "--redirect-uri", public)
    assert code == 0, err
    url = out.strip().splitlines()[-1]
    assert dict(parse_qsl(urlsplit(url).query))["redirect_uri"] == public
    assert "--code" in err
    redirect = provider.approve(url)
    code, out, err = cli.inproc("connections", "authorize", "zb", "--code", redirect)
    assert code == 0, err
    assert "connected" in out
    code, _, err = cli.inproc("connections", "authorize", "zb", "--redirect-uri", "ftp://x")
    assert code == 2 and "redirect-uri: must be an absolute http(s) URL" in err


def test_the_idempotency_header_is_set_shown_changed_and_audited(cli: Cli) -> None:
    code, _, err = cli.inproc("connections", "add", "shop", "--auth", "api_key",
                              "--base-url", "https://api.example.com", "--secret-stdin",
                              "--idempotency-header", "Idempotency-Key", stdin="k-123")
    assert code == 0, err
    _, out, _ = cli.inproc("connections", "show", "shop")
    assert '"idempotency_header": "Idempotency-Key"' in out
    code, out, _ = cli.inproc("connections", "update", "shop", "--idempotency-header",
                              "X-Request-Id")
    assert code == 0 and "updated connection 'shop': idempotency_header" in out
    code, _, err = cli.inproc("connections", "update", "shop", "--idempotency-header",
                              "Bad Header")
    assert code == 2 and err.startswith("sluice connections: error: idempotency-header: ")
    code, out, _ = cli.inproc("connections", "audit", "shop", "--json")
    changes = [e["changes"].get("idempotency_header") for e in json.loads(out)]
    assert changes == [None, ["Idempotency-Key", "X-Request-Id"]]
    shown = json.loads(cli.inproc("connections", "show", "shop", "--json")[1])
    assert shown["params"]["idempotency_header"] == "X-Request-Id"
