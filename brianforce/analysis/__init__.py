"""Analysis of outputs and populations: error metrics, lags and frequencies (:mod:`.metrics`);
PCA, principal angles, irregularity, Fano factors (:mod:`.population`); decoder bases, fits,
PC spectra and lag-tolerant errors (:mod:`.decoders`); the lead of LIF activity over the f–I rate
(:mod:`.phase_lead`).

Public names are imported on first use (``from brianforce.analysis import X``).
"""
from importlib import import_module

_LAZY = {"lag_adjusted_correlation": "metrics", "normalised_rmse": "metrics", "rmse": "metrics",
         "dominant_frequency": "metrics",
         "decoder_correlation": "decoders", "filtered_rates_from_spikes": "decoders", "cross_trial_decoder": "decoders",
         "PCProjection": "decoders", "decoder_pc_projection": "decoders", "rls_pc_gain": "decoders",
         "lag_adjusted_error": "decoders", "offline_rls_decoder": "decoders",
         "lif_phase_lead": "phase_lead", "unit_lags": "phase_lead"}

__all__ = list(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
