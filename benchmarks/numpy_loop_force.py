"""A plain numpy loop of the FORCE LIF network, written for speed: the CPU baseline of the speed benchmarks.

The network of :class:`brianforce.methods.force.FORCETrainer` (same structure, encoders and
initial state for a seed), stepped with forward Euler as Nicola & Clopath's MATLAB code does:
in-place ufuncs, the static weights Ω stored densely by presynaptic neuron (a spike adds one
contiguous row), the RLS update with BLAS ``dsymv`` + ``dsyr`` on the upper triangle of ``P``
(one BLAS thread). Protocol: settle, RLS every ``rls_interval``, free-running test; prints and
appends the wall time and the test error of the first test second::

    python benchmarks/numpy_loop_force.py --seed 0 --n 2000 --phases 5 5 5

Results: ``benchmarks/results/numpy_loop_force.csv`` (one row per run, appended).
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from scipy.linalg.blas import dsymv, dsyr
from threadpoolctl import threadpool_limits


def run(n: int, seed: int, settle: float, train: float, test: float, frequency: float = 5.0) -> dict:
    from brianforce.methods.force import FORCETrainer

    tr = FORCETrainer(n, seed=seed)
    c = tr.config
    weights, eta, v0 = tr._draw_structure()   # the trainer's structure for this seed
    lif, dt = c.lif, c.dt
    omega = np.zeros((n, n))                   # row j: the weights of presynaptic neuron j
    omega[weights.pre, weights.post] = weights.value / (lif.tau_r * lif.tau_d)
    eta = np.ascontiguousarray(eta[:, 0])
    every = int(round(c.rls_interval / dt))
    n_settle, n_train, n_test = (int(round(x / dt)) for x in (settle, train, test))
    v = v0.copy()
    I_syn, h, r, hr = (np.zeros(n) for _ in range(4))
    refractory_until = np.full(n, -1.0)
    phi = np.zeros(n)
    P = np.asfortranarray(np.eye(n) * (1.0 / c.reg))   # alpha * I; only the upper triangle is used
    fm, fr, fd = dt / lif.tau_m, dt / lif.tau_r, dt / lif.tau_d
    own = 1.0 / (lif.tau_r * lif.tau_d)
    drive, tmp = np.empty(n), np.empty(n)
    z = 0.0
    record = int(round(c.record_dt / dt))
    zs, ts = [], []
    wall0 = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"):
        for i in range(n_settle + n_train + n_test):
            t = i * dt
            # membrane: tau_m dv/dt = -v + I_syn + bias + eta z  (unless refractory)
            np.multiply(eta, z, out=drive)
            drive += I_syn
            drive += lif.bias
            drive -= v
            drive *= fm
            drive[refractory_until > t] = 0.0
            v += drive
            # double-exponential filters of the input (I_syn, h) and of the own spikes (r, hr)
            np.multiply(h, dt, out=tmp)
            I_syn -= I_syn * fr
            I_syn += tmp
            np.multiply(hr, dt, out=tmp)
            r -= r * fr
            r += tmp
            h -= h * fd
            hr -= hr * fd
            spikes = np.flatnonzero(v >= lif.v_th)
            if spikes.size:
                v[spikes] = lif.v_reset
                refractory_until[spikes] = t + lif.tau_ref
                hr[spikes] += own
                h += omega[spikes].sum(axis=0) if spikes.size > 1 else omega[spikes[0]]
            z = float(phi @ r)
            in_training = n_settle <= i < n_settle + n_train
            if in_training and (i - n_settle + 1) % every == 0:
                err = z - np.sin(2 * np.pi * frequency * (t + dt))
                Pr = dsymv(1.0, P, r, lower=0)
                cinv = 1.0 / (1.0 + r @ Pr)
                phi -= (cinv * err) * Pr
                P = dsyr(-cinv, Pr, a=P, lower=0, overwrite_a=1)
            if i >= n_settle + n_train and i % record == 0:
                zs.append(z)
                ts.append(t)
    wall = time.perf_counter() - wall0
    ts, zs = np.asarray(ts), np.asarray(zs)
    first = ts < ts[0] + 1.0
    y = np.sin(2 * np.pi * frequency * (ts[first] + dt))
    amplitude = 1.0
    rmse = float(np.sqrt(np.mean((zs[first] - y) ** 2)) / amplitude)
    steps = n_settle + n_train + n_test
    return {"loop_s": wall, "steps": steps, "us_per_step": 1e6 * wall / steps, "rmse_over_amplitude": rmse}


def main(argv=None):
    from brianforce.io import append_csv_row

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--phases", type=float, nargs=3, default=[5.0, 5.0, 5.0], metavar=("SETTLE", "TRAIN", "TEST"))
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "numpy_loop_force.csv"))
    args = ap.parse_args(argv)
    res = run(args.n, args.seed, *args.phases)
    row = {"date": time.strftime("%Y-%m-%d %H:%M"), "n_neurons": args.n, "seed": args.seed,
           "settle_s": args.phases[0], "train_s": args.phases[1], "test_s": args.phases[2],
           "loop_s": round(res["loop_s"], 2), "us_per_step": round(res["us_per_step"], 1),
           "rmse_over_amplitude": round(res["rmse_over_amplitude"], 4),
           "load_avg_1min": round(os.getloadavg()[0], 2), "cpus": os.cpu_count()}
    append_csv_row(args.out, row)
    print(row)


if __name__ == "__main__":
    main()
