"""A signed `invokeurl` against a plain httpx call to the same loopback server (issue:
connections; goal <= 1.1x).

    python tests/benchmarks/bench_connections.py [--quick] [--profile]

Both sides make the same GET of a small JSON document from the local Books-like API
(sluicegate.examples.provider on 127.0.0.1), with keep-alive, one after the other in one
process, and the best of several rounds is kept (the machine is shared and noisy):

- sluice: `Runtime.run` of a cached one-line script whose `invokeurl` names an OAuth 2
  connection: the broker checks the base URL, the registry's grant signs the request
  with `Zoho-oauthtoken`, the response is scrubbed of the token and parsed into a MAP,
  and the call is traced;
- httpx: `client.get(url, headers={"Authorization": ...}).json()` on one httpx.Client.

`--profile` runs the signed side under pyinstrument and prints where the time goes.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from sluicegate.connections.keyring import Keyring, generate_key
from sluicegate.connections.registry import Registry
from sluicegate.engine import Runtime
from sluicegate.examples.provider import LocalProvider
from sluicegate.http.broker import Broker
from sluicegate.http.guard import HostPolicy
from sluicegate.store.db import make_engine
from sluicegate.store.migrate import upgrade

QUICK = "--quick" in sys.argv
CALLS = 100 if QUICK else 400
ROUNDS = 3 if QUICK else 7


def per_call(fn: Callable[[], Any], calls: int, rounds: int) -> float:
    """Best mean seconds per call over `rounds` rounds of `calls` calls."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def connected_registry(provider: LocalProvider, home: Path) -> Registry:
    engine = make_engine(f"sqlite:///{home / 'bench.db'}")
    upgrade(engine)
    registry = Registry(engine, Keyring.from_texts([generate_key()]), actor="bench",
                        owns_engine=True)
    registry.add("zb", "oauth2", secret=provider.client_secret, client_id=provider.client_id,
                 authorize_url=provider.authorize_url, token_url=provider.token_url,
                 base_urls=[provider.api_base], header_format="Zoho-oauthtoken {token}")
    start = registry.begin_authorization("zb", "http://127.0.0.1:9/oauth/callback")
    answer = dict(parse_qsl(urlsplit(provider.approve(start.url)).query))
    registry.complete_authorization(answer["state"], answer["code"])
    return registry


def main() -> None:
    with tempfile.TemporaryDirectory() as home, LocalProvider() as provider:
        registry = connected_registry(provider, Path(home))
        broker = Broker(registry, policy=HostPolicy())
        runtime = Runtime(broker=broker)
        url = f"{provider.api_base}/organizations"
        script = f'return invokeurl [ url: "{url}" type: GET connection: "zb" ];'
        token = next(iter(provider.state.access))
        client = httpx.Client(trust_env=False)
        try:
            signed_result = runtime.run(script, {})
            assert signed_result.ok, signed_result.error
            plain_result = client.get(url, headers={
                "Authorization": f"Zoho-oauthtoken {token}"}).json()
            assert signed_result.value["code"] == plain_result["code"] == 0

            def signed() -> None:
                runtime.run(script, {})

            def plain() -> None:
                client.get(url, headers={"Authorization": f"Zoho-oauthtoken {token}"}).json()

            if "--profile" in sys.argv:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0002)
                with profiler:
                    per_call(signed, CALLS, 1)
                print(profiler.output_text(unicode=False, color=False, show_all=False))
            per_call(signed, CALLS // 4, 1)  # warm both paths and the server's threads
            per_call(plain, CALLS // 4, 1)
            ours = theirs = float("inf")
            for _ in range(ROUNDS):  # interleaved rounds: both sides see the same load
                ours = min(ours, per_call(signed, CALLS, 1))
                theirs = min(theirs, per_call(plain, CALLS, 1))
            rate = CALLS / (ours * CALLS)
        finally:
            client.close()
            broker.close()
    print(f"{'signed invokeurl vs plain httpx GET':<44} sluice {ours * 1e3:7.3f} ms  "
          f"httpx {theirs * 1e3:7.3f} ms  ratio {ours / theirs:5.2f}x   (goal <= 1.1x)")
    print(f"{'overhead per signed call':<44} {(ours - theirs) * 1e3:7.3f} ms  "
          f"({rate:,.0f} signed calls/s)")


if __name__ == "__main__":
    main()
