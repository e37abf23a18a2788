"""Fitting recorded firing rates with a Kim & Chow network: rates → current targets → training rounds.

The methods of :class:`~brianforce.methods.recurrent.RecurrentTrainer` that map recorded units onto
neurons, turn their rates into current targets through the neurons' f–I curve and recalibrate the
fluctuations that curve assumes between training rounds (Kim & Chow 2018, Fig. 7).

References
----------
Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
"""
from __future__ import annotations

import numpy as np
from brian2 import second, volt

from brianforce.methods.recurrent_results import TrialRecording
from brianforce.seeding import rng_for
from brianforce.tasks.patterns import fit_transfer_noise, rates_to_targets
from brianforce.tasks.trials import Trials, current_targets

__all__ = ["RateFitting", "REST_MODES", "check_rest"]

#: What :meth:`fit_rates` does with the neurons that map no recorded unit (``rest``).
REST_MODES = ("untrained", "stabilise")


def check_rest(rest) -> str:
    """``rest`` if it is one of :data:`REST_MODES`, else ``ValueError`` naming it."""
    if rest not in REST_MODES:
        raise ValueError(f"rest must be one of {REST_MODES}, got {rest!r}")
    return rest



class RateFitting:
    """Recorded-rate fitting for :class:`~brianforce.methods.recurrent.RecurrentTrainer` (a mixin: it uses
    the trainer's network, ``spontaneous``, ``fit`` and ``run_trials``)."""

    def _lif_params(self) -> dict:
        """SI parameters of the neurons' transfer curve (for :func:`lif_transfer`)."""
        bn = self.build()
        ns = bn.neurons.namespace
        return dict(tau_m=float(ns["tau_m"] / second), v_th=float(ns["v_th"] / volt),
                    v_reset=float(ns["v_reset"] / volt),
                    tau_ref=float(bn.neurons._refractory / second),
                    white=float(self.noise / volt))

    def rate_targets(self, rates, dt: float, *, neurons=None, sigma: float | None = None,
                     min_rate: float = 0.1) -> Trials:
        """Recorded rates (C, T, U) in spikes/s → current targets for U mapped neurons.

        Units are mapped one-to-one onto ``neurons`` (default: U distinct neurons drawn
        from stream ``"rate-mapping"``); the rest of the network stays untrained. The
        target current is the inverse of the neurons' transfer curve
        (:func:`brianforce.tasks.patterns.lif_transfer`, with the network's white
        ``noise``) averaged over slow fluctuations of SD ``sigma`` (volts), minus the bias.
        ``sigma`` defaults to the mapped neurons' spontaneous temporal SD of ``I_syn`` —
        an over-estimate after training (see :meth:`fit_rates`, which measures it).
        ``dt`` in seconds.
        """
        rates = np.asarray(rates, dtype=float)
        if rates.ndim != 3:
            raise ValueError(f"rates must have shape (conditions, time, units), got {rates.shape}")
        bn = self.build()
        U = rates.shape[2]
        if neurons is None:
            neurons = np.sort(rng_for(self.seed, "rate-mapping").choice(self.n, U, replace=False))
        neurons = np.asarray(neurons, dtype=np.int64)
        if sigma is None:
            sigma = float(self.spontaneous(1 * second, neurons=neurons).std(0).mean())
        bias = bn.neurons.I_bias_[:][neurons]
        return rates_to_targets(rates, dt, neurons, bias, sigma, min_rate=min_rate,
                                **self._lif_params())

    def transfer_noise(self, recording: "TrialRecording", *, neurons=None,
                       smooth: float = 0.025) -> float:
        """Slow input SD (volts) that makes the transfer curve fit the trained network.

        Compares, for ``neurons`` (default: the rate-mapped neurons of :meth:`fit_rates`,
        else all trained neurons), the trial-averaged total input (``I_syn + I_bias``)
        with their trial-averaged, Gaussian-smoothed rates on ``recording`` (test trials)
        via :func:`brianforce.tasks.patterns.fit_transfer_noise`.
        """
        if getattr(self, "targets_", None) is None:
            raise RuntimeError("call fit() first")
        if neurons is None:
            neurons = getattr(self, "mapped_", None)
        if neurons is None:
            neurons = self.targets_.neurons
        neurons = np.asarray(neurons, dtype=np.int64)
        col = {int(k): j for j, k in enumerate(self.targets_.neurons)}
        cols = np.array([col[int(k)] for k in neurons])
        mu = recording.currents.mean(0)[..., cols] + self.network_.neurons.I_bias_[:][neurons]
        rates = recording.binned_rates(neurons, smooth=smooth)
        return fit_transfer_noise(mu, rates, **self._lif_params())[0]

    def fit_rates(self, rates, dt: float, *, neurons=None, sigma: float | None = None,
                  rounds: int = 2, calibration_trials: int = 4, smooth: float = 0.025,
                  min_rate: float = 0.1, rest: str = "untrained",
                  batch: int = 1) -> "RateFitting":
        """Train mapped neurons to fire at recorded ``rates`` (C, T, U), spikes/s.

        Kim & Chow train the synaptic current so that the neuron's rate follows the
        target; the current that gives a rate depends on the fluctuations the neuron sees.
        Round 1 inverts the transfer curve with slow SD ``sigma`` (default: spontaneous
        SD of ``I_syn``, see :meth:`rate_targets`) and trains; every further round runs
        ``calibration_trials`` test trials, measures the SD that actually links the trained
        neurons' currents to their rates (:meth:`transfer_noise`), recomputes the targets
        with it and trains on (from the current weights).

        ``rest``: ``"untrained"`` (default) leaves the other neurons' synapses alone;
        ``"stabilise"`` also trains every other neuron to follow its own spontaneous
        trajectory after each condition's stimulus (target (b), recorded once per
        condition), which makes the network's dynamics reproducible from trial to trial.

        ``batch``: calibration trials simulated at once (see :meth:`run_trials`).

        Sets ``mapped_`` (network indices of the units, in unit order),
        ``transfer_sigma_`` (SD used in every round; NaN = spontaneous default) and
        ``learning_curves_`` (one :class:`LearningCurve` per round).
        """
        if int(rounds) < 1:
            raise ValueError(f"rounds must be >= 1, got {rounds}")
        check_rest(rest)
        mapped = self.rate_targets(rates, dt, neurons=neurons, sigma=sigma, min_rate=min_rate)
        self.mapped_ = mapped.neurons
        extra = None
        if rest == "stabilise":
            others = np.setdiff1d(np.arange(self.n), self.mapped_)
            T = mapped.n_steps
            extra = (others, np.stack([
                self.spontaneous(T * mapped.dt * second, neurons=others,
                                 sample_dt=mapped.dt * second, condition=c)
                for c in range(mapped.n_trials)]))

        def combined(t):
            if extra is None:
                return t
            return current_targets(np.concatenate([t.targets, extra[1]], axis=2), t.dt,
                                  np.concatenate([t.neurons, extra[0]]))

        self.transfer_sigma_ = [float(sigma) if sigma is not None else float("nan")]
        self.fit(combined(mapped))
        self.learning_curves_ = [self.learning_curve_]
        for _ in range(1, int(rounds)):
            s = self.transfer_noise(self.run_trials(calibration_trials, batch=batch), smooth=smooth)
            self.transfer_sigma_.append(s)
            self.fit(combined(self.rate_targets(rates, dt, neurons=self.mapped_, sigma=s,
                                                min_rate=min_rate)))
            self.learning_curves_.append(self.learning_curve_)
        return self
