"""Start-up of headless runs: a run imports only what its lesson needs (issue 14)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def test_a_lesson_without_torch_runs_without_importing_torch_or_numpy(tmp_path):
    code = ("import sys\n"
            "from labapp.cli import main\n"
            f"code = main(['run', 'gradient-descent', '--epochs', '3', '--quiet', '--out', {str(tmp_path)!r}])\n"
            "print(code, sorted(m for m in ('torch', 'numpy', 'torch._dynamo') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.stdout.splitlines()[-1] == "0 []", done.stdout + done.stderr


def test_a_lesson_that_builds_no_optimizer_does_not_import_torch_dynamo_and_torchs_threads_wait_quietly(tmp_path):
    code = ("import sys\n"
            "from labapp.cli import main\n"
            f"code = main(['run', 'backprop', '--epochs', '2', '--quiet', '--out', {str(tmp_path)!r}])\n"
            "import os\n"
            "print(code, 'torch' in sys.modules, 'torch._dynamo' in sys.modules, os.environ.get('OMP_WAIT_POLICY'))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.stdout.splitlines()[-1] == "0 True False PASSIVE", done.stdout + done.stderr
