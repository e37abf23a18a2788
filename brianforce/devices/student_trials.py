"""A trained factor student's closed-loop test trials as one generated program.

:meth:`FactorStudent.predict <brianforce.methods.factor_student.FactorStudent.predict>` and
:meth:`~brianforce.methods.factor_student.FactorStudent.predict_repeats` on ``cpp_standalone``:
the trials run as the student's closed loop in plain Brian2 equations
(:func:`~brianforce.devices.student_network.run_student_network`), from the states the runtime
loop would run them from. Trials that depend on each other form a *chain* (one copy of the
network running them one after the other); chains run side by side in one program:

* trial tasks (a stored rest state): every trial is a chain of its own, started from the rest
  state with its membrane jitter drawn from the same generator, in the same order, as at runtime;
* continuous tasks: the trials of one call are one chain, started from the current state;
* ``predict_repeats``: the chains of every perturbed copy of the state in the same program.

Afterwards the runtime loop carries on from where the runtime path would be: ``predict`` leaves the
state of its last trial and advances the rest-state generator; ``predict_repeats`` leaves both as they
were. Outputs, factors, rates and spikes equal the runtime path's to round-off
(``tests/test_student_trials.py``).

References
----------
DePasquale B, Sussillo D, Abbott LF, Churchland MM (2023) Neuron 111:631-649.
"""
from __future__ import annotations

import numpy as np

from brianforce.devices.student_network import StudentNetwork, run_student_network
from brianforce.methods.factor_student.equations import REST_JITTER, STATE_VARIABLES
from brianforce.methods.factor_student.results import StudentRun
from brianforce.seeding import rng_for

__all__ = ["predict_program", "repeats_program"]


def _rest_starts(loop, n: int, rng) -> dict:
    """Start states ``{name: (n, N)}`` of ``n`` trials from the rest state, jitter drawn from ``rng``."""
    N = loop.n_neurons
    state = {k: np.tile(loop.rest[k], (n, 1)) for k in STATE_VARIABLES}
    state["v"] = np.stack([loop.jittered_v(loop.rest["v"], rng, REST_JITTER) for _ in range(n)])
    state["lastspike"] = np.full((n, N), -1e4)
    state["not_refractory"] = np.ones((n, N), dtype=bool)
    return state


def _stacked(states: list) -> dict:
    return {k: np.concatenate([np.atleast_2d(s[k]) for s in states]) for k in states[0]}


def _chain_inputs(inputs, n_chains_per_copy: int, n_copies: int):
    """Inputs (B, T_chain, M) of the chains: one trial each, or a copy's trials one after the other."""
    n, T, M = inputs.shape
    per_copy = inputs if n_chains_per_copy == n else inputs.reshape(1, n * T, M)
    return np.concatenate([per_copy] * n_copies)


def _run(student, inputs, starts: dict, n_copies: int, record_rates: bool, record_spikes: bool, directory):
    """Run the chains of ``n_copies`` copies of ``inputs`` (n, T, M) from ``starts``; per copy a
    :class:`StudentRun`, the program's run and the number of chains per copy."""
    loop = student._loop
    n, T = inputs.shape[:2]
    per_copy = n if loop.rest is not None else 1
    net = StudentNetwork.from_student(student)
    run = run_student_network(net, _chain_inputs(inputs, per_copy, n_copies), "cpp_standalone", directory,
                              initial_state=starts, record_spikes=record_spikes, record_rates=record_rates)
    dt_op = student.dt_op_
    P, Q, N = run.factors.shape[2], run.outputs.shape[2], loop.n_neurons
    runs = []
    for c in range(n_copies):
        chains = slice(c * per_copy, (c + 1) * per_copy)
        si, st = np.zeros(0, dtype=int), np.zeros(0)
        if record_spikes:
            mine = (run.spike_trial >= chains.start) & (run.spike_trial < chains.stop)
            offset = (run.spike_trial[mine] - chains.start) * (T * dt_op if per_copy > 1 else 0.0)
            st, si = run.spike_t[mine] + offset, run.spike_i[mine]
            order = np.lexsort((si, st))
            si, st = si[order], st[order]
        rates = run.rates[chains].reshape(n, T, N) if record_rates else None
        runs.append(StudentRun(run.outputs[chains].reshape(n, T, Q), run.factors[chains].reshape(n, T, P), rates,
                               si, st, np.arange(n) * T * dt_op, T * dt_op))
    return runs, run, per_copy


def _timings(run) -> dict:
    return {"compile_s": run.compile_time, "run_s": run.wall_time}


def predict_program(student, inputs, record_rates: bool, record_spikes: bool, directory=None) -> tuple:
    """``student.predict(inputs)`` as one program; the runtime loop then carries on from its end.

    Returns the :class:`StudentRun` and the timings (``compile_s``, ``run_s``).
    """
    loop = student._loop
    n = inputs.shape[0]
    if loop.rest is not None:
        starts = _rest_starts(loop, n, loop.rest_rng)       # advances the loop's generator, as at runtime
    else:
        starts = {k: v[None] for k, v in loop.state_now().items()}
    (result,), run, per_copy = _run(student, inputs, starts, 1, record_rates, record_spikes, directory)
    last = per_copy - 1
    loop.set_state({k: v[last] for k, v in run.final_state.items()})
    return result, _timings(run)


def repeats_program(student, inputs, n_repeats: int, amplitude: float, stream: str, directory=None) -> tuple:
    """``student.predict_repeats(inputs, n_repeats)`` as one program (every copy side by side).

    Each copy's start is drawn from the generators the runtime path uses (``student-<stream>-repeat-<r>``
    for the membrane jitter of the current state, ``student-<stream>-repeat-rest-<r>`` for the rest
    starts of trial tasks). The loop's state and generators are left as they are. Returns the runs
    (outputs and factors, no rates or spikes) and the timings.
    """
    loop, seed = student._loop, student.seed
    n = inputs.shape[0]
    now = loop.state_now()
    starts = []
    for r in range(n_repeats):
        if loop.rest is not None:
            starts.append(_rest_starts(loop, n, rng_for(seed, f"student-{stream}-repeat-rest-{r}")))
        else:
            copy = {k: v[None] for k, v in now.items()}
            copy["v"] = loop.jittered_v(now["v"], rng_for(seed, f"student-{stream}-repeat-{r}"), amplitude)[None]
            starts.append(copy)
    runs, run, _ = _run(student, inputs, _stacked(starts), n_repeats, False, False, directory)
    return runs, _timings(run)
