"""Bad inputs fail loudly: the exception type, and a message that names the parameter and value.

Each row: what a user might pass, the exception expected, and a pattern the message must match.
Tables: ``API`` (public constructors and functions), ``RECIPES`` (a modified copy of a models/*.toml
recipe, refused before any work), ``CLI`` and ``USAGE`` (the command line), ``MODEL_FILES`` and
``MODEL_LOADS`` (saved models); sweeps appear in ``API`` and ``RECIPES``.
"""
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from brian2 import DimensionMismatchError, Hz, NeuronGroup, Synapses, mV, ms, second

from brianforce import datasets
from brianforce.config import RecipeError, load_recipe
from brianforce.experiments.cli import main, run_force_recipe
from brianforce.experiments.depasquale import DEPASQUALE_TASK_KEYS, train_from_recipe
from brianforce.experiments.kimchow import check_kimchow_recipe, trainer_from_sections
from brianforce.experiments.reaching import run_m1_recipe, run_reaching_recipe
from brianforce.experiments.sweep import SweepSpec, run_sweep
from brianforce.io import ModelFileError, load_arrays, save_arrays
from brianforce.learning import FORCE, RecurrentRLS
from brianforce.learning.rls import RLS, regularisation_from
from brianforce.methods.factor_student import (DaleSettings, FixedNetwork, PeriodCalibration, StudentNeuron,
                                               StudentSchedule)
from brianforce.methods.force import FORCETrainer
from brianforce.methods.recurrent import RecurrentTrainer
from brianforce.methods.transfer import LIFTransfer, TransferredLIF, read_recipe, recipe_settings
from brianforce.networks.connectivity import SparseWeights
from brianforce.rate.backprop import DaleRNNTrainer, init_dale_rnn
from brianforce.rate.factors import pca_factors, pool_projection
from brianforce.rate.networks import LIFRateNetwork, TanhForceNetwork
from brianforce.rate.teacher import RateTeacher
from brianforce.tasks import (GoNoGo, XOR, Trials, classification_trials, integration_trials, oscillation_trials,
                              pattern_targets, reaching_trials, sinusoid, sinusoid_patterns, sum_of_sinusoids,
                              van_der_pol)
from brianforce.tasks.patterns import lif_transfer
from brianforce.tasks.reaching import condition_inputs

MODELS = Path(__file__).resolve().parents[1] / "models"


def _force(**kw):
    return lambda: FORCETrainer(50, **kw)


API = {
    # units on dimensionless parameters are not stripped
    "alpha in mV": (_force(alpha=5e-6 * mV), DimensionMismatchError, r"alpha is a plain number.*nvolt"),
    "reg in Hz": (_force(reg=2 * Hz), DimensionMismatchError, r"reg is a plain number.*Hz"),
    "p in ms": (_force(p=0.1 * ms), DimensionMismatchError, r"p is a plain number"),
    "divergence_factor in mV": (_force(divergence_factor=5 * mV), DimensionMismatchError, "divergence_factor"),
    # physical parameters need their units
    "G without unit": (_force(G=0.04), DimensionMismatchError, r"G must have units"),
    "Q in seconds": (_force(Q=10 * ms), DimensionMismatchError, r"Q must have units of"),
    "dt without unit": (_force(dt=5e-5), DimensionMismatchError, r"dt must have units of second"),
    "tau_m in volts": (_force(tau_m=10 * mV), DimensionMismatchError, r"tau_m must have units of second"),
    "rls_interval in Hz": (_force(rls_interval=400 * Hz), DimensionMismatchError, "rls_interval"),
    # flags, counts and ranges
    "normalised='no'": (_force(normalised="no"), TypeError, r"normalised must be True or False, got 'no'"),
    "normalised=1": (_force(normalised=1), TypeError, r"normalised must be True or False, got 1"),
    "p=True": (_force(p=True), TypeError, r"p must be a number, got True"),
    "p=0": (_force(p=0.0), ValueError, r"p must be in \(0, 1\], got 0"),
    "p=1.5": (_force(p=1.5), ValueError, r"p must be in \(0, 1\], got 1.5"),
    "n_record=-1": (_force(n_record=-1), ValueError, r"n_record must be an integer >= 0, got -1"),
    "n_record=2.5": (_force(n_record=2.5), TypeError, r"n_record must be an integer, got 2.5"),
    "n_neurons=True": (lambda: FORCETrainer(True), TypeError, r"n_neurons must be an integer, got True"),
    "n_neurons=0": (lambda: FORCETrainer(0), ValueError, r"n_neurons must be an integer >= 1, got 0"),
    "n_outputs='2'": (lambda: FORCETrainer(50, "2"), TypeError, r"n_outputs must be an integer, got '2'"),
    "record_dt < dt": (_force(record_dt=0.01 * ms), ValueError, r"record_dt \(10\. \* usecond\) must not be shorter than dt"),
    "record_dt off the dt grid": (_force(record_dt=0.07 * ms), ValueError, r"record_dt .* must be a multiple of dt"),
    "alpha and reg": (_force(alpha=1e-3, reg=10.0), ValueError, "exactly one of reg"),
    "alpha=0": (_force(alpha=0.0), ValueError, r"alpha must be in \(0, inf\), got 0"),
    "alpha=NaN": (_force(alpha=float("nan")), ValueError, r"alpha must be finite, got nan"),
    "alpha='5e-6'": (_force(alpha="5e-6"), TypeError, r"alpha must be a number, got '5e-6'"),
    "divergence_factor=-1": (_force(divergence_factor=-1.0), ValueError, r"divergence_factor must be in \(0"),
    "rls_interval not a multiple of dt": (_force(rls_interval=0.12 * ms), ValueError, "multiple of dt"),
    "RLS reg in mV": (lambda: RLS(3, 1, reg=1 * mV), DimensionMismatchError, r"reg is a plain number"),
    "RLS alpha=-1": (lambda: regularisation_from(alpha=-1.0), ValueError, r"alpha must be in \(0, inf\), got -1"),
}


