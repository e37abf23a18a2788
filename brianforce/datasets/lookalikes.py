"""Look-alikes computed on load (no file) of the cycling EMG and the Churchland et al. PSTHs.

They return the variables of the real file (same names, shapes, axis order and value ranges), so
the loaders check and label them exactly as the recordings; ``load_cycling(synthetic=True)`` and
``load_churchland_tme(synthetic=True)`` use them when no path and no ``BRIANFORCE_DATA`` is
given (the other look-alikes ship as files in ``data/``). They imitate the look of the data, not
their statistics: every random number comes from ``brianforce.seeding.rng_for(seed, name)``.

* ``cycling``: 2 s at 1 ms of periodic EMG (period 494 ms, about 4 cycles), three muscles
  active at different phases (von Mises bumps, peaks 0.37–0.58, small negative baseline), and
  12 zero-mean factors (harmonics of the cycle, SD 14 … 0.1).
* ``churchland_tme``: ``dataTensor`` (61 time bins of 10 ms from −50 ms, 50 neurons, 10
  conditions): a condition-specific preparatory state that rotates after movement onset
  (two planes, 1.5 and 3 Hz, as jPCA finds), mixed into 50 neurons by random loadings and
  range-normalised and mean-centred per neuron.

References
----------
DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023). Neuron 111:631-649 (cycling EMG).
Churchland MM et al. (2012). Neural population dynamics during reaching. Nature 487:51-56.
"""
from __future__ import annotations

import numpy as np

from brianforce.seeding import rng_for

__all__ = ["LOOKALIKES", "lookalike_cycling", "lookalike_churchland_tme"]

_PERIOD = 0.494      # s, autocorrelation peak of the recorded cycling EMG


def lookalike_cycling(seed: int = 0) -> dict:
    """Variables of a cycling_data.mat look-alike: ``emg`` (2000, 3), ``factors`` (2000, 12)."""
    rng = rng_for(seed, "synthetic-cycling")
    t = np.arange(2000) * 1e-3
    phase = 2 * np.pi * t / _PERIOD + rng.uniform(0, 2 * np.pi)
    peaks = np.array([0.37, 0.52, 0.58]) * rng.uniform(0.95, 1.05, 3)
    centres = np.array([0.0, 2.3, 4.2]) + rng.normal(0, 0.1, 3)
    emg = np.stack([p * np.exp(2.5 * (np.cos(phase - c) - 1)) for p, c in zip(peaks, centres)], axis=1)
    emg += rng.normal(0, 0.003, emg.shape) - 0.01
    sd = 14.4 * 0.55 ** np.arange(12)
    factors = np.stack([np.sqrt(2) * s * (np.cos if i % 2 == 0 else np.sin)((i // 2 + 1) * phase + rng.uniform(0, 6.3))
                        for i, s in enumerate(sd)], axis=1)
    return {"emg": emg, "factors": factors - factors.mean(axis=0)}


def lookalike_churchland_tme(seed: int = 0) -> dict:
    """Variables of an exampleData.mat look-alike: ``dataTensor`` (61, 50, 10), ``t`` (61, 1) ms."""
    rng = rng_for(seed, "synthetic-churchland-tme")
    t_ms = np.arange(-50, 560, 10)
    t = t_ms / 1000.0
    theta = 2 * np.pi * np.arange(10) / 10 + rng.normal(0, 0.2, 10)
    onset = 1 / (1 + np.exp(-(t + 0.02) / 0.03))              # rotation starts around movement onset
    decay = np.exp(-np.clip(t - 0.25, 0, None) / 0.2)
    latent = []
    for f, amp in ((1.5, 1.0), (3.0, 0.6)):
        ang = theta[None, :] + 2 * np.pi * f * np.clip(t, 0, None)[:, None] * onset[:, None]
        r = amp * (0.4 + 0.6 * onset * decay)[:, None]
        latent += [r * np.cos(ang), r * np.sin(ang)]
    latent = np.stack(latent, axis=1)                           # (time, 4, condition)
    loadings = rng.normal(0, 1, (50, 4))
    x = np.einsum("nk,tkc->tnc", loadings, latent) + 0.05 * rng.normal(0, 1, (61, 50, 10))
    x = x + rng.normal(0, 0.5, (1, 50, 1)) * onset[:, None, None]   # condition-independent component
    x = x / (np.ptp(x, axis=(0, 2), keepdims=True) + rng.uniform(0.15, 0.3, (1, 50, 1)))
    return {"dataTensor": x - x.mean(axis=(0, 2), keepdims=True), "t": t_ms.astype(np.int16)[:, None]}


#: Data-set name → look-alike generator (variables of the real file).
LOOKALIKES = {"cycling": lookalike_cycling, "churchland_tme": lookalike_churchland_tme}
