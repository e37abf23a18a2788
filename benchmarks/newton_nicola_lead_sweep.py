"""Newton & Nicola learning-rate sweep with the paper's instantaneous rate network and, as an option, a
lead-compensated one; the acceptance metrics of both at each seed.

Runs the grid of ``models/newton_nicola_alpha_sweep.toml`` (same network, task, protocol and α
values as ``brianforce reproduce newton_nicola``) cell by cell with
:class:`~brianforce.methods.comparison.MatchedForceComparison`, exactly as the sweep does
(``fit(..., cross_trial=True)``, teacher-forced test as long as the free-running one), and adds per
cell:

* ``open_lag_ms_<network>_<decoder>``: time shift (ms, positive = output lags the target) that
  maximises the correlation of each teacher-forced output with the target (own and transferred
  decoder on each network's basis);
* ``*_error_open_shifted`` / ``*_ratio_open_shifted``: the teacher-forced decoding errors after the
  best single time shift (up to a quarter period) of each output: a diagnostic of how much of a
  transferred decoder's error is a phase error (not a criterion);
* with ``--lead``, a second row per cell (``rate_model = lead_compensated``): both networks trained
  again from the same seed with the rate units advanced by ``τ_lead``
  (:class:`~brianforce.methods.lead_compensation.LeadCompensatedRateNetwork`, not the paper's
  model), ``τ_lead`` chosen per seed and α from teacher-forced activity only
  (:func:`~brianforce.methods.lead_compensation.calibrate_rate_lead`: no decoder, no test result).
  A cell whose spiking network diverges (the spiking network is trained first, identically in both
  rows) is recorded as diverged in both rows.

Rows already in the CSV are kept (resumable); the per-seed metrics of
:func:`~brianforce.experiments.reproduce.runners.newton_nicola_metrics` for each rate model are
printed and written next to the CSV (``*_metrics.csv``)::

    python benchmarks/newton_nicola_lead_sweep.py --seeds 0 1 2 3 --lead
    python benchmarks/newton_nicola_lead_sweep.py --seeds 101 102 103 104 105 --lead
"""
from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
RECIPE = ROOT / "models" / "newton_nicola_alpha_sweep.toml"
OUT = ROOT / "benchmarks" / "results" / "newton_nicola" / "newton_nicola_lead_sweep.csv"


def _open_loop_extras(comp, task) -> dict:
    """Best-correlation lags and best-shift errors of own and transferred decoders, teacher-forced."""
    from brianforce.analysis.decoders import lag_adjusted_error
    from brianforce.analysis.metrics import lag_adjusted_correlation

    out = {}
    phis = {"spiking_phi": comp.phi_spiking_, "rate_phi": comp.phi_rate_}
    names = {("spiking", "spiking_phi"): "spiking", ("spiking", "rate_phi"): "rate_to_spike",
             ("rate", "rate_phi"): "rate", ("rate", "spiking_phi"): "spike_to_rate"}
    for net in ("spiking", "rate"):
        t, rates, y = comp.open_loop_[net]
        dt = float(np.median(np.diff(t)))
        for dec, phi in phis.items():
            z = rates @ phi
            _, lag = lag_adjusted_correlation(z, y, int(round(0.05 / dt)))
            out[f"open_lag_ms_{net}_{dec}"] = float(np.max(lag) * dt * 1e3)
            out[f"{names[(net, dec)]}_error_open_shifted"] = lag_adjusted_error(z, y, int(round(task.period / 4 / dt)))
    out["spike_to_rate_ratio_open_shifted"] = out["spike_to_rate_error_open_shifted"] / out["rate_error_open_shifted"]
    out["rate_to_spike_ratio_open_shifted"] = out["rate_to_spike_error_open_shifted"] / out["spiking_error_open_shifted"]
    return out


def run_cell(params: dict, rate_lead: float = 0.0) -> tuple[dict, object]:
    """One sweep cell (``brianforce.experiments.sweep.run_cell`` for ``model = "both"``) with a rate lead
    ``rate_lead`` (s; 0 = the paper's instantaneous network) and the open-loop extras; (row, comparison)."""
    from brian2 import second, volt

    from brianforce.errors import TrainingDiverged
    from brianforce.methods.comparison import MatchedForceComparison
    from brianforce.tasks import make_task

    net, cfg = params["network"], dict(params["task"])
    task = make_task(cfg.pop("name"), **cfg)
    row = {"seed": params["seed"], "alpha": net["alpha"], "n_neurons": net["n_neurons"], "G": net["G"], "Q": net["Q"],
           "train": params["train"], "test": params["test"], "task": params["task"]["name"],
           "rate_model": "lead_compensated" if rate_lead > 0 else "instantaneous", "tau_lead_ms": rate_lead * 1e3,
           "diverged": False, "diverged_at": np.nan, "error": ""}
    t0 = time.perf_counter()
    comp = MatchedForceComparison(net["n_neurons"], task.n_outputs, p=net["p"], G=net["G"] * volt * second,
                                  Q=net["Q"] * volt, alpha=net["alpha"], rls_interval=net["rls_interval"] * second,
                                  dt=net["dt"] * second, rate_dt=net["rate_dt"] * second,
                                  divergence_factor=net["divergence_factor"], rate_lead=rate_lead * second,
                                  seed=params["seed"])
    try:
        res = comp.fit(task, settle=params["settle"] * second, train=params["train"] * second,
                       test=params["test"] * second, cross_trial=True).result_
        for k in ("spiking_error", "rate_error", "spike_to_rate_error", "rate_to_spike_error"):
            row[k] = getattr(res, f"{k}_whole")
            row[f"{k}_period"] = getattr(res, k)
        for k in ("decoder_correlation", "spiking_error_open", "rate_error_open", "spike_to_rate_error_open",
                  "rate_to_spike_error_open", "spike_to_rate_ratio_open", "rate_to_spike_ratio_open",
                  "spiking_frequency", "rate_frequency", "spike_to_rate_frequency", "rate_to_spike_frequency"):
            row[k] = getattr(res, k)
        row.update(_open_loop_extras(comp, task))
    except TrainingDiverged as exc:
        row["diverged"], row["diverged_at"] = True, float(exc.time)
        row["error"] = str(exc)[:200]
        comp = None
    row["wall_s"] = time.perf_counter() - t0
    return row, comp