def _group():
    """A small Brian2 group with a filtered spike train ``r`` and a feedback current (nothing is run)."""
    return NeuronGroup(10, "dv/dt = -v/(10*ms) : volt\ndr/dt = -r/(20*ms) : hertz\nI_fb : volt", dt=0.1 * ms)


def _synapses():
    g = _group()
    s = Synapses(g, g, "w : volt*second")
    s.connect(condition="i != j")
    return s


def _learning(**kw):
    return lambda: FORCE(_group(), n_outputs=1, **{"alpha": 1e-3, **kw})


def _recurrent_rls(**kw):
    return lambda: RecurrentRLS(_synapses(), **{"reg": 1.0, **kw})


def _recurrent_fit(repeats):
    return lambda: RecurrentRLS(_synapses(), reg=1.0).fit(np.zeros((200, 10)) * mV, repeats=repeats, dt=0.1 * ms)


def _trials(**kw):
    return lambda: Trials(**{"inputs": np.zeros((2, 5, 1)), "targets": np.zeros((2, 5, 1)), "dt": 1e-3, **kw})


def _emg():
    return datasets.load_reaching_emg(datasets.synthetic_path("reaching_emg"))


API.update({
    # the factor student's parameter records
    "StudentNeuron tau_m without unit": (lambda: StudentNeuron(tau_m=10), DimensionMismatchError,
                                         r"tau_m must have units of second, got 10"),
    "StudentNeuron v_reset above v_th": (lambda: StudentNeuron(v_reset=-30 * mV), ValueError,
                                         r"v_reset must be below v_th, got v_reset = -30"),
    "FixedNetwork signal_amplitude in ms": (lambda: FixedNetwork(signal_amplitude=10 * ms), DimensionMismatchError,
                                            r"signal_amplitude must have units of volt, got 10\. \* msecond"),
    "StudentSchedule n_rls=0": (lambda: StudentSchedule(n_rls=0), ValueError, r"n_rls must be an integer >= 1, got 0"),
    "StudentSchedule update_times": (lambda: StudentSchedule(update_times="sometimes"), ValueError,
                                     r"update_times must be one of .*got 'sometimes'"),
    "StudentSchedule teacher_forced_rls='no'": (lambda: StudentSchedule(teacher_forced_rls="no"), TypeError,
                                                r"teacher_forced_rls must be True or False, got 'no'"),
    "DaleSettings frac_exc=1": (lambda: DaleSettings(frac_exc=1.0), ValueError, r"frac_exc must be in \(0, 1\), got 1"),
    "PeriodCalibration n_periods=1": (lambda: PeriodCalibration(n_periods=1), ValueError,
                                      r"n_periods must be an integer >= 2, got 1"),
    # learning rules on a user's Brian2 objects
    "FORCE normalised='no'": (_learning(normalised="no"), TypeError, r"normalised must be True or False, got 'no'"),
    "FORCE alpha in mV": (_learning(alpha=5e-6 * mV), DimensionMismatchError, r"alpha is a plain number.*nvolt"),
    "FORCE interval without unit": (_learning(interval=2.5), DimensionMismatchError,
                                    r"interval must have units of second.*got 2\.5"),
    "FORCE n_record=2.5": (_learning(n_record=2.5), TypeError, r"n_record must be an integer, got 2\.5"),
    "FORCE rls_threads=0": (_learning(rls_threads=0), ValueError, r"rls_threads must be an integer >= 1, got 0"),
    "RecurrentRLS divergence_factor in mV": (_recurrent_rls(divergence_factor=5 * mV), DimensionMismatchError,
                                             r"divergence_factor is a plain number.*mvolt"),
    "RecurrentRLS divergence_factor=True": (_recurrent_rls(divergence_factor=True), TypeError,
                                            r"divergence_factor must be a number, got True"),
    "RecurrentRLS reg=True": (_recurrent_rls(reg=True), TypeError, r"reg must be a number, got True"),
    "RecurrentRLS repeats=2.5": (_recurrent_fit(2.5), TypeError, r"repeats must be an integer, got 2\.5"),
    "RecurrentRLS repeats=0": (_recurrent_fit(0), ValueError, r"repeats must be an integer >= 1, got 0"),
    # the Kim & Chow trainer
    "RecurrentTrainer n=2.7": (lambda: RecurrentTrainer(2.7), TypeError, r"n must be an integer, got 2\.7"),
    "RecurrentTrainer p=1.5": (lambda: RecurrentTrainer(50, p=1.5), ValueError, r"p must be in \(0, 1\], got 1\.5"),
    "RecurrentTrainer frac_exc=1": (lambda: RecurrentTrainer(50, frac_exc=1.0), ValueError,
                                    r"frac_exc must be in \(0, 1\), got 1\.0"),
    "RecurrentTrainer g in mV": (lambda: RecurrentTrainer(50, g=6 * mV), DimensionMismatchError,
                                 r"g is a plain number.*mvolt"),
    "RecurrentTrainer reg=0": (lambda: RecurrentTrainer(50, reg=0), ValueError, r"reg must be in \(0, inf\), got 0"),
    "RecurrentTrainer n_trials=2.5": (lambda: RecurrentTrainer(50, n_trials=2.5), TypeError,
                                      r"n_trials must be an integer, got 2\.5"),
    "RecurrentTrainer dale='no'": (lambda: RecurrentTrainer(50, dale="no"), TypeError,
                                   r"dale must be True or False, got 'no'"),
    # the trial container
    "Trials dt in ms": (_trials(dt=1 * ms), TypeError, r"dt must be plain SI floats.*from_units"),
    "Trials dt=True": (_trials(dt=True), TypeError, r"dt must be a number, got True"),
    "Trials continuous='no'": (_trials(continuous="no"), TypeError, r"continuous must be True or False, got 'no'"),
    "Trials response start 0.5": (_trials(response=(0.5, 3)), TypeError,
                                  r"response start must be an integer, got 0\.5"),
    # rate networks and the transfer to LIF
    "DaleRNNTrainer dt in ms": (lambda: DaleRNNTrainer(8, dt=5 * ms), DimensionMismatchError,
                                r"dt is a plain number.*msecond"),
    "DaleRNNTrainer batch_size=2.5": (lambda: DaleRNNTrainer(8, batch_size=2.5), TypeError,
                                      r"batch_size must be an integer, got 2\.5"),
    "DaleRNNTrainer p_inh=True": (lambda: DaleRNNTrainer(8, p_inh=True), TypeError,
                                  r"p_inh must be a number, got True"),
    "DaleRNNTrainer min_iter=-1": (lambda: DaleRNNTrainer(8, min_iter=-1), ValueError,
                                   r"min_iter must be an integer >= 0, got -1"),
    "DaleRNNTrainer train_input_weights='no'": (lambda: DaleRNNTrainer(8, train_input_weights="no"), TypeError,
                                                r"train_input_weights must be True or False, got 'no'"),
    "LIFTransfer n_validation=2.5": (lambda: LIFTransfer(n_validation=2.5), TypeError,
                                     r"n_validation must be an integer, got 2\.5"),
    "LIFTransfer scaling factor True": (lambda: LIFTransfer(scaling_factors=[20, True]), TypeError,
                                        r"scaling_factors\[1\] must be a number, got True"),
    "LIFTransfer dt without unit": (lambda: LIFTransfer(dt=0.05), DimensionMismatchError,
                                    r"dt must be a Brian2 quantity.*got the plain number 0\.05"),
    "LIFTransfer readout_bias='no'": (lambda: LIFTransfer(readout_bias="no"), TypeError,
                                      r"readout_bias must be True or False, got 'no'"),
    "LIFTransfer tau_m in mV": (lambda: LIFTransfer(tau_m=10 * mV), DimensionMismatchError, r"tau_m must have units"),
    "TransferredLIF scaling_factor=True": (lambda: TransferredLIF.from_rate(init_dale_rnn(8, 1, 0), True), TypeError,
                                           r"scaling_factor \(1/lambda\) must be a number, got True"),
    "TanhForceNetwork n=2.5": (lambda: TanhForceNetwork(2.5), TypeError, r"n must be an integer, got 2\.5"),
    "TanhForceNetwork tau in ms": (lambda: TanhForceNetwork(10, tau=10 * ms), DimensionMismatchError,
                                   r"tau is a plain number.*msecond"),
    "TanhForceNetwork rls_every=0": (lambda: TanhForceNetwork(10, rls_every=0), ValueError,
                                     r"rls_every must be an integer >= 1, got 0"),
    "TanhForceNetwork fit settle in s": (lambda: TanhForceNetwork(10).fit(sinusoid(), settle=0.5 * second),
                                         DimensionMismatchError, r"settle is a plain number"),
    "LIFRateNetwork normalised='no'": (lambda: LIFRateNetwork(SparseWeights(np.zeros(0, int), np.zeros(0, int),
                                                                            np.zeros(0), 4), np.ones((4, 1)),
                                                              normalised="no"),
                                       TypeError, r"normalised must be True or False, got 'no'"),
    "pca_factors variance=True": (lambda: pca_factors(np.random.default_rng(0).random((20, 4)), variance=True),
                                  TypeError, r"variance must be a number, got True"),
    "pool_projection gain in mV": (lambda: pool_projection(30, 5, 1 * mV, np.random.default_rng(0)),
                                   DimensionMismatchError, r"gain is a plain number.*mvolt"),
    "RateTeacher tau in ms": (lambda: RateTeacher(tau=10 * ms), DimensionMismatchError,
                              r"tau is a plain number.*msecond"),
    "RateTeacher n_units=2.5": (lambda: RateTeacher(2.5), TypeError, r"n_units must be an integer, got 2\.5"),
    "RateTeacher fit continuous='no'": (lambda: RateTeacher(4).fit(np.zeros((1, 5, 1)), np.zeros((1, 5, 1)), 1e-3,
                                                                   continuous="no"),
                                        TypeError, r"continuous must be True or False, got 'no'"),
    # task generators
    "oscillation amplitude=True": (lambda: oscillation_trials(2, 1e-3, amplitude=True), TypeError,
                                   r"amplitude must be a number, got True"),
    "integration n_trials=2.5": (lambda: integration_trials(2.5), TypeError, r"n_trials must be an integer, got 2\.5"),
    "classification dt in mV": (lambda: classification_trials(2, 1 * mV), DimensionMismatchError,
                                r"dt.*mvolt"),
    "classification pulse < dt": (lambda: classification_trials(2, 1e-3, pulse=1e-4), ValueError,
                                  r"pulse must last at least one step dt = 0\.001 s, got 0\.0001"),
    "GoNoGo dt in mV": (lambda: GoNoGo(dt=5 * mV), DimensionMismatchError, r"dt.*mvolt"),
    "GoNoGo p_go=1.5": (lambda: GoNoGo(p_go=1.5), ValueError, r"p_go must be in \[0, 1\], got 1\.5"),
    "GoNoGo nogo_absolute='no'": (lambda: GoNoGo(nogo_absolute="no"), TypeError,
                                  r"nogo_absolute must be True or False, got 'no'"),
    "XOR n_steps=300.5": (lambda: XOR(n_steps=300.5), TypeError, r"n_steps must be an integer, got 300\.5"),
    "sinusoid amplitude=True": (lambda: sinusoid(amplitude=True), TypeError, r"amplitude must be a number, got True"),
    "sum_of_sinusoids frequency True": (lambda: sum_of_sinusoids((1.0, True)), TypeError,
                                        r"frequencies\[1\] must be a number, got True"),
    "van_der_pol mu in mV": (lambda: van_der_pol(mu=1 * mV), DimensionMismatchError, r"mu is a plain number.*mvolt"),
    "reaching_trials shuffle='no'": (lambda: reaching_trials(_emg(), 1, 1e-3, shuffle="no"), TypeError,
                                     r"shuffle must be True or False, got 'no'"),
    "reaching_trials dt in mV": (lambda: reaching_trials(_emg(), 1, 1 * mV), DimensionMismatchError,
                                 r"dt.*mvolt"),
    "condition_inputs n_conditions=2.5": (lambda: condition_inputs(2.5), TypeError,
                                          r"n_conditions must be an integer, got 2\.5"),
    "sinusoid_patterns n_neurons=2.5": (lambda: sinusoid_patterns(2.5, 1.0, 1e-3, np.random.default_rng(0)),
                                        TypeError, r"n_neurons must be an integer, got 2\.5"),
    "pattern_targets amplitude in mV": (lambda: pattern_targets(np.zeros((5, 2)), 0.0, 15 * mV, 1e-3, [0, 1]),
                                        DimensionMismatchError, r"amplitude is a plain number.*mvolt"),
    "lif_transfer sigma=True": (lambda: lif_transfer(np.zeros(3), True), TypeError,
                                r"sigma must be a number, got True"),
    # data set loaders
    "load_reaching_emg synthetic='no'": (lambda: datasets.load_reaching_emg(synthetic="no"), TypeError,
                                         r"synthetic must be True or False, got 'no'"),
    "load_m1_rates synthetic=1": (lambda: datasets.load_m1_rates(synthetic=1), TypeError,
                                  r"synthetic must be True or False, got 1"),
    "load_hatsopoulos_emg synthetic='yes'": (lambda: datasets.load_hatsopoulos_emg(synthetic="yes"), TypeError,
                                             r"synthetic must be True or False, got 'yes'"),
    "EMGData.resampled(True)": (lambda: _emg().resampled(True), TypeError, r"dt must be a number, got True"),
    "EMGData.resampled in mV": (lambda: _emg().resampled(1 * mV), DimensionMismatchError, r"dt must be a time"),
    # sweeps
    "SweepSpec unknown axis": (lambda: SweepSpec("s", {"bogus": [1]}), ValueError, r"cannot sweep 'bogus'"),
    "SweepSpec empty axis": (lambda: SweepSpec("s", {"alpha": []}), ValueError, r"axis 'alpha' has no values"),
    "SweepSpec model": (lambda: SweepSpec("s", {"alpha": [1e-3]}, model="lif"), ValueError,
                        r"model must be one of .*got 'lif'"),
    "run_sweep n_workers=0": (lambda: run_sweep(SweepSpec("s", {"alpha": [1e-3]}), "unused", n_workers=0),
                              ValueError, r"n_workers must be an integer >= 1, got 0"),
})


