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
  muscle divided by its maximum ``|EMG|`` over conditions and time, times ``target_scale``;
  during the baseline the first recorded sample is held (the EMG is flat before movement);
* ``labels`` = condition index (0 … C−1); ``response`` = ``(go sample, T)``;
  ``info["emg_window"]`` = ``(start, stop)`` samples of the recorded EMG (R² is measured there).

Any data set of :mod:`brianforce.datasets` becomes such targets through :func:`reaching_targets`:
EMG (one or many conditions; cycling EMG is one condition) keeps its muscles; population rates
give their units' rates (at most :data:`MAX_UNITS`, those of largest variance) or their top
principal components (``signal="pcs"``), normalised per channel like EMG. The go time is the
data's (the hold end of the reaching EMG; movement onset for data aligned to it), else one the
caller gives, else 0.3 s.

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
from brianforce.seeding import check_seed, rng_for
from brianforce.tasks.timing import seconds
from brianforce.tasks.trials import Trials

__all__ = ["reaching_trials", "condition_inputs", "reaching_targets", "ENCODINGS", "SIGNALS", "MAX_UNITS",
           "N_PCS", "SOFT_NORM"]

ENCODINGS = ("one-hot", "random", "angle")
_DEFAULT_GO = 0.3   # s into the EMG window when the data define no go time
#: Output channels made of a data set by :func:`reaching_targets`.
SIGNALS = ("recorded", "pcs")
#: Recorded population units fitted at most when ``max_channels`` is not given.
MAX_UNITS = 50
#: Principal components fitted when ``signal="pcs"`` and ``max_channels`` is not given (jPCA).
N_PCS = 6
#: Soft-normalisation constant (spikes/s) of rates in spikes/s before PCA (Churchland et al. 2012).
SOFT_NORM = 5.0


def _data_go_time(data):
    """(go time in s into the window, its source) defined by ``data``, or ``(None, None)``.

    ``EMGData.go_time`` (the hold end); else ``metadata["go_time"]``; else, for data aligned to
    movement onset with the onset inside the window, the onset (``-time[0]``).
    """
    go = getattr(data, "go_time", None)
    if go is not None:
        return float(go), "data"
    meta = getattr(data, "metadata", {}) or {}
    if meta.get("go_time") is not None:
        return float(meta["go_time"]), "data"
    t = np.asarray(data.time, float)
    if meta.get("time_reference") == "movement onset" and t[0] <= 0 <= t[-1]:
        return float(-t[0]), "movement onset"
    return None, None


def _top_pcs(x, scale, k):
    """Scores ``(C, T, k)`` of the top ``k`` PCs of ``x / scale`` (mean-centred over conditions and
    time), each PC signed so that its largest loading is positive; and the variance ratios."""
    C, T, N = x.shape
    keep = scale > 0
    z = (x[..., keep] / scale[keep]).reshape(C * T, -1)
    z = z - z.mean(axis=0)
    _, sv, vt = np.linalg.svd(z, full_matrices=False)
    k = min(k, int(np.sum(sv > sv[0] * 1e-10)) if sv.size and sv[0] > 0 else 0)
    if k < 1:
        raise ValueError("cannot take principal components: the signals are constant")
    vt = vt[:k] * np.sign(vt[:k][np.arange(k), np.argmax(np.abs(vt[:k]), axis=1)])[:, None]
    ratio = sv[:k] ** 2 / np.sum(sv ** 2)
    return (z @ vt.T).reshape(C, T, k), ratio