def seed_metrics(frame: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Per seed and rate model: :func:`newton_nicola_metrics` and the shifted open-loop ratios at slow α."""
    from brianforce.experiments.reproduce.runners import SLOW_ALPHA, newton_nicola_metrics

    rows = []
    for (seed, model), g in frame.groupby(["seed", "rate_model"]):
        g = g.sort_values("alpha").reset_index(drop=True)
        m = newton_nicola_metrics(g, threshold=threshold)
        slow = g.iloc[int(np.argmin(np.abs(np.log(g["alpha"].astype(float) / SLOW_ALPHA))))]
        m.update(seed=seed, rate_model=model, tau_lead_ms_slow=slow.get("tau_lead_ms", np.nan),
                 transfer_ratio_open_shifted_max=max(slow.get("spike_to_rate_ratio_open_shifted", np.nan),
                                                     slow.get("rate_to_spike_ratio_open_shifted", np.nan)))
        rows.append(m)
    cols = ["seed", "rate_model", "tau_lead_ms_slow", "decoder_correlation_slow", "transfer_ratio_open_max",
            "transfer_ratio_open_spike_to_rate", "transfer_ratio_open_rate_to_spike", "correlation_alpha_spearman",
            "correlation_alpha_spearman_learned", "n_not_diverged", "n_learned", "transfer_ratio_open_shifted_max"]
    return pd.DataFrame(rows)[cols]


def main(argv=None):
    from brianforce.config import load_recipe
    from brianforce.experiments.sweep import SweepSpec
    from brianforce.methods.lead_compensation import calibrate_rate_lead
    from brianforce.tasks import make_task

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", required=True)
    ap.add_argument("--lead", action="store_true", help="also train with the lead-compensated rate network")
    ap.add_argument("--recipe", default=str(RECIPE))
    ap.add_argument("--out", default=str(OUT))
    args = ap.parse_args(argv)
    recipe = load_recipe(args.recipe)
    recipe["experiment"]["seeds"] = list(args.seeds)
    spec = SweepSpec.from_recipe(recipe)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = pd.read_csv(out) if out.exists() else pd.DataFrame()

    def finished(seed, alpha, model):
        if done.empty:
            return False
        return bool(((done["seed"] == seed) & np.isclose(done["alpha"], alpha) & (done["rate_model"] == model)).any())

    def save(rows):
        nonlocal done
        done = pd.concat([done, pd.DataFrame(rows)], ignore_index=True)
        tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
        done.to_csv(tmp, index=False)
        os.replace(tmp, out)

    models = ["instantaneous", "lead_compensated"] if args.lead else ["instantaneous"]
    for params in spec.cells():
        seed, alpha = params["seed"], params["network"]["alpha"]
        if all(finished(seed, alpha, m) for m in models):
            continue
        row, comp = run_cell(params)
        rows = [] if finished(seed, alpha, "instantaneous") else [row]
        if args.lead and not finished(seed, alpha, "lead_compensated"):
            if comp is None:
                rows.append(dict(row, rate_model="lead_compensated", tau_lead_ms=np.nan))
            else:
                cfg = dict(params["task"])
                task = make_task(cfg.pop("name"), **cfg)
                cal = calibrate_rate_lead(comp, task)
                row["calibrated_tau_lead_ms"] = cal["tau_lead"] * 1e3
                row["unit_lead_ms_instantaneous"] = float(cal["median_lead"][0] * 1e3)
                lead_row, _ = run_cell(params, rate_lead=cal["tau_lead"])
                rows.append(lead_row)
        save(rows)
        for r in rows:
            print(f"seed {seed} alpha {alpha:.1e} {r['rate_model']} (lead {r['tau_lead_ms']:.1f} ms): "
                  f"corr {r.get('decoder_correlation', np.nan):.3f} own errors (per period) "
                  f"s {r.get('spiking_error_period', np.nan):.3f} r {r.get('rate_error_period', np.nan):.3f}; "
                  f"open ratios s->r {r.get('spike_to_rate_ratio_open', np.nan):.2f} "
                  f"r->s {r.get('rate_to_spike_ratio_open', np.nan):.2f} "
                  f"(shifted {r.get('spike_to_rate_ratio_open_shifted', np.nan):.2f} "
                  f"{r.get('rate_to_spike_ratio_open_shifted', np.nan):.2f}) ({r['wall_s']:.0f} s)", flush=True)
    sel = done[done["seed"].isin(args.seeds)]
    metrics = seed_metrics(sel, spec.threshold)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(metrics.round(3).to_string(index=False))
    mpath = out.with_name(out.stem + "_metrics.csv")
    allm = seed_metrics(done, spec.threshold)
    allm.to_csv(mpath, index=False, float_format="%.4g")


if __name__ == "__main__":
    main()