@pytest.mark.parametrize("case", list(API))
def test_bad_api_input(case):
    make, exc, pattern = API[case]
    with pytest.raises(exc, match=pattern):
        make()


# -- recipes: a modified copy of a models/*.toml file, checked before any work ---------------------------------
def _copy(tmp_path, name, old, new):
    """``models/<name>`` copied to ``tmp_path`` with ``old`` replaced by ``new`` (the base of a reaching_m1
    recipe is copied alongside)."""
    text = (MODELS / name).read_text()
    assert old in text, f"{old!r} not in {name}"
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1))
    if name == "reaching_m1.toml":
        shutil.copy(MODELS / "kimchow_m1.toml", tmp_path / "kimchow_m1.toml")
    return path


def _kimchow(path, out):
    recipe = load_recipe(path)
    check_kimchow_recipe(recipe, str(path))
    return trainer_from_sections(recipe["network"], recipe["training"])


def _kim2019(path, out):
    task, trainer_kwargs, transfer_kwargs, n_test = recipe_settings(read_recipe(path))
    return LIFTransfer(**transfer_kwargs), DaleRNNTrainer(**trainer_kwargs)


RUNNERS = {
    "depasquale": lambda path, out: train_from_recipe(path, out),
    "kim2019": _kim2019,
    "reaching": lambda path, out: run_reaching_recipe(path, out),
    "reaching_m1": lambda path, out: run_m1_recipe(path, out),
    "kimchow": _kimchow,
    "force": lambda path, out: run_force_recipe(load_recipe(path), out),
    "sweep": lambda path, out: SweepSpec.from_recipe(load_recipe(path)),
}

