"""The shared conformance cases (../shared/conformance), run through the installed `sluice`.

They are the language contract in executable form. The folder lives beside the checkout
(as in CI and the developers' machines); elsewhere the test is skipped and says why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

RUNNER = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "run"


@pytest.mark.skipif(not RUNNER.exists(), reason=f"no conformance cases at {RUNNER}")
def test_shared_conformance_cases_pass() -> None:
    sluice = shutil.which("sluice") or os.path.join(os.path.dirname(sys.executable), "sluice")
    proc = subprocess.run([sys.executable, str(RUNNER), "--sluice", sluice, "-j", "2"],
                          capture_output=True, text=True, timeout=600)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr
    assert proc.returncode == 0, proc.stdout[-4000:] + "\n" + summary
