"""Parameter record and random initial network of the Dale's-law rate RNN (numpy only).

The network of Kim, Li & Sejnowski (2019), integrated and trained in :mod:`brianforce.rate.backprop`:
recurrent weights ``W = [W̃]₊ ⊙ M · D`` (a fixed 0/1 mask ``M`` and a diagonal ±1 sign matrix ``D``, so
that every unit's outgoing weights keep one sign) and per-unit decay constants
``τ_i = σ(θ_i)(τ_max − τ_min) + τ_min``. All times are plain floats in **seconds**.

References
----------
Kim R, Li Y, Sejnowski TJ (2019) Simple framework for constructing functional spiking
recurrent neural networks. PNAS 116:22811-22820.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from brianforce.checks import as_count, as_finite_array, as_flag, as_number
from brianforce.io import ModelFileError, load_arrays, save_arrays
from brianforce.seeding import check_seed, rng_for

__all__ = ["ACTIVATIONS", "RECTIFIERS", "DaleRNNParams", "init_dale_rnn", "network_settings", "sigmoid"]

ACTIVATIONS = ("sigmoid", "softplus", "relu")
#: How ``W̃`` is made non-negative: ``"abs"`` (``|W̃|``) or ``"relu"`` (``max(W̃, 0)``, the authors' code).
RECTIFIERS = ("abs", "relu")
_ARRAYS = ("w_rec", "mask", "sign", "w_in", "w_out", "tau_raw")
_MODEL_KIND = "kim2019-rate-rnn"


def sigmoid(x):
    """The logistic function ``1/(1 + e^−x)``, without overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def _positive(name, value):
    """A finite plain number > 0 (SI units; a Brian2 unit, a bool or a string is refused)."""
    return as_number(value, name, low=0.0, low_open=True)


def _probability(name, value, *, allow_zero=True):
    return as_number(value, name, low=0.0, high=1.0, low_open=not allow_zero)


def _names(activation, rectifier) -> None:
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    if rectifier not in RECTIFIERS:
        raise ValueError(f"rectifier must be one of {RECTIFIERS}, got {rectifier!r}")


def _time_bounds(tau_min, tau_max, dt) -> tuple:
    """``tau_min``, ``tau_max`` and ``dt`` (seconds), each > 0, with ``tau_min <= tau_max``."""
    tau_min, tau_max, dt = _positive("tau_min", tau_min), _positive("tau_max", tau_max), _positive("dt", dt)
    if tau_max < tau_min:
        raise ValueError(f"tau_max ({tau_max}) must be >= tau_min ({tau_min})")
    return tau_min, tau_max, dt


