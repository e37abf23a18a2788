"""Decoder transfer between a LIF FORCE network and its matched rate network (Newton & Nicola 2025).

For each task × learning rate α × seed, trains both networks (``MatchedForceComparison``),
swaps the decoders and writes one row per run to
``benchmarks/results/newton_nicola/transfer.csv``:

* ``*_error_open`` / ``*_ratio_open``: decoding error with teacher-forced feedback (the
  receiving network driven by the target in place of its own output) with its own and with
  the transferred decoder, and their ratio;
* ``*_error`` / ``*_ratio``: closed-loop (free-running) test error, best shift per period,
  and ``*_frequency`` the dominant output frequency;
* ``open_lag_ms_*``: time shift (ms, positive = output lags the target) that maximises the
  correlation of each open-loop output with the target, which shows the phase error a
  transferred decoder carries;
* ``rate_model``: ``instantaneous`` (the paper's matched network) or ``lead_compensated``
  (:class:`~brianforce.methods.comparison.LeadCompensatedRateNetwork`, units fire at ``f(I + τ_lead İ)``,
  τ_lead calibrated on teacher-forced activity only so that spiking and rate units have zero
  median phase difference; a diagnostic, not the paper's model);
* the cross-trial firing-rate decoder (ridge on trial-averaged teacher-forced spiking rates):
  its correlation with both learned decoders and its open- and closed-loop errors.

Rows already in the CSV are kept and not recomputed (resumable). ``transfer_summary.csv``
averages the seeds per task × α × rate model and counts the seeds that meet the criterion
(both own errors < 0.3, both transfer ratios < 2), open and closed loop.

    python benchmarks/newton_nicola_transfer.py [--n-neurons 300] [--train 3] [--seeds 0 1]
    python benchmarks/newton_nicola_transfer.py --tasks sinusoid --alphas 5e-7 --seeds 0 \
        --G 0.04 0.08 0.16 --Q 5 10 20 --no-lead --out benchmarks/results/newton_nicola/transfer_gq.csv
    python benchmarks/newton_nicola_transfer.py --n-neurons 500 --train 8 --alphas 1.5e-7 \
        --out benchmarks/results/newton_nicola/transfer_n500.csv

``--preset consistent`` reproduces ``transfer_consistent.csv`` (one configuration for both tasks:
2 Hz, N = 500, τ_d = 50 ms, G = 0.08 mV·s, Q = 20 mV, 4 s training, 2 s test, 4 seeds, α from 1e-7
to 5e-5); the search that led to it (other α, training lengths, τ_d, G, Q, sinusoid at 1.5 Hz, 2 seeds)
is in ``transfer_consistent_probes.csv``::

    python benchmarks/newton_nicola_transfer.py --preset consistent

``--tau-d`` / ``--tau-r`` set the synaptic filter of *both* networks and ``--frequency`` the task
frequency; ``transfer_taud.csv`` scans them (sinusoid 1–5 Hz, Van der Pol 2 Hz, τ_d 20 and 50 ms,
4 seeds, N 300 and 500), and its figure plots the transfer ratios and closed-loop frequency shifts
against the task frequency::

    python benchmarks/newton_nicola_transfer.py --no-lead --test 2 --seeds 0 1 2 3 --tasks sinusoid \
        --frequency 2 --alphas 5e-7 --tau-d 50 --out benchmarks/results/newton_nicola/transfer_taud.csv
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
from brian2 import mV, ms, second

from brianforce.analysis.metrics import lag_adjusted_correlation
from brianforce.methods.comparison import MatchedForceComparison, calibrate_rate_lead
from brianforce.errors import TrainingDiverged
from brianforce.tasks import make_task

ROOT = Path(__file__).resolve().parents[1]
TASKS = {"sinusoid": dict(name="sinusoid", frequency=5.0), "van_der_pol": dict(name="van_der_pol", frequency=2.0)}


#: Named configurations (``--preset``). ``consistent``: one setting shared by both tasks (sinusoid and
#: Van der Pol at 2 Hz, N = 500, τ_d = 50 ms in both networks, 4 s of training) in which, at slow α, the
#: decoders correlate > 0.8 and free-running transfer stays within 2× in both directions for every seed
#: in which both networks learned; the α list gives the curve down to fast learning.
PRESETS = {
    "consistent": dict(tasks=["sinusoid", "van_der_pol"], alphas=[1e-7, 1.2e-7, 1.5e-7, 5e-7, 5e-6, 5e-5],
                       seeds=[0, 1, 2, 3], n_neurons=500, G=[0.08], Q=[20.0], train=4.0, test=2.0,
                       open_loop=2.0, tau_d=50.0, tau_r=2.0, frequency=2.0, no_lead=True,
                       out=str(ROOT / "benchmarks" / "results" / "newton_nicola" / "transfer_consistent.csv")),
}


def open_loop_lags(comp) -> dict:
    """Best-correlation lag (ms) of each decoder on each network's teacher-forced basis."""
    out = {}
    decoders = {"own": None, "spiking_phi": comp.phi_spiking_, "rate_phi": comp.phi_rate_,
                "cross_trial_phi": comp.phi_cross_trial_}
    for net in ("spiking", "rate"):
        t, rates, y = comp.open_loop_[net]
        dt = float(np.median(np.diff(t)))
        for name, phi in decoders.items():
            if name == "own" or phi is None:
                continue
            _, lag = lag_adjusted_correlation(rates @ phi, y, int(round(0.05 / dt)))
            out[f"open_lag_ms_{net}_{name}"] = float(np.max(lag) * dt * 1e3)
    return out


