"""Generate the synthetic look-alikes of the recorded data sets shipped in ``data/``.

Usage::

    python data/make_synthetic.py            # seed 0, writes data/synthetic_*.npz
    python data/make_synthetic.py --seed 3 --out /tmp/syn

Each look-alike has the shapes, axis order and units that ``brianforce.datasets`` returns for
the real file, and is loaded by the same loader with ``synthetic=True``. The profiles are
smooth sums of Gaussian bumps whose amplitudes depend on the reach angle through cos/sin
(flat during the hold, multi-phasic after the go cue). Everything is drawn from
``brianforce.seeding.rng_for(seed, "synthetic-<name>")``, so one seed fixes every file.

Files are written with ``brianforce.io.save_arrays`` (pickle-free, checksummed). To keep
each below 200 kB, the two large sets are stored at a coarser step (float32) and
interpolated (PCHIP) by the loader onto the real file's time grid:

- ``synthetic_reaching_emg.npz``: ``emg`` (8, 81, 2), 10 ms bins, as stored.
- ``synthetic_hatsopoulos_emg.npz``: ``all_EMG_coarse`` (13, 335, 8) at 10 ms -> (13, 3341, 8) at 1 ms.
- ``synthetic_m1_rates.npz``: ``firing_rate_coarse`` (141, 41, 8) at 30 ms -> (141, 121, 8) at 10 ms.

See ``data/README.md`` for details.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing

from brianforce.datasets import SYNTHETIC_KIND as KIND  # noqa: E402  (kind checked by the loaders)
from brianforce.io import save_arrays  # noqa: E402
from brianforce.seeding import rng_for  # noqa: E402


def _bump(t, centre, width):
    return np.exp(-0.5 * ((t - centre) / width) ** 2)


def make_reaching_emg(seed: int = 0) -> dict:
    """Look-alike of DePasquale's ``reaching_data.mat``: ``emg`` (8, 81, 2), 10 ms bins.

    Flat (~0) during the 350 ms hold and until ~400 ms, then 3 Gaussian bumps per muscle
    near 480, 545 and 610 ms with amplitudes ``b + g*cos(theta - phi)`` (theta = 2*pi*c/8,
    c = 1..8; the last phase may be slightly negative) and a direction-tuned tonic level
    to the end, so the size, sign and timing of each phase depend on the reach direction.
    Scaled so the global maximum is 1.0 (dimensionless), like the real file.
    """
    rng = rng_for(seed, "synthetic-reaching-emg")
    t = np.arange(81) * 0.01
    theta = 2 * np.pi * np.arange(1, 9) / 8
    emg = np.zeros((8, 81, 2))
    for m in range(2):
        centres = np.array([0.48, 0.545, 0.61]) + rng.uniform(-0.01, 0.01, 3)
        widths = rng.uniform(0.02, 0.03, 3)
        base = np.array([0.7, 0.4, -0.05]) * rng.uniform(0.8, 1.2, 3)
        gain = np.array([0.5, 0.4, 0.2]) * rng.uniform(0.8, 1.2, 3)
        phase = rng.uniform(0, 2 * np.pi, 3)
        shift = 0.02 * np.cos(theta - rng.uniform(0, 2 * np.pi))  # direction-dependent latency
        for k in range(3):
            amp = base[k] + gain[k] * np.cos(theta - phase[k])
            emg[:, :, m] += amp[:, None] * _bump(t[None, :], centres[k] + shift[:, None], widths[k])
        # tonic (posture) level after the movement, direction-tuned, >= 0
        tonic = 0.12 * (1 + np.cos(theta - rng.uniform(0, 2 * np.pi)))
        emg[:, :, m] += tonic[:, None] / (1 + np.exp(-(t[None, :] - 0.6 - shift[:, None]) / 0.03))
    emg /= emg.max()
    return {"emg": emg}


def make_hatsopoulos_emg(seed: int = 0) -> dict:
    """Look-alike of ``EMG.mat``: 13 muscles x 3341 ms x 8 directions, stored at 10 ms.

    Baseline offset per muscle (-4 .. +0.8), onset 360-640 ms depending on direction, 2-3
    phasic bumps between 0.9 and 2.9 s with von-Mises-like directional tuning, and a tonic
    (posture) level to the end; per-muscle scales from 1 to ~225 like the real channels.
    """
    rng = rng_for(seed, "synthetic-hatsopoulos-emg")
    t = np.arange(335) * 0.01                      # 0 .. 3.34 s, covers the 1 ms grid
    theta = np.deg2rad(np.arange(8) * 45.0)
    onset = 0.5 + 0.14 * np.cos(theta - 0.7)        # 0.36 .. 0.64 s
    scale = np.exp(rng.uniform(np.log(1.0), np.log(225.0), 13))
    baseline = rng.uniform(-4.0, 0.8, 13) * np.minimum(1.0, scale / 20)
    out = np.zeros((13, t.size, 8))
    for m in range(13):
        pd = rng.uniform(0, 2 * np.pi)
        kappa = rng.uniform(0.5, 2.0)
        tuning = np.exp(kappa * (np.cos(theta - pd) - 1))           # (8,), max 1
        n_b = rng.integers(2, 4)
        lags = np.sort(rng.uniform(0.4, 2.3, n_b))
        widths = rng.uniform(0.12, 0.35, n_b)
        amps = rng.uniform(0.3, 1.0, n_b) * (0.6 + 0.4 * np.cos(theta[:, None] - pd - rng.uniform(-1, 1, n_b)))
        tonic = rng.uniform(0.15, 0.4) * tuning
        for d in range(8):
            prof = tonic[d] / (1 + np.exp(-(t - onset[d] - 0.6) / 0.12))
            for k in range(n_b):
                prof = prof + amps[d, k] * tuning[d] * _bump(t, onset[d] + lags[k], widths[k])
            out[m, :, d] = prof / (1 + np.exp(-(t - onset[d]) / 0.03))   # silent before onset
        out[m] *= scale[m] / out[m].max()
        out[m] += baseline[m]
    return {"all_EMG_coarse": out.astype(np.float32), "time_coarse": t}


def make_m1_rates(seed: int = 0) -> dict:
    """Look-alike of ``m1_rates_center_out.npz``: 141 units x 121 bins x 8 directions (spikes/s).

    ``rate = r0 * exp(g(t) * cos(theta - pd) + h(t))`` with unit-specific Gaussian gain and
    offset profiles around movement onset (-0.8 .. +0.4 s), log-normal baselines (mean rate
    ~3.5 Hz) and peaks below ~90 Hz; stored at 30 ms (float32). Hand kinematics (8, 121)
    are a sigmoid reach towards each direction, scaled to max |value| = 1.
    """
    rng = rng_for(seed, "synthetic-m1-rates")
    n, d = 141, 8
    t_ms = np.arange(-800, 401, 10)
    t_c = np.arange(-800, 401, 30)                   # 41 samples
    ts = t_c / 1000.0
    theta = np.deg2rad(np.arange(d) * 45.0)
    r0 = np.exp(rng.normal(np.log(1.8), 0.9, n))
    pd = rng.uniform(0, 2 * np.pi, n)
    rates = np.zeros((n, t_c.size, d))
    for i in range(n):
        g = np.zeros_like(ts)
        h = np.zeros_like(ts)
        for _ in range(2):
            g += rng.uniform(0.2, 1.2) * _bump(ts, rng.uniform(-0.35, 0.25), rng.uniform(0.08, 0.2))
            h += rng.uniform(-0.3, 0.9) * _bump(ts, rng.uniform(-0.4, 0.3), rng.uniform(0.1, 0.25))
        x = g[:, None] * np.cos(theta[None, :] - pd[i]) + h[:, None]
        rates[i] = r0[i] * np.exp(np.clip(x, -3.0, 3.0))
    rates = np.minimum(rates, 90.0)
    tk = t_ms / 1000.0
    s = 1 / (1 + np.exp(-(tk - 0.15) / 0.06))
    ds = np.gradient(s, tk)
    kin = {
        "xhandposition": np.cos(theta)[:, None] * s, "yhandposition": np.sin(theta)[:, None] * s,
        "xhandspeed": np.cos(theta)[:, None] * ds / ds.max(), "yhandspeed": np.sin(theta)[:, None] * ds / ds.max(),
    }
    return {"firing_rate_coarse": rates.astype(np.float32), "time_ms_coarse": t_c, "time_ms": t_ms,
            "reach_direction_deg": np.arange(d) * 45, **kin}


GENERATORS = {"reaching_emg": make_reaching_emg, "hatsopoulos_emg": make_hatsopoulos_emg,
              "m1_rates": make_m1_rates}


def main(argv=None) -> list[Path]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0, help="one integer seed for all files (default 0)")
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: this data/ folder)")
    args = ap.parse_args(argv)
    written = []
    for name, make in GENERATORS.items():
        arrays = make(args.seed)
        meta = {"seed": args.seed, "generator": f"data/make_synthetic.py:{make.__name__}",
                "description": (make.__doc__ or "").strip().split("\n")[0], "synthetic": True}
        p = save_arrays(args.out / f"synthetic_{name}.npz", arrays, meta, kind=KIND[name])
        print(f"{p}  {p.stat().st_size / 1024:.0f} kB")
        written.append(p)
    return written


if __name__ == "__main__":
    main()