def reaching_targets(data, *, signal: str = "recorded", max_channels: int | None = None,
                     go_time: float | None = None):
    """Any trial-averaged data set as the ``(condition, time, channel)`` targets of :func:`reaching_trials`.

    Parameters
    ----------
    data : EMGData, PopulationRates or CyclingData
        From a loader of :mod:`brianforce.datasets`. Cycling EMG is one condition.
    signal : {"recorded", "pcs"}
        ``"recorded"``: the channels as recorded (muscles, or units' rates); ``"pcs"``: the top
        principal components of the channels (each muscle divided by its max ``|x|``; rates
        soft-normalised by their range + :data:`SOFT_NORM` spikes/s, or by their range where
        they are not in spikes/s, as Churchland et al. 2012), mean-centred over conditions and time.
    max_channels : int, optional
        Channels kept. ``"recorded"``: the ``max_channels`` channels of largest variance over
        conditions and time (in their recorded order; EMG after per-muscle normalisation, rates
        as recorded); default all muscles, and at most :data:`MAX_UNITS` units of population
        rates. ``"pcs"``: the number of PCs (default :data:`N_PCS`, the jPCA convention).
    go_time : float, optional
        Go time (s into the window) for data that define none; an error where they define one
        (override it with ``reaching_trials(go_time=...)``). The data's own go time is
        ``EMGData.go_time``, ``metadata["go_time"]``, or movement onset for data aligned to it.

    Returns
    -------
    EMGData
        The targets (the (condition, time, channel) container :func:`reaching_trials` reads);
        ``metadata``: ``signal`` (``"emg"``, ``"rates"``, ``"emg_pcs"``, ``"rates_pcs"``),
        ``selected`` (the data's channel names kept, or the PCs' variance ratios), ``go_time_source``,
        ``data_shape`` (the loader's shape) and ``data_kind`` (its class name).

    References
    ----------
    Churchland MM et al. (2012). Neural population dynamics during reaching. Nature 487:51-56.
    """
    import dataclasses

    from brianforce.datasets import CyclingData, EMGData, PopulationRates

    if signal not in SIGNALS:
        raise ValueError(f"signal must be one of {SIGNALS}, got {signal!r}")
    if max_channels is not None:
        max_channels = as_count(max_channels, "max_channels", minimum=1)
    if isinstance(data, CyclingData):
        x, names, kind = data.emg[None], data.channels, "emg"
        conds, angles, unit = np.array(["cycling"]), np.full(1, np.nan), "normalised EMG"
    elif isinstance(data, EMGData):
        x, names, kind = data.emg, data.channels, "emg"
        conds, angles, unit = data.conditions, data.condition_angles, data.value_unit
    elif isinstance(data, PopulationRates):
        x, names, kind = data.rates, data.units, "rates"
        conds, angles, unit = data.conditions, np.full(len(data.conditions), np.nan), data.value_unit
    else:
        raise TypeError(f"data must be EMGData, PopulationRates or CyclingData, got {type(data).__name__}")
    x = np.asarray(x, float)
    go, source = _data_go_time(data)
    if go is not None and go_time is not None:
        raise ValueError(f"the data define a go time ({go} s, {source}); a go time for data that define "
                         "none cannot replace it (use reaching_trials(go_time=...) / [task] go_time)")
    if go is None and go_time is not None:
        go, source = as_number(seconds(go_time, "go_time"), "go_time", low=0.0), "recipe"
    peak = np.abs(x).max(axis=(0, 1))
    if signal == "pcs":
        rng = x.max(axis=(0, 1)) - x.min(axis=(0, 1))
        scale = peak if kind == "emg" else rng + (SOFT_NORM if unit == "spikes/s" else 0.0)
        values, ratio = _top_pcs(x, scale, N_PCS if max_channels is None else max_channels)
        names = np.array([f"pc_{i + 1}" for i in range(values.shape[2])])
        selected, unit = [float(r) for r in ratio], f"principal-component scores of {unit}"
    else:
        cap = max_channels if max_channels is not None else (MAX_UNITS if kind == "rates" else x.shape[2])
        var = (x / np.where(peak > 0, peak, 1.0) if kind == "emg" else x).reshape(-1, x.shape[2]).var(axis=0)
        keep = np.sort(np.argsort(-var, kind="stable")[:cap])
        values, names = x[..., keep], np.asarray(names)[keep]
        selected = [str(n) for n in names]
    meta = dict(getattr(data, "metadata", {}) or {}, signal=kind + ("_pcs" if signal == "pcs" else ""),
                selected=selected, go_time_source=source or f"none (default {_DEFAULT_GO} s)",
                data_shape=list(x.shape), data_kind=type(data).__name__)
    meta.pop("go_time", None)
    if isinstance(data, EMGData) and signal == "recorded" and values.shape == x.shape:
        return dataclasses.replace(data, metadata=meta, go_time=go)
    return EMGData(emg=np.ascontiguousarray(values), dt=float(data.dt), time=np.asarray(data.time, float),
                   conditions=np.asarray(conds), condition_angles=np.asarray(angles, float),
                   channels=np.asarray(names), value_unit=unit, go_time=go, source=str(data.source),
                   synthetic=bool(getattr(data, "synthetic", False)), metadata=meta)


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
        if angles is None or len(angles) != c or not np.all(np.isfinite(angles)):
            raise ValueError("encoding='angle' needs one reach angle (radians) per condition "
                             "(data sets without reach directions take 'one-hot' or 'random')")
        a = np.asarray(angles, dtype=float)
        return np.stack([np.cos(a), np.sin(a)], axis=1)
    raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")