# (method, recipe file, text, replaced by, exception, pattern naming the offending key or value)
RECIPES = {
    # one unknown-key typo per recipe method
    "depasquale [task] n_trian": ("depasquale", "depasquale_integration.toml", "n_train = 100", "n_trian = 100",
                                  RecipeError, r"unknown key 'n_trian' in \[task\].*did you mean 'n_train'"),
    "depasquale [teacher] tua": ("depasquale", "depasquale_oscillation.toml", 'tau = "10 ms"', 'tua = "10 ms"',
                                 RecipeError, r"unknown key 'tua' in \[teacher\]; did you mean 'tau'"),
    "depasquale [student] n_rsl": ("depasquale", "depasquale_classification.toml", "n_rls = 80", "n_rsl = 80",
                                   RecipeError, r"unknown key 'n_rsl' in \[student\]; did you mean 'n_rls'"),
    "depasquale oscillation [task] pulse": ("depasquale", "depasquale_oscillation.toml", "amplitude = 1.5",
                                            "amplitude = 1.5\npulse = 0.1", RecipeError,
                                            r"unknown key 'pulse' in \[task\] \(task 'oscillation'\)"),
    "kim2019 [training] max_iters": ("kim2019", "kim2019_go_nogo.toml", "max_iter = 6000", "max_iters = 6000",
                                     RecipeError, r"unknown key 'max_iters' in \[training\]; did you mean 'max_iter'"),
    "kim2019 [transfer] tau_rize": ("kim2019", "kim2019_xor.toml", 'tau_rise = "2 ms"', 'tau_rize = "2 ms"',
                                    RecipeError,
                                    r"unknown key 'tau_rize' in \[transfer\]; did you mean 'tau_rise'"),
    "reaching [run] n_test_repeat": ("reaching", "reaching_emg.toml", "n_test_repeats = 10", "n_test_repeat = 10",
                                     RecipeError,
                                     r"unknown key 'n_test_repeat' in \[run\]; did you mean 'n_test_repeats'"),
    "reaching [student] backgound_noise": ("reaching", "reaching_emg.toml", 'background_noise = "8 mV"',
                                           'backgound_noise = "8 mV"', RecipeError,
                                           r"unknown key 'backgound_noise' in \[student\]; "
                                           r"did you mean 'background_noise'"),
    "reaching_m1 [evaluation] n_test_trial": ("reaching_m1", "reaching_m1.toml", "n_test_trials = 24",
                                              "n_test_trial = 24", RecipeError,
                                              r"unknown key 'n_test_trial' in \[evaluation\]; "
                                              r"did you mean 'n_test_trials'"),
    "kimchow [training] learn_every": ("kimchow", "kimchow_patterns.toml", "learn_every_ms = 10.0",
                                       "learn_every = 10.0", RecipeError,
                                       r"unknown key 'learn_every' in \[training\]; did you mean 'learn_every_ms'"),
    "kimchow [targets] periods": ("kimchow", "kimchow_patterns.toml", "periods_ms = ", "periods = ", RecipeError,
                                  r"unknown key 'periods' in \[targets\]; did you mean 'periods_ms'"),
    "kimchow [network] tau_d": ("kimchow", "kimchow_m1.toml", "tau_d_ms = 50.0", "tau_d = 50.0", RecipeError,
                                r"unknown key 'tau_d' in \[network\]; did you mean 'tau_d_ms'"),
    "force [network] alpah": ("force", "nicola_clopath_sinusoid.toml", "[network]\n", "[network]\nalpah = 1e-6\n",
                              RecipeError, r"unknown key 'alpah' in \[network\]; did you mean 'alpha'"),
    "force [evaluation]": ("force", "nicola_clopath_sinusoid.toml", "[protocol]\n", "[evaluation]\nwindow = 1\n"
                           "[protocol]\n", RecipeError, r"unknown key 'evaluation' in the recipe"),
    "force [protocol] train in kHz": ("force", "nicola_clopath_sinusoid.toml", 'train = "9.5 s"',
                                      'train = "9.5 kHz"', DimensionMismatchError,
                                      r"\[protocol\] train must have units of second"),
    "force [experiment] seed = 1.7": ("force", "nicola_clopath_van_der_pol.toml", "seed = 0", "seed = 1.7",
                                      TypeError,
                                      r"\[experiment\] seed must be an integer, got 1\.7"),
    "sweep [experiment] seed": ("sweep", "newton_nicola_alpha_sweep.toml", "seeds = ", "seed = ", RecipeError,
                                r"unknown key 'seed' in \[experiment\]; did you mean 'seeds'"),
    # values: counts, flags and durations are checked, never coerced
    "depasquale [task] n_train = 2.5": ("depasquale", "depasquale_integration.toml", "n_train = 100",
                                        "n_train = 2.5", TypeError, r"\[task\] n_train must be an integer, got 2\.5"),
    "depasquale [task] dt in mV": ("depasquale", "depasquale_integration.toml", 'dt = "1 ms"', 'dt = "1 mV"',
                                   DimensionMismatchError, r"\[task\] dt must have units of second.*mvolt"),
    "depasquale [student] reset_trials = 'no'": ("depasquale", "depasquale_classification.toml",
                                                 "reset_trials = true", 'reset_trials = "no"', TypeError,
                                                 r"\[student\] reset_trials must be True or False, got 'no'"),
    "kim2019 [rate] dt in mV": ("kim2019", "kim2019_go_nogo.toml", 'dt = "5 ms"', 'dt = "5 mV"',
                                DimensionMismatchError, r"\[rate\] dt must have units of second"),
    "kim2019 [evaluation] n_test = 0": ("kim2019", "kim2019_context.toml", "n_test = 100", "n_test = 0",
                                       ValueError, r"\[evaluation\] n_test must be an integer >= 1, got 0"),
    "reaching [data] synthetic = 'no'": ("reaching", "reaching_emg.toml", "\nsynthetic = true", '\nsynthetic = "no"',
                                         TypeError, r"\[data\] synthetic must be True or False, got 'no'"),
    "reaching [run] n_teacher_repeats = 2.5": ("reaching", "reaching_emg13.toml", "n_teacher_repeats = 10",
                                               "n_teacher_repeats = 2.5", TypeError,
                                               r"\[run\] n_teacher_repeats must be an integer, got 2\.5"),
    "reaching [teacher] tau in mV": ("reaching", "reaching_emg.toml", 'tau = "10 ms"', 'tau = "10 mV"',
                                     DimensionMismatchError, r"\[teacher\] tau must have units of second"),
    "reaching_m1 [evaluation] n_test_trials = 0": ("reaching_m1", "reaching_m1.toml", "n_test_trials = 24",
                                                   "n_test_trials = 0", ValueError,
                                                   r"\[evaluation\] n_test_trials must be an integer >= 1, got 0"),
    "kimchow [training] dale = 'no'": ("kimchow", "kimchow_patterns.toml", "dale = false", 'dale = "no"', TypeError,
                                       r"\[training\] dale must be True or False, got 'no'"),
    "kimchow [network] n = 2.5": ("kimchow", "kimchow_patterns.toml", "n = 1000", "n = 2.5", TypeError,
                                  r"\[network\] n must be an integer, got 2\.5"),
    "kimchow [network] j0_mV = true": ("kimchow", "kimchow_m1.toml", "j0_mV = 10.0", "j0_mV = true", TypeError,
                                       r"\[network\] j0_mV must be a number, got True"),
}