@dataclass
class DaleRNNParams:
    """Parameters of a Dale's-law rate RNN (plain arrays; times in seconds).

    Every record is checked when built (and so when loaded): the shapes below, finite values, a 0/1
    ``mask``, ±1 ``sign``, known ``activation`` and ``rectifier``, ``tau_min <= tau_max`` and an Euler
    step ``dt`` no longer than the shortest ``tau``; each error names the field.

    Attributes
    ----------
    w_rec : (N, N) unconstrained recurrent weights ``W̃`` (row = target unit).
    mask : (N, N) fixed 0/1 connection mask ``M``.
    sign : (N,) +1 (excitatory) / −1 (inhibitory) sign of each unit's outgoing weights.
    w_in : (N, n_inputs) input weights.
    w_out : (N,) readout weights; ``b_out`` : float readout bias.
    tau_raw : (N,) ``θ``, mapped to ``τ = σ(θ)(τ_max − τ_min) + τ_min``.
    tau_min, tau_max, dt : float, seconds.
    activation : ``"sigmoid"``, ``"softplus"`` or ``"relu"``.
    noise_std : float, std of the Gaussian noise added to ``x`` at every step.
    rectifier : ``"abs"`` or ``"relu"``, how ``W̃`` is made non-negative (:data:`RECTIFIERS`).
    diverged : bool
        True for the parameters that a :class:`~brianforce.rate.backprop.DaleRNNTrainer` kept from a
        training that diverged: :class:`~brianforce.methods.transfer.LIFTransfer` and
        :meth:`~brianforce.methods.transfer.TransferredLIF.from_rate` refuse them unless
        ``allow_diverged=True``. Saved with them; files without it read as False.
    """

    w_rec: np.ndarray
    mask: np.ndarray
    sign: np.ndarray
    w_in: np.ndarray
    w_out: np.ndarray
    b_out: float
    tau_raw: np.ndarray
    tau_min: float = 0.020
    tau_max: float = 0.050
    dt: float = 0.005
    activation: str = "sigmoid"
    noise_std: float = 0.1
    rectifier: str = "abs"
    diverged: bool = False

    def __post_init__(self):
        self.tau_min, self.tau_max, self.dt = _time_bounds(self.tau_min, self.tau_max, self.dt)
        _names(self.activation, self.rectifier)
        self.noise_std = as_number(self.noise_std, "noise_std", low=0.0)
        self.b_out = as_number(self.b_out, "b_out")
        self.diverged = as_flag(self.diverged, "diverged")
        for k in _ARRAYS:
            setattr(self, k, as_finite_array(getattr(self, k), k))
        if self.w_rec.ndim != 2 or self.w_rec.shape[0] != self.w_rec.shape[1] or self.w_rec.shape[0] < 1:
            raise ValueError(f"w_rec must have shape (N, N) with N >= 1, got {self.w_rec.shape}")
        N = self.n_units
        for k, shape in (("mask", (N, N)), ("sign", (N,)), ("w_out", (N,)), ("tau_raw", (N,))):
            if getattr(self, k).shape != shape:
                raise ValueError(f"{k} must have shape {shape}, got {getattr(self, k).shape}")
        if self.w_in.ndim != 2 or self.w_in.shape[0] != N:
            raise ValueError(f"w_in must have shape ({N}, n_inputs), got {self.w_in.shape}")
        if not np.all((self.mask == 0) | (self.mask == 1)):
            raise ValueError(f"mask must be 0 or 1, got the values {np.unique(self.mask)[:6]}")
        if not np.all(np.abs(self.sign) == 1):
            raise ValueError(f"sign must be +1 or -1 (excitatory or inhibitory unit), got the values "
                             f"{np.unique(self.sign)[:6]}")
        shortest = float(self.tau.min())
        if self.dt > shortest:
            raise ValueError(f"dt ({self.dt} s) must not exceed the shortest decay constant tau ({shortest:.6g} s) "
                             f"(Euler step would be unstable)")

    @property
    def n_units(self) -> int:
        return self.w_rec.shape[0]

    @property
    def n_inputs(self) -> int:
        return self.w_in.shape[1]

    @property
    def W(self) -> np.ndarray:
        """Effective recurrent weights ``[W̃]₊ ⊙ M · diag(sign)`` (N, N)."""
        positive = np.abs(self.w_rec) if self.rectifier == "abs" else np.maximum(self.w_rec, 0.0)
        return positive * self.mask * self.sign[None, :]

    @property
    def tau(self) -> np.ndarray:
        """Synaptic decay time constants (seconds), in ``[tau_min, tau_max]``."""
        return sigmoid(self.tau_raw) * (self.tau_max - self.tau_min) + self.tau_min

    @property
    def inhibitory(self) -> np.ndarray:
        return self.sign < 0

    def copy(self) -> "DaleRNNParams":
        return replace(self, **{k: np.array(getattr(self, k), copy=True) for k in _ARRAYS})

    def save(self, path, metadata: dict | None = None):
        """Save with :func:`brianforce.io.save_arrays` (kind ``"kim2019-rate-rnn"``)."""
        arrays = {k: getattr(self, k) for k in _ARRAYS}
        arrays["b_out"] = np.array(float(self.b_out))
        meta = dict(metadata or {})
        meta["model"] = {k: getattr(self, k) for k in ("tau_min", "tau_max", "dt", "activation", "noise_std",
                                                        "rectifier")}
        meta["model"] = {k: (float(v) if not isinstance(v, str) else v) for k, v in meta["model"].items()}
        if self.diverged:
            meta["model"]["diverged"] = True
        return save_arrays(path, arrays, meta, kind=_MODEL_KIND)

    @classmethod
    def load(cls, path) -> "DaleRNNParams":
        """Load a file written by :meth:`save` (raises ``ModelFileError`` if invalid, or if the
        parameters fail the checks of the record)."""
        arrays, meta = load_arrays(path, kind=_MODEL_KIND)
        if meta["model"].get("rectifier", "abs") not in RECTIFIERS:        # files without it: "abs"
            raise ModelFileError(f"{path}: rectifier {meta['model']['rectifier']!r} is not one of {RECTIFIERS}")
        try:
            return cls(b_out=float(arrays.pop("b_out")), **arrays, **meta["model"])
        except (TypeError, ValueError) as exc:
            raise ModelFileError(f"{path}: not a valid Dale rate network: {exc}") from exc