def _fit_row(comp, task, base, train, test, open_loop):
    row = dict(base)
    t0 = time.perf_counter()
    try:
        comp.fit(task, settle=0.3 * second, train=train * second, test=test * second,
                 open_loop=open_loop * second)
        row.update(comp.result_.as_dict())
        row.update(open_loop_lags(comp))
    except TrainingDiverged:
        row["diverged"] = True
    row["wall_s"] = time.perf_counter() - t0
    return row


def run_one(task_name, alpha, seed, n, G, Q, train, test, open_loop, lead=True, tau_d=20.0, frequency=None,
            tau_r=2.0):
    """Rows for the instantaneous rate network and (``lead``) the lead-compensated one.

    The lead ``τ_lead`` is calibrated on teacher-forced activity only
    (:func:`~brianforce.methods.comparison.calibrate_rate_lead`), then both networks are trained
    again from the same seed with the lead-compensated rate network.
    """
    task_cfg = dict(TASKS[task_name])
    if frequency:
        task_cfg["frequency"] = float(frequency)
    task = make_task(task_cfg.pop("name"), **task_cfg)
    base = dict(task=task_name, alpha=alpha, seed=seed, n_neurons=n, G=G, Q=Q, train=train, test=test,
                open_loop=open_loop, diverged=False, rate_model="instantaneous", tau_lead_ms=0.0,
                tau_d_ms=float(tau_d), tau_r_ms=float(tau_r), task_frequency=float(task.params["frequency"]))

    def make(lead_s=0.0):
        return MatchedForceComparison(n, task.n_outputs, alpha=alpha, G=G * mV * second, Q=Q * mV, seed=seed,
                                      rate_lead=lead_s * second, tau_d=tau_d * ms, tau_r=tau_r * ms)

    comp = make()
    rows = [_fit_row(comp, task, base, train, test, open_loop)]
    if lead and not rows[0]["diverged"] and task.period:
        cal = calibrate_rate_lead(comp, task)
        rows[0]["calibrated_tau_lead_ms"] = cal["tau_lead"] * 1e3
        rows[0]["unit_lead_ms_instantaneous"] = float(cal["median_lead"][0] * 1e3)
        lead_base = dict(base, rate_model="lead_compensated", tau_lead_ms=cal["tau_lead"] * 1e3)
        rows.append(_fit_row(make(cal["tau_lead"]), task, lead_base, train, test, open_loop))
    return rows