@pytest.mark.parametrize("case", list(RECIPES))
def test_bad_recipe(case, tmp_path):
    method, name, old, new, exc, pattern = RECIPES[case]
    path = _copy(tmp_path, name, old, new)
    with pytest.raises(exc, match=pattern):
        RUNNERS[method](path, tmp_path / "out")
    assert not (tmp_path / "out" / "summary.json").exists()


@pytest.mark.parametrize("name", sorted(p.name for p in MODELS.glob("*.toml")))
def test_every_recipe_passes_its_schema(name, tmp_path, monkeypatch):
    """Each models/*.toml recipe gets through its loading and checking step (stopped before training)."""
    from brianforce.experiments import depasquale, force
    from brianforce.experiments.reaching import emg, m1

    class Checked(Exception):
        pass

    def stop(*args, **kwargs):
        raise Checked

    monkeypatch.setattr(depasquale.RateTeacher, "fit", stop)
    for module, attr in ((emg, "fit_reaching"), (m1, "fit_m1_rates"), (force, "run_force_experiment")):
        monkeypatch.setattr(module, attr, stop)
    method = load_recipe(MODELS / name).get("experiment", {}).get("method", "kimchow")
    try:
        RUNNERS[method](MODELS / name, tmp_path / "out")
    except Checked:
        pass


