"""``benchmarks/kill_test.py`` with 3 kills per command: nothing invalid accepted, nothing finished lost."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_kill_test_finds_no_violation(tmp_path):
    results = tmp_path / "kill_test.csv"
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "kill_test.py"), "--kills", "3", "--seed", "1",
                           "--results", str(results)], capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    rows = results.read_text().splitlines()
    assert rows[0] == "run,command,kill_at_s,outcome,found,valid"
    assert len(rows) - 1 >= 4 * 3 + 2                  # 3 kills each of 4 commands, refusal, final resume