def reaching_trials(emg, n_repeats: int = 1, dt: float = 1e-3, *, baseline: float = 0.2,
                    encoding: str = "one-hot", n_dims: int | None = None,
                    input_amplitude: float = 1.0, input_off_at_go: bool = False,
                    go_time: float | None = None, go_amplitude: float = 1.0,
                    go_duration: float = 0.02, target_scale: float = 1.0, normalise: bool = True,
                    conditions=None, shuffle: bool = False, crop: float | None = None,
                    seed: int = 0, shuffle_seed: int | None = None) -> Trials:
    """Trials for all (or the selected) conditions of ``emg``, each repeated ``n_repeats`` times.

    Parameters
    ----------
    emg : EMGData
        ``emg.emg`` (C, T, M) with ``emg.dt`` (s) and ``emg.go_time`` (s, may be None); other
        data sets through :func:`reaching_targets`.
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
        Factor applied after per-muscle normalisation (max ``|EMG|`` = 1 per muscle).
    normalise : bool
        Divide each muscle by its maximum ``|EMG|`` (over all conditions and time) first.
    conditions : sequence of int, optional
        Indices of the conditions to use (default all).
    crop : float, optional
        Keep only the first ``crop`` seconds of the EMG window.
    seed : int
        Random input directions (``encoding="random"``), and the shuffle unless ``shuffle_seed``
        is given.
    shuffle_seed : int, optional
        Seed of the shuffle alone: another order of the same trials (the same inputs).

    Returns
    -------
    Trials
        ``name="reaching"``, ``continuous=False``, ``labels`` = condition index, ``response`` =
        ``(go sample, T)``; ``info``: ``emg_window``, ``baseline_samples``, ``go_sample``,
        ``condition_vectors``, ``channel_scale`` (the per-muscle divisor), ``channels``,
        ``conditions`` (data labels), ``encoding``, ``synthetic``, ``source``.
    """
    n_repeats = as_count(n_repeats, "n_repeats", minimum=1)
    dt, baseline, go_time, go_duration, crop = (seconds(v, k) for k, v in dict(
        dt=dt, baseline=baseline, go_time=go_time, go_duration=go_duration, crop=crop).items())
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
    if conditions is None:
        idx_c = np.arange(n_c)
    else:
        raw = np.asarray(conditions)
        if raw.dtype.kind not in "iuf" or (raw.dtype.kind == "f" and not np.all(np.mod(raw, 1) == 0)):
            raise ValueError(f"conditions must be integer indices in [0, {n_c}), got {conditions!r}")
        idx_c = raw.astype(int)
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
    rng = rng_for(seed if shuffle_seed is None else check_seed(shuffle_seed), "reaching-order")
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
