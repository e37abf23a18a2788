#!/usr/bin/env bash
# README's two set-up commands on a fresh machine: a clean clone of this repository, a new virtual environment,
# an empty home folder and a bare environment (PATH, HOME and, where set, PIP_FIND_LINKS). The commands are read
# from README.md (its first two ```bash blocks: install + demo, install + tests). Appends one row per command
# (exit code, wall seconds, the demo's verdict or pytest's summary line, load, CPUs) to
# benchmarks/results/fresh_setup.csv:
#
#   bash benchmarks/fresh_setup.sh [WORKDIR]        # WORKDIR (default /tmp/brianforce_fresh) is emptied first
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-/tmp/brianforce_fresh}
RESULTS="$REPO/benchmarks/results/fresh_setup.csv"
rm -rf "$WORK" && mkdir -p "$WORK/home"
git clone -q "$REPO" "$WORK/repo"
python3 -m venv "$WORK/venv"
BIN="$WORK/venv/bin:/usr/local/bin:/usr/bin:/bin"

readme_block() {   # the n-th ```bash block of README.md, one line
    awk -v n="$1" '/^```bash/{k++; on=(k==n); next} /^```/{on=0} on' "$WORK/repo/README.md" | paste -sd ' '
}

run_step() {
    local step=$1 command=$2 t0 rc seconds summary
    t0=$(date +%s)
    env -i PATH="$BIN" HOME="$WORK/home" ${PIP_FIND_LINKS:+PIP_FIND_LINKS="$PIP_FIND_LINKS"} \
        PIP_DISABLE_PIP_VERSION_CHECK=1 bash -c "cd '$WORK/repo' && $command" > "$WORK/$step.log" 2>&1
    rc=$?
    seconds=$(( $(date +%s) - t0 ))
    if [ "$step" = demo ]; then
        summary=$(grep -o '"verdict": *"[a-z_]*"' "$WORK/repo/demo_output/summary.json" 2>/dev/null | head -1)
    else
        summary=$(grep -E '[0-9]+ (passed|failed)' "$WORK/$step.log" | tail -1 | tr -d '=')
    fi
    python3 - "$RESULTS" "$step" "$command" "$rc" "$seconds" "$summary" <<'EOF'
import csv, os, platform, sys, time
path, step, command, rc, seconds, summary = sys.argv[1:]
row = {"date": time.strftime("%Y-%m-%d %H:%M"), "step": step, "command": command, "exit_code": int(rc),
       "seconds": int(seconds), "summary": summary.strip(), "load_avg_1min": round(os.getloadavg()[0], 2),
       "cpus": os.cpu_count(), "python": platform.python_version()}
new = not os.path.exists(path)
with open(path, "a", newline="") as f:
    w = csv.DictWriter(f, fieldnames=list(row))
    if new:
        w.writeheader()
    w.writerow(row)
print(row)
EOF
}

run_step demo "$(readme_block 1)"
run_step tests "$(readme_block 2)"