def test_depasquale_task_keys_are_the_generators_keywords():
    import inspect

    from brianforce.tasks.depasquale import TASKS

    for name, gen in TASKS.items():
        keywords = [k for k, p in inspect.signature(gen).parameters.items() if p.kind is p.KEYWORD_ONLY]
        assert set(DEPASQUALE_TASK_KEYS[name]) == set(keywords) - {"seed"}


# -- the command line: one line on stderr and exit status 1; usage errors exit with 2 -------------------------
CLI = {
    "depasquale typo": (lambda tmp: ["train", str(_copy(tmp, "depasquale_integration.toml", "n_test = 100",
                                                          "n_tset = 100"))],
                        r"unknown key 'n_tset' in \[task\] \(task 'integration'\); did you mean 'n_test'"),
    "kim2019 typo": (lambda tmp: ["train", str(_copy(tmp, "kim2019_go_nogo.toml", "n_validation = 100",
                                                       "n_valdation = 100"))],
                     r"unknown key 'n_valdation' in \[transfer\]; did you mean 'n_validation'"),
    "reaching typo": (lambda tmp: ["train", str(_copy(tmp, "reaching_emg.toml", "target_scale = 1.0",
                                                        "target_scael = 1.0"))],
                      r"unknown key 'target_scael' in \[task\]; did you mean 'target_scale'"),
    "reaching_m1 typo": (lambda tmp: ["train", str(_copy(tmp, "reaching_m1.toml", "synthetic = true",
                                                           "synthetc = true"))],
                         r"unknown key 'synthetc' in \[data\]; did you mean 'synthetic'"),
    "force typo": (lambda tmp: ["train", str(_copy(tmp, "nicola_clopath_van_der_pol.toml", "[protocol]\n",
                                                     "[protocol]\nsettel = 1.0\n"))],
                   r"unknown key 'settel' in \[protocol\]; did you mean 'settle'"),
    "sweep typo": (lambda tmp: ["sweep", str(_copy(tmp, "newton_nicola_gq_sweep.toml", "[grid]\n",
                                                     "[grid]\nalfa = [1e-6]\n"))],
                   r"unknown key 'alfa' in \[grid\]; did you mean 'alpha'"),
    "missing recipe": (lambda tmp: ["train", str(tmp / "none.toml")], r"no recipe file at .*none\.toml"),
    "missing model": (lambda tmp: ["run", str(tmp / "none.npz"), "--device", "runtime"],
                      r"no model file at .*none\.npz"),
    "recipe is not TOML": (lambda tmp: ["train", str(_saved(tmp, "model.npz"))], r"invalid TOML"),
}


