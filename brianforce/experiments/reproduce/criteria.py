"""The acceptance criteria of every reproduced method, as its paper states them: the one table.

Each :class:`Method` lists its acceptance runs (:class:`Run`: one shipped recipe, the kind of runner
that trains it, its criteria). A :class:`Criterion` names the metric a run reports, the comparison and
the threshold; :meth:`Criterion.judge` judges the values of several seeds: pass/fail per seed, the
median, the number of seeds passing and whether the method *meets* the criterion — at
:data:`MEETS_FRACTION` of the seeds (4 of 5) unless the criterion counts otherwise. Thresholds are the
papers'; nothing here is tuned.

References
----------
Nicola W, Clopath C (2017) Supervised learning in spiking neural networks with FORCE training.
Nat Commun 8:2208.
DePasquale B, Churchland MM, Abbott LF (2016) Using firing-rate dynamics to train recurrent networks of
spiking model neurons. arXiv:1601.07620.
DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023) The centrality of population-level factors to
network computation is demonstrated by a versatile approach for training spiking networks. Neuron
111:631-649.
Kim R, Li Y, Sejnowski TJ (2019) Simple framework for constructing functional spiking recurrent neural
networks. PNAS 116:22811-22820.
Kim CM, Chow CC (2018) Learning recurrent dynamics in spiking networks. eLife 7:e37124.
Newton TR, Nicola W (2025) Spiking and rate networks trained with FORCE: a parameter-matched comparison.
PLoS Comput Biol 21:e1013224.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Criterion", "Run", "Method", "Judgement", "METHODS", "MEETS_FRACTION", "OPS", "select",
           "FORCE_RMSE", "FORCE_CORRELATION"]

#: A method meets a criterion when at least this fraction of the seeds pass it (4 of 5).
MEETS_FRACTION = 0.8
#: Comparisons a criterion may use, by symbol.
OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}

NICOLA_CLOPATH = "Nicola & Clopath 2017 (Nat Commun 8:2208), Fig. 2"
DEPASQUALE_2016 = "DePasquale, Churchland & Abbott 2016 (arXiv:1601.07620)"
DEPASQUALE_2023 = "DePasquale, Sussillo, Abbott & Churchland 2023 (Neuron 111:631-649)"
KIM_2019 = "Kim, Li & Sejnowski 2019 (PNAS 116:22811-22820)"
KIM_CHOW = "Kim & Chow 2018 (eLife 7:e37124)"
NEWTON_NICOLA = "Newton & Nicola 2025 (PLoS Comput Biol 21:e1013224)"


@dataclass(frozen=True)
class Criterion:
    """One acceptance criterion.

    Attributes
    ----------
    text : str
        The criterion as the paper states it.
    metric : str
        Name of the value the run reports (a key of the runner's metrics).
    op : {"<", "<=", ">", ">="}
    threshold : float
    reference : str
        The paper (and figure) the criterion comes from.
    how : str
        How the metric is computed from the run.
    min_fraction : float
        Fraction of the seeds that must pass for the method to meet the criterion.
    """

    text: str
    metric: str
    op: str
    threshold: float
    reference: str
    how: str = ""
    min_fraction: float = MEETS_FRACTION

    def __post_init__(self):
        if self.op not in OPS:
            raise ValueError(f"op must be one of {sorted(OPS)}, got {self.op!r}")

    @property
    def rule(self) -> str:
        """``"< 0.2"``: the comparison and the threshold."""
        return f"{self.op} {self.threshold:g}"

    def passes(self, value) -> bool:
        """Whether one value meets the threshold (a missing or NaN value does not)."""
        if value is None:
            return False
        value = float(value)
        return bool(not math.isnan(value) and OPS[self.op](value, self.threshold))

    def required(self, n_seeds: int) -> int:
        """Seeds that must pass out of ``n_seeds`` (4 of 5; 8 of 10)."""
        return max(1, math.ceil(self.min_fraction * n_seeds - 1e-9))

    def judge(self, seeds, values) -> "Judgement":
        """Judge the values of ``seeds`` (``None`` or NaN: the run gave no value)."""
        vals = tuple(np.nan if v is None else float(v) for v in values)
        if len(vals) != len(tuple(seeds)):
            raise ValueError(f"{len(tuple(seeds))} seeds but {len(vals)} values")
        finite = [v for v in vals if not math.isnan(v)]
        passed = tuple(self.passes(v) for v in vals)
        return Judgement(self, tuple(int(s) for s in seeds), vals, passed,
                         float(np.median(finite)) if finite else np.nan, sum(passed), self.required(len(vals)))


@dataclass(frozen=True)
class Judgement:
    """A criterion judged over seeds: values, pass/fail per seed, median, count passing."""

    criterion: Criterion
    seeds: tuple
    values: tuple
    passed: tuple
    median: float
    n_pass: int
    required: int

    @property
    def meets(self) -> bool:
        """At least :attr:`required` seeds pass."""
        return self.n_pass >= self.required


@dataclass(frozen=True)
class Run:
    """An acceptance run: a shipped recipe, the runner kind that trains it, and its criteria."""

    recipe: str
    kind: str
    criteria: tuple
    title: str = ""


@dataclass(frozen=True)
class Method:
    """A reproduced method: its paper and acceptance runs."""

    name: str
    title: str
    reference: str
    runs: tuple = field(default_factory=tuple)


FORCE_RMSE = Criterion(
    "free-running test (first second): RMSE < 0.2 of the target amplitude", "rmse_over_amplitude", "<", 0.2,
    NICOLA_CLOPATH, "RMSE / amplitude over the first second of the free-running test; the worst output")
FORCE_CORRELATION = Criterion(
    "free-running test (first second): lag-adjusted correlation with the target > 0.95",
    "lag_adjusted_correlation", ">", 0.95, NICOLA_CLOPATH,
    "correlation after the best shift of up to a quarter period, first second of the test; the worst output")

_OSC_HOW = "median over the 7 test draws of the student's median normalised error / the teacher's"
_ACCURACY = Criterion("decision accuracy >= 90 % on the test trials", "accuracy", ">=", 0.90, DEPASQUALE_2016,
                      "spiking student's decisions on 100 test trials")


def _rate(threshold_text: str = "95 %") -> Criterion:
    return Criterion(f"rate network accuracy >= {threshold_text}", "rate_accuracy", ">=", 0.95, KIM_2019,
                     "rate RNN on fresh noisy test trials")


def _lif(threshold: float) -> Criterion:
    return Criterion(f"LIF network accuracy after transfer >= {threshold:.0%}".replace("%", " %"), "lif_accuracy",
                     ">=", threshold, KIM_2019, "transferred LIF network on 100 test trials, best 1/lambda")


METHODS = {m.name: m for m in (
    Method("force", "FORCE-trained LIF networks", NICOLA_CLOPATH, (
        Run("nicola_clopath_sinusoid", "force", (FORCE_RMSE, FORCE_CORRELATION), "5 Hz sinusoid"),
        Run("nicola_clopath_van_der_pol", "force", (FORCE_RMSE, FORCE_CORRELATION), "Van der Pol oscillator"),
    )),
    Method("depasquale", "Rate teachers for spiking students", DEPASQUALE_2016, (
        Run("depasquale_oscillation", "depasquale", (
            Criterion("student error within 2x the teacher's", "error_ratio", "<=", 2.0, DEPASQUALE_2016 + ", Fig. 2",
                      _OSC_HOW),
            Criterion("ISI CV > 0.5", "isi_cv_median", ">", 0.5, DEPASQUALE_2016 + ", Fig. 2",
                      "median over the student's neurons"),
            Criterion("top-10 PCs > 90 % of the variance", "top10_pcs_variance", ">", 0.90,
                      DEPASQUALE_2016 + ", Fig. 2", "student's condition-averaged filtered rates"),
            Criterion("principal angle < 15 deg", "median_principal_angle_deg", "<", 15.0,
                      DEPASQUALE_2016 + ", Fig. 2", "median angle between student's and teacher's top-10 PC subspaces"),
        ), "autonomous oscillation"),
        Run("depasquale_oscillation_dale", "depasquale", (
            Criterion("with Dale's law: student error within 3x the teacher's", "error_ratio", "<=", 3.0,
                      DEPASQUALE_2016 + ", Fig. 2", _OSC_HOW),
        ), "oscillation, Dale's law"),
        Run("depasquale_integration", "depasquale", (_ACCURACY,), "input integration"),
        Run("depasquale_classification", "depasquale", (_ACCURACY,), "input classification"),
    )),
    Method("reaching", "Reaching EMG: rate teacher and spiking student", DEPASQUALE_2023, (
        Run("reaching_emg", "reaching", (
            Criterion("rate network R^2 > 0.95 (every condition)", "teacher_r2_min", ">", 0.95, DEPASQUALE_2023,
                      "lowest R^2 over the conditions"),
            Criterion("spiking network R^2 > 0.85 (trial-averaged)", "student_r2_trial_averaged", ">", 0.85,
                      DEPASQUALE_2023, "trial-averaged test outputs vs EMG, pooled over conditions and muscles"),
            Criterion("ISI CV > 0.5", "isi_cv_median", ">", 0.5, DEPASQUALE_2023, "median over the student's neurons"),
        ), "2-muscle reaching EMG"),
        Run("reaching_emg13", "reaching", (
            Criterion("13-muscle EMG: spiking network R^2 > 0.8 (trial-averaged)", "student_r2_trial_averaged", ">",
                      0.8, DEPASQUALE_2023 + " recipe on Bachschmid-Romano et al. 2023 EMG",
                      "trial-averaged test outputs vs EMG, pooled over conditions and muscles"),
        ), "13-muscle EMG"),
    )),
    Method("kim2019", "One-to-one rate-to-LIF transfer", KIM_2019, (
        Run("kim2019_go_nogo", "kim2019", (
            _rate(), _lif(0.90),
            Criterion(">= 8/10 networks transfer (LIF accuracy >= 90 %)", "lif_accuracy", ">=", 0.90, KIM_2019,
                      "one network per seed; the method meets it when >= 0.8 of the networks transfer",
                      min_fraction=0.8),
        ), "Go/NoGo"),
        Run("kim2019_xor", "kim2019", (_rate(), _lif(0.90)), "XOR"),
        Run("kim2019_context", "kim2019", (_rate(), _lif(0.85)), "context-dependent integration"),
    )),
    Method("kimchow", "Learning recurrent dynamics", KIM_CHOW, (
        Run("kimchow_patterns", "kimchow_patterns", (
            Criterion("synaptic-current patterns: mean correlation with the targets > 0.9", "test_corr_mean", ">", 0.9,
                      KIM_CHOW + ", Fig. 1-2", "mean over neurons and test trials"),
        ), "arbitrary synaptic-current patterns"),
        Run("reaching_m1", "reaching_m1", (
            Criterion("M1 at 1x recorded rates: correlation >= 0.9 of the Poisson ceiling", "corr_over_poisson_ceiling",
                      ">=", 0.9, KIM_CHOW + ", Fig. 7",
                      "median over units of the all-direction rate correlation / median Poisson ceiling"),
        ), "recorded M1 rates"),
    )),
    Method("newton_nicola", "Spiking vs parameter-matched rate network", NEWTON_NICOLA, (
        Run("newton_nicola_alpha_sweep", "newton_nicola", (
            Criterion("decoder correlation > 0.8 at slow learning", "decoder_correlation_slow", ">", 0.8, NEWTON_NICOLA,
                      "Pearson correlation of the two learned decoders at alpha = 5e-7"),
            Criterion("transferred decoders within 2x of the receiving network's own error, both ways",
                      "transfer_ratio_open_max", "<=", 2.0, NEWTON_NICOLA,
                      "larger of the two open-loop (teacher-forced) error ratios at alpha = 5e-7"),
            Criterion("decoder correlation falls as the learning rate grows", "correlation_alpha_spearman", "<", 0.0,
                      NEWTON_NICOLA, "Spearman rank correlation of alpha and decoder correlation, runs that "
                      "did not diverge"),
        ), "learning-rate sweep"),
    )),
)}


def select(names=None) -> list:
    """``[(Method, [Run, ...]), ...]`` for method names or recipe names (all methods when empty).

    Raises
    ------
    ValueError
        A name that is neither a method nor one of their recipes; the message lists both.
    """
    if not names:
        return [(m, list(m.runs)) for m in METHODS.values()]
    chosen: dict = {}
    for name in names:
        if name in METHODS:
            chosen[name] = list(METHODS[name].runs)
            continue
        owner = next((m for m in METHODS.values() for r in m.runs if r.recipe == name), None)
        if owner is None:
            recipes = [r.recipe for m in METHODS.values() for r in m.runs]
            raise ValueError(f"unknown method {name!r}; methods: {', '.join(METHODS)} (or one of their recipes: "
                             f"{', '.join(recipes)})")
        runs = chosen.setdefault(owner.name, [])
        runs.extend(r for r in owner.runs if r.recipe == name and r not in runs)
    return [(METHODS[k], [r for r in METHODS[k].runs if r in v]) for k, v in chosen.items()]
