"""A separate process for the multi-process refresh test: N concurrent runs through its
own registry and broker, all starting when the parent creates the go file.

    python refresh_worker.py DB_URL SCHEMA|- LINK API_URL GO_FILE N
The master key comes from SLUICE_MASTER_KEY (never argv). Prints "ready", then one JSON
line: {"ok": runs that succeeded, "generations": token generations used, "errors": [...]}.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from sluicegate.connections.keyring import Keyring
from sluicegate.connections.registry import Registry
from sluicegate.engine import Runtime
from sluicegate.http.broker import Broker
from sluicegate.store.db import make_engine


def main() -> int:
    db_url, schema, link, api_url, go_file, count = sys.argv[1:7]
    options = {"connect_args": {"options": f"-csearch_path={schema}"}} if schema != "-" else {}
    engine = make_engine(db_url, **options)
    registry = Registry(engine, Keyring.from_texts([os.environ["SLUICE_MASTER_KEY"]]))
    broker = Broker(registry)
    runtime = Runtime(broker=broker)
    script = (f'r = invokeurl [ url: "{api_url}/invoices" type: GET '
              f'parameters: {{"organization_id": "1"}} connection: "{link}" ]; '
              f'return r.get("code");')
    results: list[object] = []
    barrier = threading.Barrier(int(count))

    def one() -> None:
        barrier.wait()
        results.append(runtime.run(script, {}))

    print("ready", flush=True)
    deadline = time.monotonic() + 20
    while not Path(go_file).exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    threads = [threading.Thread(target=one) for _ in range(int(count))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r for r in results if r.ok and r.value == 0]  # type: ignore[attr-defined]
    generations = sorted({c["token_generation"] for r in results
                          for c in r.http})  # type: ignore[attr-defined]
    errors = [r.error.message for r in results if not r.ok]  # type: ignore[attr-defined]
    print(json.dumps({"ok": len(ok), "generations": generations, "errors": errors[:3]}),
          flush=True)
    broker.close()
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