SUMMARY_COLUMNS = ["decoder_correlation", "spiking_error", "rate_error", "spike_to_rate_ratio", "rate_to_spike_ratio",
                   "spiking_error_open", "rate_error_open", "spike_to_rate_ratio_open", "rate_to_spike_ratio_open",
                   "spiking_frequency", "rate_frequency", "spike_to_rate_frequency", "rate_to_spike_frequency",
                   "cross_trial_correlation_spiking", "cross_trial_correlation_rate", "cross_trial_error_open_spiking",
                   "cross_trial_error_open_rate", "cross_trial_error_closed_spiking", "cross_trial_error_closed_rate",
                   "tau_lead_ms"]


def summarise(frame: pd.DataFrame, threshold: float = 0.3) -> pd.DataFrame:
    """Per task × α × rate model: seed means, and how many seeds meet the 2× transfer criterion.

    ``learned``: both networks' own closed-loop errors below ``threshold``;
    ``open_met`` / ``closed_met``: learned and both transfer ratios (open / closed loop) < 2.
    """
    f = frame.copy()
    f["learned"] = (f["spiking_error"] < threshold) & (f["rate_error"] < threshold)
    f["open_met"] = f["learned"] & (f["spike_to_rate_ratio_open"] < 2) & (f["rate_to_spike_ratio_open"] < 2)
    f["closed_met"] = f["learned"] & (f["spike_to_rate_ratio"] < 2) & (f["rate_to_spike_ratio"] < 2)
    keys = ["task", "alpha", "rate_model", "n_neurons", "G", "Q", "train", "tau_d_ms", "task_frequency"]
    g = f.groupby(keys, dropna=False)
    out = g[[c for c in SUMMARY_COLUMNS if c in f]].mean()
    out["n_seeds"] = g.size()
    for k in ("learned", "open_met", "closed_met"):
        out[k] = g[k].sum()
    return out.reset_index()


