"""Time of one BPTT step of the Kim et al. (2019) rate network with one BLAS thread and with all of them.

Why :class:`~brianforce.rate.backprop.DaleRNNTrainer` trains with BLAS pinned to one thread: one trial per
Adam step (batch size 1, as in the paper) makes every product a (1 × N) · (N × N) one, far too small to
share between threads, and with another process on the machine the threads wait for a busy core. Each row
is the mean (and median, 90th percentile) time of ``loss_and_gradients`` on one XOR trial (N = 200, 300 steps of 5 ms), and whether the
gradients equal those of one thread bit for bit. Appends to ``benchmarks/results/bptt_threads.csv``::

    python benchmarks/bptt_threads.py [--steps 200] [--busy]

``--busy`` runs a second process that keeps one core busy (a numpy loop) while timing, as a second
training or test job does.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results" / "bptt_threads.csv"


def _spin(stop):
    x = np.random.default_rng(0).random(1000)
    while not stop.is_set():
        np.sin(x, out=x)


def time_steps(steps: int, seed: int = 0):
    """Seconds per ``loss_and_gradients`` call on one XOR trial and the gradients of the last call."""
    from brianforce.rate.backprop import init_dale_rnn, loss_and_gradients
    from brianforce.tasks.kim2019 import XOR

    task = XOR()
    params = init_dale_rnn(200, task.n_inputs, seed, tau_min=0.02, tau_max=0.1, dt=task.dt)
    batch = task.sample(1, np.random.default_rng(seed))
    target = batch.targets[:, :, 0]
    noise = params.noise_std * np.random.default_rng(seed + 1).standard_normal(batch.inputs.shape[:2] + (200,))
    out = np.empty(steps)
    for k in range(steps):
        t0 = time.perf_counter()
        _, grads, _ = loss_and_gradients(params, batch.inputs, target, x0=np.zeros(200), noise=noise)
        out[k] = time.perf_counter() - t0
    return out, grads


def main(argv=None):
    from threadpoolctl import threadpool_info, threadpool_limits

    from brianforce.io import append_csv_row

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--busy", action="store_true", help="keep one core busy with another process meanwhile")
    ap.add_argument("--results", default=str(RESULTS))
    a = ap.parse_args(argv)
    blas_info = [i for i in threadpool_info() if i["user_api"] == "blas"]
    most = max((i["num_threads"] for i in blas_info), default=1)
    stop = mp.Event()
    spinner = mp.Process(target=_spin, args=(stop,), daemon=True) if a.busy else None
    if spinner is not None:
        spinner.start()
        time.sleep(1.0)
    try:
        reference = None
        for threads in sorted({1, most}):
            with threadpool_limits(threads, user_api="blas"):
                t, grads = time_steps(a.steps)
            reference = reference or grads
            same = all(np.array_equal(grads[k], reference[k]) for k in grads)
            row = {"date": time.strftime("%Y-%m-%d %H:%M"), "n_units": 200, "trial_steps": 300,
                   "blas_threads": threads, "busy_process": bool(a.busy), "cpus": os.cpu_count(), "steps": a.steps,
                   "ms_per_step_mean": round(float(1e3 * np.mean(t)), 3),
                   "ms_per_step_median": round(float(1e3 * np.median(t)), 3),
                   "ms_per_step_p90": round(float(1e3 * np.quantile(t, 0.9)), 3),
                   "gradients_equal_one_thread": same, "load_avg_1min": round(os.getloadavg()[0], 2)}
            append_csv_row(a.results, row)
            print(row, flush=True)
    finally:
        stop.set()
        if spinner is not None:
            spinner.join(5)


if __name__ == "__main__":
    main()
