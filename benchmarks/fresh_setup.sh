#!/usr/bin/env bash
# README's two set-up commands on a fresh machine: a clean clone of this repository, a new virtual environment,
# an empty home folder and a bare environment (PATH, HOME and, where set, PIP_FIND_LINKS). The commands are read
# from README.md (its first two ```bash blocks: install + demo, install + tests). Appends one row per command
# (exit code, wall seconds, the demo's verdict or pytest's summary line, load, CPUs) to
# benchmarks/results/fresh_setup.csv. Step "tests-again" runs the test command once more in the same environment,
# with the compiled code cached:
#
#   bash benchmarks/fresh_setup.sh [WORKDIR [STEP ...]]
#
# WORKDIR (default /tmp/brianforce_fresh) is emptied first when every step runs (demo tests tests-again, the
# default); with steps named, an existing WORKDIR from an earlier run is reused.
set -u
REPO=$(cd "$(dirname "$0")/.." && pwd)
WORK=${1:-/tmp/brianforce_fresh}
shift $(( $# > 0 ? 1 : 0 ))
STEPS=${*:-demo tests tests-again}
RESULTS="$REPO/benchmarks/results/fresh_setup.csv"
if [ $# -eq 0 ] || [ ! -d "$WORK/venv" ]; then
    rm -rf "$WORK" && mkdir -p "$WORK/home"
    git clone -q "$REPO" "$WORK/repo"
    python3 -m venv "$WORK/venv"
fi
BIN="$WORK/venv/bin:/usr/local/bin:/usr/bin:/bin"

readme_block() {   # the n-th ```bash block of README.md, one line
    awk -v n="$1" '/^```bash/{k++; on=(k==n); next} /^```/{on=0} on' "$WORK/repo/README.md" | paste -sd ' '
}

run_step() {
    local step=$1 command=$2 t0 rc seconds summary
    # a reused WORKDIR holds an earlier demo's output, which the demo refuses to overwrite
    [ "$step" = demo ] && rm -rf "$WORK/repo/demo_output"
    t0=$(date +%s)
    env -i PATH="$BIN" HOME="$WORK/home" ${PIP_FIND_LINKS:+PIP_FIND_LINKS="$PIP_FIND_LINKS"} \
        PIP_DISABLE_PIP_VERSION_CHECK=1 bash -c "cd '$WORK/repo' && $command" > "$WORK/$step.log" 2>&1
    rc=$?
    seconds=$(( $(date +%s) - t0 ))
    if [ "$step" = demo ]; then
        summary=$(grep -o '"passed": *[a-z]*' "$WORK/repo/demo_output/summary.json" 2>/dev/null | head -1)
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

for step in $STEPS; do
    case $step in
        demo) run_step demo "$(readme_block 1)" ;;
        tests) run_step tests "$(readme_block 2)" ;;
        tests-again) run_step tests-again "python3 -m pytest" ;;
        *) echo "unknown step $step (demo, tests, tests-again)" >&2; exit 2 ;;
    esac
done