def make_figure(frame: pd.DataFrame, path) -> None:
    """Decoder correlation and transfer ratios (open / closed loop) against α, per task.

    Only runs in which both networks learned (own closed-loop errors < 0.3) are drawn.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from brianforce.viz.sweeps import plot_alpha_curve

    tasks = list(dict.fromkeys(frame["task"]))
    fig, axs = plt.subplots(3, len(tasks), figsize=(5 * len(tasks), 9), squeeze=False)
    from matplotlib.ticker import NullFormatter

    f = frame[(frame["spiking_error"] < 0.3) & (frame["rate_error"] < 0.3)]
    for j, task in enumerate(tasks):
        ft = f[f["task"] == task]
        for model, style in (("instantaneous", "-"), ("lead_compensated", "--")):
            fm = ft[ft["rate_model"] == model]
            if fm.empty:
                continue
            plot_alpha_curve(fm, value="decoder_correlation", ax=axs[0, j], label=model)
            for i, kind in ((1, "_open"), (2, "")):
                for direction in ("spike_to_rate", "rate_to_spike"):
                    plot_alpha_curve(fm, value=f"{direction}_ratio{kind}", ax=axs[i, j],
                                     label=f"{direction} ({model})")
        axs[0, j].set_title(task)
        axs[0, j].set_ylabel("decoder correlation")
        axs[1, j].set_ylabel("open-loop error ratio (transferred / own)")
        axs[2, j].set_ylabel("closed-loop error ratio (transferred / own)")
        for i in (1, 2):
            axs[i, j].axhline(2, color="k", lw=0.8, ls=":")
            axs[i, j].set_yscale("log")
        for ax in axs[:, j]:
            ax.legend(fontsize="x-small")
            ax.xaxis.set_minor_formatter(NullFormatter())
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def make_frequency_figure(frame: pd.DataFrame, path) -> None:
    """Closed- and open-loop transfer against the task frequency, one colour per τ_d × α × training.

    Only runs in which both networks learned (own closed-loop errors < 0.3) are drawn: sinusoid
    runs as circles (one per seed) with a line through the seed medians, Van der Pol runs as
    crosses. Middle row: closed-loop frequency of the receiving network with the transferred
    decoder over its frequency with its own decoder (1 = no shift).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f = _with_defaults(frame)
    f = f[~f["diverged"].astype(bool) & (f["spiking_error"] < 0.3) & (f["rate_error"] < 0.3)].copy()
    f["spike_to_rate_shift"] = f["spike_to_rate_frequency"] / f["rate_frequency"]
    f["rate_to_spike_shift"] = f["rate_to_spike_frequency"] / f["spiking_frequency"]
    fig, axs = plt.subplots(3, 2, figsize=(10, 9), sharex=True, squeeze=False)
    groups = f[["tau_d_ms", "alpha", "train", "n_neurons"]].drop_duplicates().sort_values(["tau_d_ms", "alpha"])
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    rows = (("ratio", "closed-loop error ratio (transferred / own)"),
            ("shift", "closed-loop frequency, transferred / own"),
            ("ratio_open", "open-loop error ratio (transferred / own)"))
    for j, direction in enumerate(("spike_to_rate", "rate_to_spike")):
        for i, (kind, label) in enumerate(rows):
            ax, col = axs[i, j], f"{direction}_{kind}"
            for g, (_, key) in enumerate(groups.iterrows()):
                c = cycle[g % len(cycle)]
                fg = f[(f["tau_d_ms"] == key["tau_d_ms"]) & np.isclose(f["alpha"], key["alpha"])
                       & (f["train"] == key["train"]) & (f["n_neurons"] == key["n_neurons"])]
                name = (f"τ_d {key['tau_d_ms']:g} ms, α {key['alpha']:g}, train {key['train']:g} s, "
                        f"N {int(key['n_neurons'])}")
                for task, marker in (("sinusoid", "o"), ("van_der_pol", "x")):
                    fs = fg[fg["task"] == task]
                    if fs.empty:
                        continue
                    ax.scatter(fs["task_frequency"], fs[col], color=c, marker=marker, s=18,
                               label=f"{task.replace('_', ' ')}, {name}")
                    if marker == "o":
                        med = fs.groupby("task_frequency")[col].median()
                        ax.plot(med.index, med.values, color=c, lw=1)
            ax.axhline(1 if kind == "shift" else 2, color="k", lw=0.8, ls=":")
            if kind == "shift":
                ax.set_ylim(0.4, 2.0)
            else:
                ax.set_yscale("log")
            ax.set_ylabel(label, fontsize="small")
        axs[0, j].set_title({"spike_to_rate": "spiking φ → rate network",
                             "rate_to_spike": "rate φ → spiking network"}[direction])
        axs[-1, j].set_xlabel("task frequency (Hz)")
    axs[0, 0].legend(fontsize="xx-small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _with_defaults(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows written before the ``tau_d_ms`` / ``task_frequency`` columns: fill the defaults they ran with."""
    f = frame.copy()
    if "tau_d_ms" not in f:
        f["tau_d_ms"] = 20.0
    if "tau_r_ms" not in f:
        f["tau_r_ms"] = 2.0
    if "task_frequency" not in f:
        f["task_frequency"] = f["task"].map(lambda t: TASKS[t]["frequency"])
    f["tau_d_ms"] = f["tau_d_ms"].fillna(20.0)
    f["tau_r_ms"] = f["tau_r_ms"].fillna(2.0)
    f["task_frequency"] = f["task_frequency"].fillna(f["task"].map(lambda t: TASKS[t]["frequency"]))
    return f


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", nargs="+", default=list(TASKS))
    ap.add_argument("--alphas", type=float, nargs="+", default=[1.5e-7, 5e-7, 5e-6, 5e-5])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--n-neurons", type=int, default=300)
    ap.add_argument("--G", type=float, nargs="+", default=[0.08], help="mV*s")
    ap.add_argument("--Q", type=float, nargs="+", default=[20.0], help="mV")
    ap.add_argument("--train", type=float, default=3.0)
    ap.add_argument("--test", type=float, default=1.0)
    ap.add_argument("--open-loop", type=float, default=2.0)
    ap.add_argument("--tau-d", type=float, default=20.0, help="synaptic decay (ms), both networks")
    ap.add_argument("--tau-r", type=float, default=2.0, help="synaptic rise (ms), both networks")
    ap.add_argument("--frequency", type=float, default=None,
                    help="task frequency (Hz); default 5 Hz sinusoid, 2 Hz Van der Pol")
    ap.add_argument("--no-lead", action="store_true", help="skip the lead-compensated rate network")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "newton_nicola" / "transfer.csv"))
    ap.add_argument("--preset", choices=sorted(PRESETS),
                    help="a named configuration (its settings replace the defaults; explicit options still win)")
    pre, _ = ap.parse_known_args(argv)
    if pre.preset:
        ap.set_defaults(**PRESETS[pre.preset])
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = _with_defaults(pd.read_csv(out)) if out.exists() else pd.DataFrame()
    key = ["task", "alpha", "seed", "n_neurons", "G", "Q", "train", "tau_d_ms", "task_frequency"]

    def finished(vals):
        if done.empty:
            return False
        m = np.ones(len(done), bool)
        for k, v in zip(key, vals):
            m &= np.isclose(done[k], v) if isinstance(v, float) else (done[k] == v)
        return bool(m.any())

    cells = [(task_name, float(alpha), seed, float(G), float(Q)) for task_name in args.tasks
             for alpha in args.alphas for G in args.G for Q in args.Q for seed in args.seeds]
    for task_name, alpha, seed, G, Q in cells:
        freq = float(args.frequency or TASKS[task_name]["frequency"])
        if finished((task_name, alpha, seed, args.n_neurons, G, Q, float(args.train), float(args.tau_d), freq)):
            continue
        rows = run_one(task_name, alpha, seed, args.n_neurons, G, Q, args.train, args.test, args.open_loop,
                       lead=not args.no_lead, tau_d=args.tau_d, frequency=freq, tau_r=args.tau_r)
        done = pd.concat([done, pd.DataFrame(rows)], ignore_index=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        done.to_csv(tmp, index=False)
        os.replace(tmp, out)
        for row in rows:
            print(f"{task_name} alpha={alpha:g} G={G:g} Q={Q:g} seed={seed} {row['rate_model']} "
                  f"(lead {row['tau_lead_ms']:.1f} ms): corr {row.get('decoder_correlation', np.nan):.3f} "
                  f"errors s {row.get('spiking_error', np.nan):.3f} r {row.get('rate_error', np.nan):.3f}; "
                  f"open ratios s->r {row.get('spike_to_rate_ratio_open', np.nan):.2f} "
                  f"r->s {row.get('rate_to_spike_ratio_open', np.nan):.2f}; closed "
                  f"{row.get('spike_to_rate_ratio', np.nan):.2f} {row.get('rate_to_spike_ratio', np.nan):.2f} "
                  f"({row['wall_s']:.0f} s)", flush=True)
    if not done.empty:
        summarise(done).to_csv(out.with_name(out.stem + "_summary.csv"), index=False, float_format="%.4g")
        settings = _with_defaults(done)[["tau_d_ms", "task_frequency"]].drop_duplicates()
        if len(settings) > 1:  # a τ_d / task-frequency scan
            make_frequency_figure(done, out.with_suffix(".png"))
        elif "rate_model" in done:
            make_figure(done, out.with_suffix(".png"))

if __name__ == "__main__":
    main()