@pytest.mark.parametrize("case", list(CLI))
def test_bad_cli_input(case, tmp_path, capsys):
    argv, pattern = CLI[case]
    args = argv(tmp_path)
    assert main([*args, "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("brianforce: error: ")
    assert re.search(pattern, err), err
    assert not (tmp_path / "out" / "summary.json").exists()


USAGE = {
    "train without --out": lambda tmp: ["train", str(MODELS / "kim2019_xor.toml")],
    "unknown method": lambda tmp: ["train", str(_copy(tmp, "kimchow_patterns.toml", "[experiment]",
                                                       '[experiment]\nmethod = "kimchow"')),
                                   "--out", str(tmp / "out")],
    "demo --n-neurons 0": lambda tmp: ["demo", "--n-neurons", "0", "--out", str(tmp / "out")],
    "run --trials 0": lambda tmp: ["run", str(tmp / "m.npz"), "--trials", "0", "--out", str(tmp / "out")],
    "unknown command": lambda tmp: ["fit", "x"],
}


@pytest.mark.parametrize("case", list(USAGE))
def test_cli_usage_errors_exit_with_2(case, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(USAGE[case](tmp_path))
    assert info.value.code == 2
    assert re.search(r"^brianforce( \w+)?: error: ", capsys.readouterr().err, re.M)


# -- model files --------------------------------------------------------------------------------------------
def _saved(tmp_path, name="m.npz"):
    return save_arrays(tmp_path / name, {"phi": np.arange(4.0), "eta": np.ones(4)},
                       {"dt": 1e-4, "task": {"name": "sinusoid", "frequency": 5.0}}, kind="test")


def _edit_meta(path, **changes):
    with np.load(path) as f:
        content = {k: f[k] for k in f.files}
    meta = json.loads(content["__metadata_json__"].tobytes())
    meta.update(changes)
    content["__metadata_json__"] = np.frombuffer(json.dumps(meta).encode(), np.uint8)
    np.savez(path, **content)


def _edit_array(path, name, value):
    with np.load(path) as f:
        content = {k: f[k] for k in f.files}
    content[name] = value
    np.savez(path, **content)


def _truncate(path):
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


MODEL_FILES = {
    "edited dt": (lambda p: _edit_meta(p, dt=2e-4), "checksum mismatch"),
    "edited task frequency": (lambda p: _edit_meta(p, task={"name": "sinusoid", "frequency": 6.0}),
                              "checksum mismatch"),
    "edited kind": (lambda p: _edit_meta(p, kind="force_lif"), "holds a 'force_lif' model, expected 'test'"),
    "future version": (lambda p: _edit_meta(p, format_version=99), "unsupported format_version 99"),
    "NaN decoder": (lambda p: _edit_array(p, "phi", np.full(4, np.nan)), "checksum mismatch"),
    "missing array": (lambda p: _edit_array(p, "extra", np.zeros(2)), "checksum mismatch"),
    "truncated": (_truncate, "not .*model file"),
    "TOML renamed": (lambda p: p.write_text("[experiment]\nseed = 3\n"), r"not an \.npz archive"),
    "empty": (lambda p: p.write_bytes(b""), "not .*model file"),
}


@pytest.mark.parametrize("case", list(MODEL_FILES))
def test_bad_model_file(case, tmp_path):
    edit, pattern = MODEL_FILES[case]
    path = _saved(tmp_path)
    edit(path)
    with pytest.raises(ModelFileError, match=pattern) as info:
        load_arrays(path, kind="test")
    assert "m.npz" in str(info.value)          # the message names the file


MODEL_LOADS = {
    "unsigned file, key given": ({}, {"key": "k"}, r"is not signed, but a key was given"),
    "signed with another key": ({"key": "a"}, {"key": "b"}, r"signature mismatch"),
    "larger than max_bytes": ({}, {"max_bytes": 16}, r"declares more than 16 bytes"),
    "wrong kind": ({}, {"kind": "force_lif"}, r"holds a 'test' model, expected 'force_lif'"),
}


@pytest.mark.parametrize("case", list(MODEL_LOADS))
def test_bad_model_load(case, tmp_path, monkeypatch):
    monkeypatch.delenv("BRIANFORCE_MODEL_KEY", raising=False)
    save_kw, load_kw, pattern = MODEL_LOADS[case]
    path = save_arrays(tmp_path / "m.npz", {"phi": np.arange(4.0)}, {"dt": 1e-4}, kind="test", **save_kw)
    with pytest.raises(ModelFileError, match=pattern) as info:
        load_arrays(path, **{"kind": "test", **load_kw})
    assert "m.npz" in str(info.value)


def test_model_saved_as_txt_is_refused_before_writing(tmp_path):
    with pytest.raises(ValueError, match=r"model files end in \.npz; got '.*model\.txt'"):
        save_arrays(tmp_path / "model.txt", {"a": np.zeros(2)}, {}, kind="test")
    assert not list(tmp_path.iterdir())


def test_too_large_networks_fail_at_once_stating_the_bytes():
    import time

    from brianforce.memory import force_network_bytes, require_memory

    t0 = time.perf_counter()
    with pytest.raises(MemoryError, match=r"a FORCE network of 40000 neurons needs about 35\.8 GB "
                                          r"\(35841280000 bytes: .*RLS matrix P 12\.8 GB.*\) but only 24\.0 GB"):
        require_memory(force_network_bytes(40_000, 0.1), "a FORCE network of 40000 neurons", available=24 * 10**9)
    assert time.perf_counter() - t0 < 1.0
    assert require_memory(force_network_bytes(2000, 0.1), "small", available=24 * 10**9) < 10**9


def test_a_standalone_program_too_large_for_memory_fails_before_it_is_built(monkeypatch, tmp_path):
    import brianforce.memory
    from brianforce.devices.force_standalone import StandaloneFORCETrainer
    from brianforce.memory import force_network_bytes, force_program_bytes, require_memory
    from brianforce.tasks import sinusoid

    # the estimate covers the peaks measured at N = 8000 and 16 000 (2.17 and 7.64 GB, force_scaling.csv)
    assert 2.17e9 <= sum(force_program_bytes(8000, 0.1).values()) < 1.05 * 2.17e9
    assert 7.64e9 <= sum(force_program_bytes(16000, 0.1).values()) < 1.05 * 7.64e9
    with pytest.raises(MemoryError, match=r"program of 32000 neurons needs about 29\.6 GB .*compiled program "
                                          r"6\.7 GB.* but only 23\.0 GB"):
        require_memory(force_program_bytes(32_000, 0.1), "a cpp_standalone FORCE program of 32000 neurons",
                       available=23 * 10**9)
    # enough memory for the network at runtime, not for the program: refused before anything compiles
    runtime_need = sum(force_network_bytes(200, 0.1).values())
    monkeypatch.setattr(brianforce.memory, "available_bytes", lambda: int(10 * runtime_need))
    tr = StandaloneFORCETrainer(200, seed=0, directory=tmp_path / "project")
    with pytest.raises(MemoryError, match="cpp_standalone FORCE program of 200 neurons"):
        tr.fit(sinusoid(), settle=0.01 * second, train=0.02 * second, test=0 * second)
    assert not (tmp_path / "project").exists() or not any((tmp_path / "project").iterdir())
