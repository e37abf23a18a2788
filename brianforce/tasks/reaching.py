"""Reaching trials from recorded EMG: condition input, go cue, EMG targets (DePasquale et al.).

:func:`reaching_trials` turns an :class:`~brianforce.datasets.EMGData` (trial-averaged EMG,
``(condition, time, muscle)``) into :class:`~brianforce.tasks.trials.Trials` that the
rate teacher (:class:`~brianforce.rate.teacher.RateTeacher`) and the spiking student
(:class:`~brianforce.methods.factor_student.FactorStudent`) train on. Layout of one trial (plain floats, s)::

    |-- baseline --|------------------- recorded EMG window -------------------|
    input  0        condition vector (static, whole window)  + go pulse at go_time
    target first EMG sample (held)   EMG of the condition, per-muscle normalised

* **condition input** (``n_conditions`` channels for ``encoding="one-hot"``; ``n_dims``
  random unit-norm directions for ``"random"``; ``cos, sin`` of the reach angle for
  ``"angle"``, as in the original demo), scaled by ``input_amplitude``; on from the end of the
  baseline to the end of the trial (``input_off_at_go=True`` switches it off at the go cue);
* **go cue**: one extra channel, a pulse of ``go_amplitude`` for ``go_duration`` s at
  ``go_time`` (the data's hold end, 0.35 s into the reaching window; 0.3 s where the data
  define none);
* **targets**: EMG upsampled to ``dt`` (linear interpolation, ``EMGData.resampled``), each
  muscle divided by its maximum |EMG| over conditions and time, times ``target_scale``;
  during the baseline the first recorded sample is held (the EMG is flat before movement);
* ``labels`` = condition index (0 … C−1); ``response`` = ``(go sample, T)``;
  ``info["emg_window"]`` = ``(start, stop)`` samples of the recorded EMG (R² is measured there).

References
----------
DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023). The centrality of population-level
factors to network computation is demonstrated by a versatile approach for training spiking
networks. Neuron 111:631-649 (reaching EMG, condition inputs + hold/go).
DePasquale B, Churchland MM, Abbott LF (2016). arXiv:1601.07620 (EMG fits by spiking networks).
"""
from __future__ import annotations

import numpy as np

from brianforce.checks import as_count, as_flag, as_number
from brianforce.seeding import rng_for
from brianforce.tasks.trials import Trials

__all__ = ["reaching_trials", "condition_inputs", "ENCODINGS"]

ENCODINGS = ("one-hot", "random", "angle")
_DEFAULT_GO = 0.3   # s into the EMG window when the data define no go time


def condition_inputs(n_conditions: int, encoding: str = "one-hot", *, angles=None, n_dims=None,
                     seed: int = 0) -> np.ndarray:
    """Static input vector per condition, ``(n_conditions, M)``, each of unit norm.

    ``"one-hot"``: identity (M = C); ``"random"``: ``n_dims`` (default C) Gaussian directions
    normalised to norm 1 (stream ``reaching-inputs``); ``"angle"``: ``(cos θ, sin θ)`` of the
    reach ``angles`` (radians).
    """
    c = as_count(n_conditions, "n_conditions", minimum=1)
    if encoding == "one-hot":
        return np.eye(c)
    if encoding == "random":
        m = c if n_dims is None else as_count(n_dims, "n_dims", minimum=1)
        v = rng_for(seed, "reaching-inputs").standard_normal((c, m))
        return v / np.linalg.norm(v, axis=1, keepdims=True)
    if encoding == "angle":
        if angles is None or len(angles) != c:
            raise ValueError("encoding='angle' needs one reach angle (radians) per condition")
        a = np.asarray(angles, dtype=float)
        return np.stack([np.cos(a), np.sin(a)], axis=1)
    raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")


