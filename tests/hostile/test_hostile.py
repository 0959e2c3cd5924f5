"""The hostile-script suite: scripts that try to escape, exhaust or rob the sandbox.

Every `*.dg` file below this folder runs twice: in isolated mode (a child forked from the
zygote, as `sluice serve` runs scripts) and in-process (as `sluice run`, the Python API
and `serve --in-process` run them, with no rlimit to fall back on). Both must end with
the error its header names, inside its limits (in-process: within twice the time limit),
with the host still serving and no secret anywhere in what the run returns.

Header lines (comments at the top of the script):

    // expect error: LimitExceeded: Text size limit      type and a part of the message
    // expect: some log line                              the run's `info` lines, in order
    // args: --timeout 3 --max-statements 1000            limits of this run
                                                          (also --max-memory BYTES, --max-elements N)
    // inputs: {"n": 0}                                   inputs (JSON)
    // needs: lab                                         runs against local HTTP servers;
                                                          {{LAB}} is the server's root URL,
                                                          {{OTHER}} another origin on it

The connections "lab" (API key in a header) and "zb" (OAuth 2, authorized against the
local provider) are bound to {{LAB}}/; their secrets are what the leak check looks for.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from sluicegate.connections.keyring import Keyring, generate_key
from sluicegate.connections.registry import Registry
from sluicegate.engine import Runtime, RunResult
from sluicegate.examples.provider import LocalProvider
from sluicegate.http.broker import Broker
from sluicegate.http.guard import HostPolicy
from sluicegate.isolation import IsolatedExecutor, ZygoteForker
from sluicegate.limits import Limits
from sluicegate.store.db import make_engine
from sluicegate.store.migrate import upgrade

ROOT = Path(__file__).parent
SCRIPTS = sorted(ROOT.rglob("*.dg"))
API_KEY = "hostile-suite-api-key-5f1c9a7e2b"
MASTER_KEY = generate_key()
_HEADER = re.compile(r"^\s*//\s*(expect error|expect|args|inputs|needs):\s?(.*?)\s*$")
_FLAGS = {"--timeout": ("timeout", float), "--max-statements": ("max_statements", int),
          "--max-http-calls": ("max_http_calls", int), "--max-memory": ("memory_bytes", int),
          "--max-elements": ("max_elements", int)}


def _header(text: str) -> dict[str, Any]:
    spec: dict[str, Any] = {"error": None, "logs": [], "limits": {}, "inputs": {},
                            "lab": False}
    for line in text.splitlines():
        m = _HEADER.match(line)
        if not m:
            continue
        key, value = m.groups()
        if key == "expect error":
            kind, _, message = value.partition(":")
            spec["error"] = (kind.strip(), message.strip())
        elif key == "expect":
            spec["logs"].append(value)
        elif key == "inputs":
            spec["inputs"] = json.loads(value, parse_float=Decimal)
        elif key == "needs":
            spec["lab"] = value == "lab"
        else:
            words = value.split()
            for flag, raw in zip(words[::2], words[1::2]):
                field, kind = _FLAGS[flag]
                spec["limits"][field] = kind(raw)
    return spec


@pytest.fixture(scope="module")
def zygote() -> Iterator[ZygoteForker]:
    forker = ZygoteForker()
    yield forker
    forker.close()


@pytest.fixture(scope="module")
def provider() -> Iterator[LocalProvider]:
    with LocalProvider() as p:
        yield p


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory,
             provider: LocalProvider) -> Iterator[Registry]:
    path = tmp_path_factory.mktemp("hostile") / "sluice.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    reg = Registry(engine, Keyring.from_texts([MASTER_KEY]))
    root = provider.api_base.split("/books/")[0] + "/"
    reg.add("lab", "api_key", secret=API_KEY, base_urls=[root], param_type="header",
            param_name="X-Api-Key")
    reg.add("zb", "oauth2", secret=provider.client_secret, client_id=provider.client_id,
            authorize_url=provider.authorize_url, token_url=provider.token_url,
            base_urls=[root], header_format="Zoho-oauthtoken {token}")
    start = reg.begin_authorization("zb", "http://127.0.0.1:9/oauth/callback")
    answer = dict(parse_qsl(urlsplit(provider.approve(start.url)).query))
    reg.complete_authorization(answer["state"], answer["code"])
    yield reg
    reg.close()
    engine.dispose()


@pytest.fixture(scope="module")
def executors(zygote: ZygoteForker, registry: Registry) -> Iterator[dict[str, IsolatedExecutor]]:
    """Offline: the production policy (no local hosts). Lab: loopback allowed for plain
    requests, so that redirects and echoes of the local servers can be exercised."""
    offline = Broker(registry, policy=HostPolicy())
    lab = Broker(registry, policy=HostPolicy.parse("127.0.0.1"))
    yield {"offline": IsolatedExecutor(broker=offline, forker=zygote, timezone="UTC"),
           "lab": IsolatedExecutor(broker=lab, forker=zygote, timezone="UTC")}
    offline.close()
    lab.close()


def _secrets(registry: Registry, provider: LocalProvider) -> list[str]:
    """Every credential value of both connections, as the broker knows them."""
    values = {API_KEY, MASTER_KEY, provider.client_secret}
    for link in ("lab", "zb"):
        values.update(s for s in registry.grant(link).secrets if len(s) >= 8)
    return sorted(values)


def test_the_suite_is_large_enough() -> None:
    assert len(SCRIPTS) >= 60


@pytest.mark.parametrize("mode", ["isolated", "in-process"])
@pytest.mark.parametrize("path", SCRIPTS, ids=[str(p.relative_to(ROOT)) for p in SCRIPTS])
def test_hostile_script(path: Path, mode: str, executors: dict[str, IsolatedExecutor],
                        registry: Registry, provider: LocalProvider) -> None:
    text = path.read_text(encoding="utf-8")
    spec = _header(text)
    assert spec["error"] is not None, "every hostile script names the error it ends with"
    if spec["lab"]:
        root = provider.api_base.split("/books/")[0]
        port = urlsplit(root).port
        text = text.replace("{{LAB}}", root).replace("{{OTHER}}", f"http://localhost:{port}")
    limits = Limits().with_(**spec["limits"])
    executor = executors["lab" if spec["lab"] else "offline"]
    started = time.monotonic()
    if mode == "isolated":
        result: RunResult = executor.execute(text, spec["inputs"], limits, filename=path.name)
    else:
        runtime = Runtime(broker=executor.broker, timezone="UTC")
        result = runtime.run(text, spec["inputs"], limits=limits, filename=path.name)
    elapsed = time.monotonic() - started
    out = result.to_json()
    kind, message = spec["error"]
    assert out["status"] == "failure", f"the script was not stopped: {out}"
    assert out["error"]["type"] == kind, out["error"]
    assert message.lower() in out["error"]["message"].lower(), out["error"]
    if spec["logs"]:
        assert out["logs"][:len(spec["logs"])] == spec["logs"], out["logs"]
    if mode == "isolated":
        # it ended within its limit (plus the time to fork, kill and reap)
        assert elapsed < limits.timeout + 5, elapsed
    else:
        # no kill from outside: every built-in keeps to the run's deadline itself
        assert elapsed < 2 * limits.timeout + 1, elapsed
    # no secret in anything the run gives back
    printed = result.to_json_text()
    for secret in _secrets(registry, provider):
        assert secret not in printed
    # and the host still serves
    if mode == "isolated":
        after = executor.execute('info "still here";', {}, Limits(), filename="after.dg")
    else:
        after = Runtime().run('info "still here";', {}, limits=Limits(), filename="after.dg")
    assert after.logs == ["still here"]


_ISOLATED, _IN_PROCESS = True, False
_CLI_SAMPLE = [(name, _ISOLATED) for name in (
    "python/import_function.dg", "size/text_doubling.dg", "clevel/memory_exhaustion.dg",
    "recursion/self_recursion.dg", "network/ipv4_mapped_ipv6.dg", "parser/nested_lists.dg",
    "floods/info_flood.dg", "text/surrogate_pair_literal.dg", "text/lone_surrogate_input.dg")]
_CLI_SAMPLE += [(name, _IN_PROCESS) for name in (
    "text/surrogate_pair_literal.dg", "text/lone_surrogate_input.dg",
    "numbers/literal_one_past_max.dg", "inprocess/tostring_list_of_big_texts.dg",
    "inprocess/xpath_deep_document.dg")]


@pytest.mark.parametrize(("name", "isolated"), _CLI_SAMPLE,
                         ids=[f"{n}-{'isolated' if i else 'in-process'}" for n, i in _CLI_SAMPLE])
def test_the_command_line_reports_the_same_end(name: str, isolated: bool,
                                                 tmp_path: Path) -> None:
    """`sluice run [--isolated] --json`, as the hidden suite runs it: the same error, JSON
    on stdout, exit status 1, nothing on stderr, no files written."""
    import os
    import subprocess
    import sys

    path = ROOT / name
    spec = _header(path.read_text(encoding="utf-8"))
    command = [sys.executable, "-m", "sluicegate.cli", "run", "--json", str(path)]
    if isolated:
        command.append("--isolated")
    limits = spec["limits"]
    if "timeout" in limits:
        command += ["--timeout", str(limits["timeout"])]
    if spec["inputs"]:
        (tmp_path / "inputs.json").write_text(json.dumps(spec["inputs"], default=str))
        command += ["--inputs", str(tmp_path / "inputs.json")]
    env = {**os.environ, "SLUICE_HOME": str(tmp_path / "home")}
    env.pop("SLUICE_DATABASE_URL", None)
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    out = json.loads(done.stdout)
    kind, message = spec["error"]
    assert out["error"]["type"] == kind
    assert message.lower() in out["error"]["message"].lower()
    assert out["stats"].get("isolated", False) is isolated
    assert not (tmp_path / "home").exists()


def test_inputs_nested_past_the_interpreter_are_a_usage_error(tmp_path: Path) -> None:
    """A --inputs file nested 100,000 levels deep: exit status 2 and a message naming the
    option, never a RecursionError traceback."""
    import subprocess
    import sys

    deep = tmp_path / "deep.json"
    deep.write_text('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    script = tmp_path / "s.dg"
    script.write_text("return x;")
    done = subprocess.run([sys.executable, "-m", "sluicegate.cli", "run", str(script),
                           "--inputs", str(deep)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "--inputs" in done.stderr and "nested deeper" in done.stderr
    assert "Traceback" not in done.stderr
