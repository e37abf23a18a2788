"""RLS backends behind one interface, chosen from the active Brian2 device.

* ``numpy`` — :class:`~brianforce.learning.rls.RLS` (BLAS ``dsymv``/``dsyr`` on one triangle of P) in a
  ``network_operation`` that updates φ in place through a zero-copy view; runtime device only.
* ``codegen`` — the same update in generated code (:mod:`brianforce.learning.codegen`): Cython at
  runtime, C++ in ``cpp_standalone``; called from ``run_regularly`` operations.

Both see the same regressor ``r`` (end of the time step, after the neurons' update), compute the
same a-priori error ``e = φᵀr − y`` with ``y`` the target at the end of the step, and apply
the same update, so they agree to round-off (tested against each other and batch ridge
regression). ``auto`` picks ``numpy`` on the runtime device and ``codegen`` on standalone devices
(brian2modelfitting picks its simulator from the device the same way).
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod

import brian2 as b2
import numpy as np
from brian2 import StateMonitor, network_operation, second
from brian2.devices.device import RuntimeDevice
from threadpoolctl import ThreadpoolController

from brianforce.errors import StandaloneNotSupportedError
from brianforce.learning.rls import RLS, check_inverse_correlation
from brianforce.learning.codegen import current_P, rls_functions
from brianforce.learning.readout import Readout
from brianforce.naming import own_clock, timed_table

__all__ = ["RLSBackend", "NumpyRLSBackend", "CodegenRLSBackend", "RLS_BACKENDS", "choose_backend",
           "on_standalone_device"]


_CONTROLLER = ThreadpoolController()


def on_standalone_device() -> bool:
    return not isinstance(b2.get_device(), RuntimeDevice)


class RLSBackend(ABC):
    """One RLS learner of a :class:`Readout`'s decoder (shared P over all outputs).

    Parameters
    ----------
    readout : Readout
    reg : float
        Ridge parameter (``P(0) = I/reg``), in ``r_unit⁻²``.
    normalised : bool
    limit : float
        Largest accepted ``|error|``; beyond it (or NaN) training is reported as diverged.
    interval, dt : float
        Update interval and simulation step (s).
    """

    name = ""

    def __init__(self, readout: Readout, reg: float, normalised: bool, limit: float, interval: float,
                 dt: float, threads: int = 1):
        self.readout, self.reg, self.normalised, self.limit = readout, reg, normalised, limit
        self.interval, self.dt, self.threads = interval, dt, threads
        self.times, self.errors = [], []
        self.diverged = None                  # (update index, time, error) of the first bad update
        self.persistent = []                  # objects added to the network once, active while training

    def activate(self, on: bool) -> None:
        """Switch the persistent objects on (training) or off."""
        for obj in self.persistent:
            obj.active = on

    @abstractmethod
    def operations(self, target, t_start: float, t_stop: float) -> list:
        """Brian2 objects that train during ``[t_start, t_stop)``; ``target(t)`` maps absolute times (s),
        shape (n,), to targets (n, K)."""

    def collect(self) -> None:
        """Read back what the last training phase recorded (after the run)."""

    @property
    def n_updates(self) -> int:
        return len(self.times)

    @abstractmethod
    def decoder(self) -> np.ndarray:
        """Current φ (N, K), in ``1/r_unit``."""

    def P(self) -> np.ndarray | None:
        """Current inverse correlation matrix, where the backend can read it."""
        return None

    def blas_limit(self):
        """Context pinning BLAS to ``threads`` while training: level-2 BLAS gains nothing from threads
        and multi-threaded OpenBLAS spin-waits on a busy machine. Entered once per phase (entering it
        costs milliseconds)."""
        return _CONTROLLER.limit(limits=self.threads, user_api="blas")


class NumpyRLSBackend(RLSBackend):
    """RLS in a ``network_operation`` (runtime device)."""

    name = "numpy"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if on_standalone_device():
            raise StandaloneNotSupportedError(
                "the numpy RLS backend is a network_operation, which standalone devices silently drop; "
                "use backend='codegen' (or 'auto') on standalone devices")
        ro = self.readout
        self.phi = ro.decoder_view()
        self.rls = RLS(len(ro.neurons), ro.n_outputs, reg=self.reg, normalised=self.normalised)
        self.rls.W = self.phi                           # RLS writes straight into Brian2's decoder
        var = ro.neurons.variables[ro.regressor]
        self._r = var.get_value() if hasattr(var, "get_value") else None
        self.wall = 0.0

    def _regressor(self) -> np.ndarray:
        if self._r is not None:
            return self._r / float(self.readout.r_unit)
        return np.asarray(getattr(self.readout.neurons, self.readout.regressor) / self.readout.r_unit)

    def operations(self, target, t_start, t_stop):
        net_t = self.readout.readout.clock

        @network_operation(dt=self.interval * second, when="end", order=1,
                           name=f"{self.readout.readout.name}_rls")
        def rls_update():
            if self.diverged is not None:
                return
            w0 = time.perf_counter()
            t_now = float(net_t.t_[:]) + self.dt
            r = self._regressor()
            err = r @ self.phi - target(np.array([t_now]))[0]
            if not (np.all(np.isfinite(err)) and np.max(np.abs(err)) <= self.limit):
                self.diverged = (len(self.times), t_now, err)
                b2.stop()
                return
            self.rls.update(r, err)
            self.times.append(t_now)
            self.errors.append(err)
            self.wall += time.perf_counter() - w0

        return [rls_update]

    def decoder(self):
        return self.phi.copy()

    def P(self):
        return self.rls.P

    def set_P(self, P) -> None:
        self.rls.set_P(P)


class CodegenRLSBackend(RLSBackend):
    """RLS in generated code (Cython at runtime, C++ in ``cpp_standalone``)."""

    name = "codegen"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        ro = self.readout
        n, k = len(ro.neurons), ro.n_outputs
        self.fns = rls_functions(n, k, self.reg, self.normalised, self.limit, self.threads)
        ro.namespace.update(self.fns.namespace())
        ro.namespace["bf_target"] = timed_table(np.zeros((1, k)), self.interval * second,
                                                f"{ro.readout.name}_rls_target")
        def named(part: str) -> dict:      # fixed names, clocks included (brianforce.naming)
            full = f"{ro.readout.name}_rls_{part}"
            return dict(name=full, clock=own_clock(full, self.interval * second), when="end")

        self.runners = [
            ro.decoder.run_regularly(f"bf_phi = bf_rls_collect(i, j, {ro.regressor}_pre/r_unit, 0.0, bf_phi, "
                                     "bf_target(t, j))", order=1, **named("collect")),
            ro.readout.run_regularly("rls_err = bf_rls_step(i, 1.0)", order=2, **named("step")),
            ro.decoder.run_regularly("bf_phi = bf_rls_get(i, j)", order=3, **named("write")),
            ro.readout.run_regularly("rls_err = bf_rls_error(i)", order=4, **named("error"))]
        self.persistent = self.runners
        self.activate(False)
        self._phase = None

    def operations(self, target, t_start, t_stop):
        ro = self.readout
        m = int(np.floor(t_stop / self.interval + 1e-9)) + 1
        times = np.arange(m) * self.interval + self.dt
        values = np.zeros((m, ro.n_outputs))
        first = int(np.ceil(t_start / self.interval - 1e-9))
        # rows after the last update of the phase are never read: a trial target ends at t_stop
        values[first:] = target(np.minimum(times[first:], t_stop))
        ro.namespace["bf_target"] = timed_table(values, self.interval * second, f"{ro.readout.name}_rls_target")
        # at runtime the monitor leaves the network after its phase (one name, compiled once); a
        # standalone program keeps every phase's monitor, each under its own name
        suffix = f"_{len(self.times)}" if on_standalone_device() else ""
        mon_name = f"{ro.readout.name}_rls_errmon{suffix}"
        mon = StateMonitor(ro.readout, "rls_err", record=True, clock=own_clock(mon_name, self.interval * second),
                           when="end", order=5, name=mon_name)
        self._phase = mon
        return [mon]

    def collect(self):
        mon = self._phase
        if mon is None:
            return
        self._phase = None
        t = np.asarray(mon.t_) + self.dt
        err = np.asarray(mon.rls_err_).T.reshape(len(t), -1)
        state = self.fns.state
        ok = np.all(np.abs(err) <= self.limit, axis=1)      # NaN compares False
        if not ok.all() or state[2]:
            bad = int(np.argmax(~ok)) if not ok.all() else len(t) - 1
            self.diverged = (len(self.times) + bad, float(t[bad]), err[bad])
            t, err = t[:bad], err[:bad]
        self.times.extend(t.tolist())
        self.errors.extend(list(err))

    def decoder(self):
        ro = self.readout
        return np.asarray(ro.decoder.bf_phi[:]).reshape(len(ro.neurons), ro.n_outputs).copy()

    def P(self):
        return None if on_standalone_device() else current_P(self.fns.buffers)

    def set_P(self, P) -> None:
        """Continue from a saved ``P`` (runtime only: a standalone program starts from ``I/λ``)."""
        if on_standalone_device():
            raise StandaloneNotSupportedError("a saved P is restored at runtime only; on a standalone device "
                                              "training starts from P(0) = I/reg")
        n = len(self.readout.neurons)
        P = np.asarray(P, dtype=float)
        if P.shape != (n, n):
            raise ValueError(f"P must have shape {(n, n)}, got {P.shape}")
        check_inverse_correlation(P)
        buf = self.fns.buffers
        buf["_bf_rls_P"][:] = P.reshape(-1)
        buf["_bf_rls_Pprev"][:] = 0.0                # no rank-1 update pending
        buf["_bf_rls_state"][10] = 0.0


RLS_BACKENDS = {"numpy": NumpyRLSBackend, "codegen": CodegenRLSBackend}


def choose_backend(name: str = "auto") -> type:
    """Backend class for ``name`` (``'auto'``: numpy at runtime, codegen on standalone devices)."""
    if name == "auto":
        name = "codegen" if on_standalone_device() else "numpy"
    if name not in RLS_BACKENDS:
        raise ValueError(f"unknown RLS backend {name!r}; choose one of {sorted(RLS_BACKENDS)} or 'auto'")
    return RLS_BACKENDS[name]