def reaching_trials(emg, n_repeats: int = 1, dt: float = 1e-3, *, baseline: float = 0.2,
                    encoding: str = "one-hot", n_dims: int | None = None,
                    input_amplitude: float = 1.0, input_off_at_go: bool = False,
                    go_time: float | None = None, go_amplitude: float = 1.0,
                    go_duration: float = 0.02, target_scale: float = 1.0, normalise: bool = True,
                    conditions=None, shuffle: bool = False, crop: float | None = None,
                    seed: int = 0) -> Trials:
    """Trials for all (or the selected) conditions of ``emg``, each repeated ``n_repeats`` times.

    Parameters
    ----------
    emg : EMGData
        ``emg.emg`` (C, T, M) with ``emg.dt`` (s) and ``emg.go_time`` (s, may be None).
    n_repeats : int
        Copies of each condition (trials are ordered condition-major per repeat:
        0, 1, …, C−1, 0, 1, …; ``shuffle=True`` permutes each repeat with ``seed``).
    dt : float
        Simulation/sample step (s) the EMG is linearly interpolated (or subsampled) to.
    baseline : float
        Seconds of zero input before the EMG window (networks rest there), >= 0.
    encoding, n_dims, input_amplitude, input_off_at_go
        Condition input (see module docstring and :func:`condition_inputs`).
    go_time, go_amplitude, go_duration
        Go pulse (s into the EMG window); ``go_time=None`` uses ``emg.go_time`` or 0.3 s.
        ``go_amplitude=0`` drops the go channel.
    target_scale : float
        Factor applied after per-muscle normalisation (max |EMG| = 1 per muscle).
    normalise : bool
        Divide each muscle by its maximum |EMG| (over all conditions and time) first.
    conditions : sequence of int, optional
        Indices of the conditions to use (default all).
    crop : float, optional
        Keep only the first ``crop`` seconds of the EMG window.
    seed : int
        Random input directions and the shuffle.

    Returns
    -------
    Trials
        ``name="reaching"``, ``continuous=False``, ``labels`` = condition index, ``response`` =
        ``(go sample, T)``; ``info``: ``emg_window``, ``baseline_samples``, ``go_sample``,
        ``condition_vectors``, ``channel_scale`` (the per-muscle divisor), ``channels``,
        ``conditions`` (data labels), ``encoding``, ``synthetic``, ``source``.
    """
    n_repeats = as_count(n_repeats, "n_repeats", minimum=1)
    dt = as_number(dt, "dt", low=0.0, low_open=True)
    as_number(baseline, "baseline", low=0.0)
    as_number(target_scale, "target_scale", low=0.0, low_open=True)
    as_number(go_duration, "go_duration", low=0.0, low_open=True)
    as_number(input_amplitude, "input_amplitude")
    as_number(go_amplitude, "go_amplitude")
    for name, flag in dict(input_off_at_go=input_off_at_go, normalise=normalise, shuffle=shuffle).items():
        as_flag(flag, name)
    data = emg.normalised() if normalise else emg
    scale = (np.asarray(data.metadata["normalised_by"], float) if normalise
             else np.ones(emg.emg.shape[2]))
    if abs(dt - data.dt) > 1e-12:
        data = data.resampled(dt, kind="linear")
    E = np.asarray(data.emg, dtype=float) * float(target_scale)
    n_c = E.shape[0]
    idx_c = np.arange(n_c) if conditions is None else np.asarray(conditions, dtype=int)
    if idx_c.ndim != 1 or idx_c.size == 0 or idx_c.min() < 0 or idx_c.max() >= n_c:
        raise ValueError(f"conditions must be indices in [0, {n_c}), got {conditions!r}")
    if crop is not None:
        n_keep = int(round(as_number(crop, "crop") / dt))
        if not 2 <= n_keep <= E.shape[1]:
            raise ValueError(f"crop must keep 2 .. {E.shape[1]} samples, got {crop!r} s")
        E = E[:, :n_keep]
    n_emg = E.shape[1]
    if n_emg < 2:
        raise ValueError(f"dt={dt} s leaves fewer than 2 samples of the EMG window")
    nb = int(round(baseline / dt))
    T = nb + n_emg
    go = _DEFAULT_GO if go_time is None and emg.go_time is None else (
        float(emg.go_time) if go_time is None else as_number(go_time, "go_time"))
    go_k = nb + int(round(go / dt))
    if not nb <= go_k < T:
        raise ValueError(f"go_time {go} s lies outside the EMG window (0 .. {n_emg * dt} s)")
    vecs = condition_inputs(n_c, encoding, angles=emg.condition_angles, n_dims=n_dims, seed=seed)
    n_go = int(go_amplitude != 0)
    M = vecs.shape[1] + n_go
    order = []
    rng = rng_for(seed, "reaching-order")
    for _ in range(int(n_repeats)):
        order.extend(rng.permutation(idx_c) if shuffle else idx_c)
    order = np.asarray(order, dtype=int)
    n = len(order)
    inputs = np.zeros((n, T, M))
    stop = go_k if input_off_at_go else T
    inputs[:, nb:stop, :vecs.shape[1]] = input_amplitude * vecs[order][:, None, :]
    if n_go:
        k1 = min(T, go_k + max(1, int(round(go_duration / dt))))
        inputs[:, go_k:k1, -1] = go_amplitude
    targets = np.empty((n, T, E.shape[2]))
    targets[:, nb:] = E[order]
    targets[:, :nb] = E[order][:, :1]
    info = {"emg_window": (nb, T), "baseline_samples": nb, "go_sample": go_k, "go_time": go,
            "condition_vectors": vecs, "channel_scale": scale, "target_scale": float(target_scale),
            "channels": [str(c) for c in emg.channels], "conditions": np.asarray(emg.conditions).tolist(),
            "encoding": encoding, "synthetic": bool(emg.synthetic), "source": str(emg.source)}
    return Trials(inputs, targets, dt, labels=order.astype(float), response=(go_k, T), name="reaching",
                  info=info)
