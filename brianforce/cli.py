"""Command line: ``brianforce demo | ...``."""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

__all__ = ["main", "run_demo"]

DEMO_FULL = dict(n_neurons=2000, settle=0.5, train=9.5, test=2.0)
DEMO_QUICK = dict(n_neurons=500, settle=0.3, train=3.0, test=1.0)


def _log(msg: str) -> None:
    print(f"[brianforce {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run_demo(out, *, quick: bool = False, seed: int = 0, task: str = "sinusoid", n_neurons: int | None = None,
             settle: float | None = None, train: float | None = None, test: float | None = None,
             progress: bool = True) -> dict:
    """Train the Nicola & Clopath sinusoid LIF network, test it, write summary, figure and model.

    Durations in seconds. Returns the summary dictionary (also written to
    ``out/summary.json``).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from brian2 import second

    from .plotting import plot_force_summary
    from .tasks import make_task
    from .training import FORCETrainer

    d = dict(DEMO_QUICK if quick else DEMO_FULL)
    for key, val in dict(n_neurons=n_neurons, settle=settle, train=train, test=test).items():
        if val is not None:
            d[key] = val
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    the_task = make_task(task)
    report = "text" if progress else None
    _log(f"task {task!r}: N = {d['n_neurons']}, settle {d['settle']} s, train {d['train']} s, "
         f"test {d['test']} s, seed {seed}")
    trainer = FORCETrainer(d["n_neurons"], the_task.n_outputs, seed=seed)
    wall0 = time.perf_counter()
    _log("building and compiling the Brian2 network, then settling + RLS training …")
    trainer.fit(the_task, settle=d["settle"] * second, train=d["train"] * second, report=report)
    fit_wall = time.perf_counter() - wall0
    _log(f"trained in {fit_wall:.1f} s wall ({trainer.timings_['n_rls_updates']} RLS updates); free-running test …")
    result = trainer.predict(d["test"] * second, report=report)
    first = result.window(result.t[0], result.t[0] + min(1.0, d["test"]))
    metrics = first.metrics(the_task.period)
    whole = result.metrics(the_task.period)
    summary = {
        "task": task, "seed": seed, **{k: d[k] for k in ("n_neurons",)},
        "durations_s": {k: d[k] for k in ("settle", "train", "test")},
        "test_first_second": metrics,
        "test_whole": whole,
        "wall_time_s": {"fit": fit_wall, "simulation": trainer.timings_["simulation_s"],
                        "rls": trainer.timings_["rls_s"], "test": result.wall_time},
        "n_rls_updates": trainer.timings_["n_rls_updates"],
        "final_training_abs_error": float(trainer.history_.abs_error[-50:].mean()),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    axes = plot_force_summary(result, trainer.history_, trainer.train_result_)
    axes[0].set_title(f"FORCE-trained LIF network (N = {d['n_neurons']}, {task}): RMSE/amp "
                      f"{metrics['rmse_over_amplitude'][0]:.3f}, corr {metrics['lag_adjusted_correlation'][0]:.3f}")
    fig = axes[0].figure
    fig.savefig(out / "demo.png", dpi=110)
    plt.close(fig)
    trainer.save(out / "model.npz")
    _log(f"test (first second): RMSE/amplitude {metrics['rmse_over_amplitude']}, "
         f"lag-adjusted correlation {metrics['lag_adjusted_correlation']}, "
         f"frequency {metrics['output_frequency_hz']} Hz")
    _log(f"wrote {out / 'summary.json'}, {out / 'demo.png'}, {out / 'model.npz'}")
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="brianforce", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="train and test the Nicola & Clopath sinusoid LIF network")
    demo.add_argument("--out", default="demo_output", help="output folder (default: demo_output)")
    demo.add_argument("--quick", action="store_true", help="smaller, shorter run (N = 500)")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--task", default="sinusoid", help="sinusoid | van_der_pol | sum_of_sinusoids | sawtooth")
    demo.add_argument("--n-neurons", type=int)
    demo.add_argument("--settle", type=float, help="seconds")
    demo.add_argument("--train", type=float, help="seconds")
    demo.add_argument("--test", type=float, help="seconds")
    args = parser.parse_args(argv)
    if args.command == "demo":
        run_demo(args.out, quick=args.quick, seed=args.seed, task=args.task, n_neurons=args.n_neurons,
                 settle=args.settle, train=args.train, test=args.test)
    return 0


if __name__ == "__main__":
    sys.exit(main())