def network_settings(n_units, p_inh, p_connect, gain, tau_min, tau_max, dt, activation, noise_std,
                     rectifier="abs") -> tuple:
    """The network settings of :func:`init_dale_rnn` checked (each error names the parameter);
    ``dt`` must not exceed ``tau_min``."""
    n_units = as_count(n_units, "n_units", minimum=2)
    p_inh = _probability("p_inh", p_inh)
    p_connect = _probability("p_connect", p_connect, allow_zero=False)
    gain = _positive("gain", gain)
    tau_min, tau_max, dt = _time_bounds(tau_min, tau_max, dt)
    if dt > tau_min:
        raise ValueError(f"dt ({dt} s) must not exceed tau_min ({tau_min} s) (Euler step would be unstable)")
    _names(activation, rectifier)
    return n_units, p_inh, p_connect, gain, tau_min, tau_max, dt, as_number(noise_std, "noise_std", low=0.0)


def init_dale_rnn(n_units: int, n_inputs: int, seed: int = 0, *, p_inh: float = 0.2,
                  p_connect: float = 0.2, gain: float = 1.5, tau_min: float = 0.020,
                  tau_max: float = 0.050, dt: float = 0.005, activation: str = "sigmoid",
                  noise_std: float = 0.1, rectifier: str = "abs") -> DaleRNNParams:
    """Random initial network as in Kim et al. (2019).

    Each unit is inhibitory with probability ``p_inh``; connections exist with probability
    ``p_connect`` (fixed mask, no self-connections); ``W̃ ~ |N(0, 1)| · gain / sqrt(N p)``;
    ``W^in ~ N(0, 1)``; ``w^out ~ N(0, 0.01²)``; ``θ ~ N(0, 1)``. Times in seconds.

    References
    ----------
    Kim, Li & Sejnowski (2019) PNAS 116:22811, Methods.
    """
    n_inputs = as_count(n_inputs, "n_inputs", minimum=1)
    seed = check_seed(seed)
    n_units, p_inh, p_connect, gain, tau_min, tau_max, dt, noise_std = network_settings(
        n_units, p_inh, p_connect, gain, tau_min, tau_max, dt, activation, noise_std, rectifier)
    N = int(n_units)
    rng = rng_for(seed, "connectivity")
    sign = np.where(rng.random(N) < p_inh, -1.0, 1.0)
    mask = (rng.random((N, N)) < p_connect).astype(float)
    np.fill_diagonal(mask, 0.0)
    w_rec = np.abs(rng.standard_normal((N, N))) * gain / np.sqrt(N * p_connect) * mask
    rng_io = rng_for(seed, "io-weights")
    w_in = rng_io.standard_normal((N, int(n_inputs)))
    w_out = rng_io.standard_normal(N) / 100.0
    tau_raw = rng_for(seed, "time-constants").standard_normal(N)
    return DaleRNNParams(w_rec=w_rec, mask=mask, sign=sign, w_in=w_in, w_out=w_out, b_out=0.0,
                         tau_raw=tau_raw, tau_min=tau_min, tau_max=tau_max, dt=dt,
                         activation=activation, noise_std=noise_std, rectifier=rectifier)
