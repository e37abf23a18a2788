"""The lead of one LIF neuron's spikes over its stationary f–I rate, and what it does not depend on.

A single LIF neuron (Nicola & Clopath parameters) receives ``v_th + offset + amplitude·sin(2π f t)``;
:func:`brianforce.analysis.phase_lead.lif_phase_lead` filters its spike train and the instantaneous
f–I rate with the same synapse and reports the shift that best aligns them. Each (frequency, offset,
amplitude, membrane noise) runs at the base step (0.05 ms, τ_d = 20 ms), at half the step, and with a
100-ms synaptic decay, so a lead that is the neuron's own dynamics shows up as the same number three
times. Without noise the neuron can lock to the drive and the lead jumps between locked states;
membrane noise (as the network's irregular recurrent input gives) removes the locking. Appends one
row per run to ``benchmarks/results/newton_nicola/lif_phase_lead.csv``::

    python benchmarks/lif_phase_lead.py [--frequencies 5] [--noise-mv 0 1 2] [--results PATH]

References
----------
Newton TR, Nicola W (2025) PLoS Comput Biol 21:e1013224 (the instantaneous rate network matched to
the LIF network's f–I curve).
"""
from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "newton_nicola" / "lif_phase_lead.csv"
OFFSETS_MV = (-2.0, 0.0, 2.0, 5.0)
AMPLITUDES_MV = (5.0, 10.0, 15.0)
VARIANTS = {"base": (5e-5, 20e-3), "half_step": (2.5e-5, 20e-3), "slow_synapse": (5e-5, 100e-3)}


def main(argv=None):
    from brianforce.analysis.phase_lead import lif_phase_lead
    from brianforce.io import append_csv_row
    from brianforce.neurons import LIFParams

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frequencies", type=float, nargs="+", default=[5.0], help="Hz")
    ap.add_argument("--noise-mv", type=float, nargs="+", default=[0.0, 1.0, 2.0],
                    help="membrane noise SD (mV)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--duration", type=float, default=4.0, help="s, of which the first second is dropped")
    ap.add_argument("--results", default=str(RESULTS))
    a = ap.parse_args(argv)
    grid = [(f, sd) for f in a.frequencies for sd in a.noise_mv]
    for f, sd in grid:
        for off in OFFSETS_MV:
            for amp in AMPLITUDES_MV:
                for name, (dt, tau_d) in VARIANTS.items():
                    r = lif_phase_lead(off * 1e-3, amp * 1e-3, frequency=f, lif=replace(LIFParams(), tau_d=tau_d),
                                       dt=dt, duration=a.duration, transient=1.0, noise=sd * 1e-3, seed=a.seed)
                    ratio = r["spiking_rate_hz"] / r["rate_model_hz"] if r["rate_model_hz"] > 0 else float("nan")
                    row = {"date": time.strftime("%Y-%m-%d %H:%M"), "frequency_hz": f, "offset_mv": off,
                           "amplitude_mv": amp, "noise_mv": sd, "seed": a.seed, "variant": name,
                           "dt_ms": dt * 1e3, "tau_d_ms": tau_d * 1e3,
                           "lead_ms": round(r["lead_s"] * 1e3, 3), "spiking_rate_hz": round(r["spiking_rate_hz"], 2),
                           "rate_model_hz": round(r["rate_model_hz"], 2), "rate_ratio": round(ratio, 4)}
                    append_csv_row(a.results, row)
                    print(row, flush=True)


if __name__ == "__main__":
    main()
