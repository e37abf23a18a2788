"""Nicola & Clopath's LIF sinusoid in their original discretisation: Brian2 vs the numpy loop.

For each seed, one static network (ω, E, v0 drawn as :class:`brianforce.FORCETrainer` draws
them) runs the full 15-s protocol of ``LIFFORCESINE.m`` — 5 s without learning, RLS every
2.5 ms (α = 5e-6, un-normalised) from 5 s to 10 s, 5 s test — three times:

* ``brian2`` — :func:`brianforce.networks.nicola_clopath_network` + :class:`brianforce.learning.FORCE`;
* ``loop`` — :func:`brianforce.networks.nicola_clopath_loop` (refractory test on whole steps);
* ``loop_matlab_refractory`` — the loop with MATLAB's floating-point refractory test
  (``--no-matlab`` skips it).

Rows (one per seed and implementation) are appended to
``benchmarks/results/nicola_clopath_discretisation.csv``: first-second test RMSE/amplitude,
lag-adjusted correlation, frequency, rate, wall times, and for the loops the first step at
which their spikes differ from Brian2's and the largest decoder difference. The summary
(medians, two-sample Kolmogorov–Smirnov and Mann–Whitney tests against ``brian2``) is printed
and appended to ``benchmarks/results/nicola_clopath_discretisation_summary.csv``.

    nohup python benchmarks/nicola_clopath_discretisation.py [--seeds 0 1 ...] [--n-neurons 2000] &
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")     # before numpy: one BLAS thread (shared machine)

import argparse  # noqa: E402
import datetime  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy import stats  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DT = 5e-5


def draw(seed: int, n: int):
    """ω, E, v0 as FORCETrainer draws them (N&C: G = 0.04 mV·s, p = 0.1, Q = 10 mV,
    v0 = v_reset + U(0, 1)·95 mV)."""
    from brianforce.networks.connectivity import feedback_weights, static_weights
    from brianforce.neurons import LIFParams
    from brianforce.seeding import rng_for

    weights = static_weights(n, 0.1, 0.04e-3, rng_for(seed, "connectivity"))
    E = feedback_weights(n, 1, 10e-3, rng_for(seed, "encoders"))
    v0 = LIFParams().v_reset + rng_for(seed, "initial_state").random(n) * 95e-3
    return weights, E, v0


def first_mismatch(step_a, i_a, step_b, i_b) -> int:
    """First loop step at which two spike lists (step, neuron) differ; -1 if identical."""
    a = np.lexsort((i_a, step_a))
    b = np.lexsort((i_b, step_b))
    sa, ia, sb, ib = step_a[a], i_a[a], step_b[b], i_b[b]
    n = min(len(sa), len(sb))
    diff = np.flatnonzero((sa[:n] != sb[:n]) | (ia[:n] != ib[:n]))
    if len(diff):
        return int(min(sa[diff[0]], sb[diff[0]]))
    if len(sa) != len(sb):
        return int((sa if len(sa) > n else sb)[n])
    return -1


def run_brian2(weights, E, v0, task, settle, train, test, n_record):
    import brian2 as b2
    from brian2 import Network, SpikeMonitor, ms, second, volt

    from brianforce.learning import FORCE
    from brianforce.networks import nicola_clopath_network

    b2.prefs.codegen.target = "cython"
    b2.start_scope()
    neurons, synapses = nicola_clopath_network(weights, v0, dt=DT * second)
    smon = SpikeMonitor(neurons)
    net = Network(neurons, synapses, smon)
    force = FORCE(neurons, regressor="r", feedback="I_fb", encoders=E * volt, network=net, alpha=5e-6,
                  normalised=False, interval=2.5 * ms, n_record=n_record)
    w0 = time.perf_counter()
    force.fit(task, settle=settle * second, train=train * second)
    res = force.predict(test * second)
    wall = time.perf_counter() - w0
    steps = np.round(np.asarray(smon.t_) / DT).astype(np.int64) + 1      # loop step of each spike
    return dict(result=res, spike_step=steps, spike_i=np.asarray(smon.i[:]).astype(np.int64),
                phi=np.asarray(force.decoder_ / second), errors=force.history_.errors, wall=wall,
                rls_s=force.timings_["rls_s"])


def run_loop(weights, E, v0, task, settle, train, test, n_record, refractory):
    from brianforce.learning import SimulationResult
    from brianforce.networks import nicola_clopath_loop

    out = nicola_clopath_loop(weights, E, v0, task, settle=settle, train=train, test=test, alpha=5e-6,
                              dt=DT, interval=2.5e-3, refractory=refractory)
    n0 = int(round((settle + train) / DT))
    t = (np.arange(len(out.z)) * DT)[n0:]                # Brian2's convention: start of the step
    keep = (out.spike_step > n0) & (out.spike_i < n_record)
    res = SimulationResult(t, out.z[n0:], out.target[n0:], out.spike_i[keep], (out.spike_step[keep] - 1) * DT,
                           n_record, len(v0), "test", out.wall_time)
    return dict(result=res, spike_step=out.spike_step, spike_i=out.spike_i, phi=out.phi, errors=out.errors,
                wall=out.wall_time, rls_s=np.nan)


def summarise(df: pd.DataFrame, run_id: str) -> pd.DataFrame:
    rows = []
    ref = df[df.implementation == "brian2"]
    for impl, g in df.groupby("implementation", sort=False):
        row = dict(run_id=run_id, implementation=impl, n_seeds=len(g))
        for col in ("rmse_over_amplitude", "lag_adjusted_correlation", "output_frequency_hz", "mean_rate_hz",
                    "wall_s_per_simulated_s"):
            row[f"median_{col}"] = float(np.median(g[col]))
        if impl != "brian2" and len(ref) and len(g):
            for col in ("rmse_over_amplitude", "lag_adjusted_correlation"):
                row[f"ks_p_{col}"] = float(stats.ks_2samp(g[col], ref[col]).pvalue)
                row[f"mannwhitney_p_{col}"] = float(stats.mannwhitneyu(g[col], ref[col],
                                                                       alternative="two-sided").pvalue)
            paired = g.merge(ref, on="seed", suffixes=("", "_b"))
            row["seeds_spike_identical"] = int((paired.first_mismatch_step == -1).sum())
            row["max_abs_rmse_difference"] = float(np.max(np.abs(paired.rmse_over_amplitude
                                                                 - paired.rmse_over_amplitude_b)))
        rows.append(row)
    return pd.DataFrame(rows)


def append(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        old = pd.read_csv(path, nrows=0).columns.tolist()
        frame = frame.reindex(columns=old + [c for c in frame.columns if c not in old])
        if list(frame.columns) != old:            # new columns: rewrite with the union, keeping every old row
            frame = pd.concat([pd.read_csv(path), frame], ignore_index=True)
            frame.to_csv(path, index=False)
            return
    frame.to_csv(path, mode="a", header=not path.exists(), index=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=list(range(8)))
    ap.add_argument("--n-neurons", type=int, default=2000)
    ap.add_argument("--settle", type=float, default=5.0)
    ap.add_argument("--train", type=float, default=5.0)
    ap.add_argument("--test", type=float, default=5.0)
    ap.add_argument("--no-matlab", action="store_true", help="skip the loop with MATLAB's refractory rounding")
    ap.add_argument("--out", default=str(RESULTS / "nicola_clopath_discretisation.csv"))
    args = ap.parse_args(argv)
    from brianforce.tasks import sinusoid

    out = Path(args.out)
    summary_path = out.with_name(out.stem + "_summary.csv")
    run_id = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
    task = sinusoid(5.0)
    n_record = min(100, args.n_neurons)
    total = args.settle + args.train + args.test
    impls = ["brian2", "loop"] + ([] if args.no_matlab else ["loop_matlab_refractory"])
    frames = []
    for seed in args.seeds:
        weights, E, v0 = draw(seed, args.n_neurons)
        runs = {}
        for impl in impls:
            if impl == "brian2":
                runs[impl] = run_brian2(weights, E, v0, task, args.settle, args.train, args.test, n_record)
            else:
                runs[impl] = run_loop(weights, E, v0, task, args.settle, args.train, args.test, n_record,
                                      "steps" if impl == "loop" else "matlab")
        b = runs["brian2"]
        rows = []
        for impl, o in runs.items():
            res = o["result"]
            first = res.window(res.t[0] - 1e-12, res.t[0] + 1.0 - 1e-9)
            m = first.metrics(period=task.period)
            row = dict(run_id=run_id, seed=seed, n_neurons=args.n_neurons, implementation=impl,
                       settle_s=args.settle, train_s=args.train, test_s=args.test,
                       rmse_over_amplitude=m["rmse_over_amplitude"][0],
                       lag_adjusted_correlation=m["lag_adjusted_correlation"][0], lag_s=m["lag_s"][0],
                       output_frequency_hz=m["output_frequency_hz"][0], mean_rate_hz=m["mean_rate_hz"],
                       n_spikes=len(o["spike_i"]), n_rls_updates=len(o["errors"]),
                       final_abs_train_error=float(np.abs(o["errors"][-1]).max()) if len(o["errors"]) else np.nan,
                       wall_s=o["wall"], wall_s_per_simulated_s=o["wall"] / total, rls_s=o["rls_s"])
            if impl == "brian2":
                row.update(first_mismatch_step=np.nan, max_abs_decoder_difference=np.nan,
                           max_abs_test_z_difference=np.nan)
            else:
                row.update(first_mismatch_step=first_mismatch(o["spike_step"], o["spike_i"], b["spike_step"],
                                                              b["spike_i"]),
                           max_abs_decoder_difference=float(np.max(np.abs(o["phi"] - b["phi"]))),
                           max_abs_test_z_difference=float(np.max(np.abs(res.z - b["result"].z))))
            rows.append(row)
        frame = pd.DataFrame(rows)
        append(out, frame)
        frames.append(frame)
        print(frame.drop(columns=["run_id", "settle_s", "train_s", "test_s"]).to_string(index=False), flush=True)
    summary = summarise(pd.concat(frames, ignore_index=True), run_id)
    append(summary_path, summary)
    print(summary.T.to_string(header=False), flush=True)


if __name__ == "__main__":
    main()
