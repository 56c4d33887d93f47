"""Dynamical systems the attractor analyses accept: what each knows in closed form.

Weight convention (every system, as in :mod:`fplandscape.model`): ``W[i, j]`` is the weight
*from unit j to unit i*, so the input to unit i is ``Σ_j W[i, j] x_j``. States are rows: a
batch of B states is a (B, N) array (one state may be given as a length-N vector).

=====================  ======  =====================================================  ==========
system                 kind    update / vector field                                  Jacobian
=====================  ======  =====================================================  ==========
``SignNetwork``        map     s ← sign(J s + b), sign(0) = +1 (sync or async sweep)  0 (a.e.)
``RateMap``            map     x_{t+1} = φ(W x_t + U u + b)                           diag(φ'(a)) W
``LeakyIntegrator``    flow    τ du/dt = −u + W φ(u) + U u_in + I                     (−1 + W diag φ'(u))/τ
``System``             either  a user callable                                        given, or
                                                                                      finite differences
=====================  ======  =====================================================  ==========

A fixed point is a root of the *residual* F: ``F(x) = f(x) − x`` for maps, ``F(x) = dx/dt``
for flows (:meth:`residual`, with Jacobian :meth:`residual_jacobian`); for the leaky integrator
``F = τ du/dt``, so that tolerances on F do not depend on the time constant.

Frozen inputs. ``U`` (N × m) maps an input vector of length m into the network; an analysis
given ``inputs`` studies the autonomous system :meth:`with_input` ``(u)`` whose bias is
``b + U u`` (for the leaky integrator ``I + U u``). Without ``U`` only ``u = None`` is valid.

PyTorch. ``torch.nn.RNN`` computes ``h_t = tanh(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh)`` on
*row* vectors; written for column vectors that is ``h_t = tanh(W_hh h_{t−1} + W_ih x_t + b_ih +
b_hh)``, so ``RateMap(W=weight_hh_l0, U=weight_ih_l0, b=bias_ih_l0 + bias_hh_l0)`` is the same
network (:func:`fplandscape.attractors.load.rate_map_from_torch`).
"""
from __future__ import annotations

import numbers
from typing import Callable, Optional

import numpy as np

from .. import model
from ..errors import InputError, check_positive
from ..model import as_couplings
from .phi import Activation, get_phi

__all__ = ["SignNetwork", "RateMap", "LeakyIntegrator", "System", "as_batch", "ODD_PHI"]

ODD_PHI = ("tanh", "hard_tanh", "linear", "langevin")
TAU_RANGE = (1e-100, 1e100)  # time constants of a leaky integrator (analyses are τ-invariant)
# activations whose NumPy code keeps float32 arrays float32 (the mixed-precision optimiser)
SINGLE_PRECISION_PHI = ("tanh", "relu", "hard_tanh", "logistic", "linear")


def _vector(value, n: int, name: str) -> np.ndarray:
    """A scalar or a length-n real finite vector, as float64 of length n."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a real number or a length-{n} vector") from None
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.ndim != 1 or arr.shape[0] != n:
        raise InputError(f"{name} must be a scalar or a vector of length {n}, "
                         f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InputError(f"{name} has non-finite entries (NaN or inf)")
    return arr


def _input_matrix(U, n: int):
    if U is None:
        return None
    try:
        U = np.asarray(U, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("U must be a real N × m matrix") from None
    if U.ndim == 1:
        U = U[:, None]
    if U.ndim != 2 or U.shape[0] != n:
        raise InputError(f"U must be an N × m matrix with N = {n} rows, got shape {U.shape}")
    if not np.all(np.isfinite(U)):
        raise InputError("U has non-finite entries (NaN or inf)")
    return np.ascontiguousarray(U)


def as_batch(X, n: int, name: str = "state") -> tuple[np.ndarray, bool]:
    """``(B, n)`` float64 view of one state or a batch, and whether the input was one state."""
    arr = np.asarray(X, dtype=np.float64)
    single = arr.ndim == 1
    arr = np.atleast_2d(arr)
    if arr.ndim != 2 or arr.shape[1] != n:
        raise InputError(f"{name} must have length {n} (or be a (B, {n}) batch), "
                         f"got shape {np.shape(X)}")
    return arr, single


class _Base:
    """What every system offers; subclasses set ``kind`` ("map" or "flow") and ``dim``."""

    kind: str = "map"
    dim: int = 0
    n_inputs: int = 0
    analytic_jacobian: bool = True
    discrete_states: bool = False
    input: Optional[np.ndarray] = None
    dt: float = 1.0  # integration step of flows (RK4); 1 step for maps

    def single_precision(self):
        """A float32 copy computing ``residual_and_grad`` in float32 (for the first, inexact
        phase of the fixed-point search), or None when the system has none."""
        return None

    def _float32_copy(self, cls, bias: str):
        """The float32 copy behind :meth:`single_precision` (W and the bias ``bias`` cast, no
        input matrix): only for the class's own equations (``type(self) is cls``: a subclass
        may override them) and a built-in φ whose NumPy code keeps float32."""
        if type(self) is not cls or self.phi is not get_phi(self.phi.name) or \
                self.phi.name not in SINGLE_PRECISION_PHI:
            return None
        low = object.__new__(cls)
        low.__dict__.update(self.__dict__)
        low.W = self.W.astype(np.float32)
        setattr(low, bias, getattr(self, bias).astype(np.float32))
        low.U = None
        return low

    @property
    def time_scale(self) -> float:
        """The unit of time of a flow (τ for the leaky integrator, else 1): eigenvalues are
        compared with the marginal tolerance in these units, so classifications do not depend
        on it."""
        return 1.0

    # -- to be provided ------------------------------------------------------------------
    def rhs(self, X):  # pragma: no cover - abstract
        """The map f(x) (maps) or the vector field dx/dt (flows), batched over rows."""
        raise NotImplementedError

    def jacobian(self, X):  # pragma: no cover - abstract
        """(B, N, N) Jacobian of :meth:`rhs`."""
        raise NotImplementedError

    @property
    def odd(self) -> bool:
        """True when f(−x) = −f(x) exactly (an odd φ and no bias): then −x* is a fixed point
        whenever x* is (tanh, hard_tanh, linear and langevin are odd, in floating point too)."""
        return False

    def box(self):
        """``(lo, hi)`` bounding every fixed point (and every bounded attractor after one step),
        or None when no such box follows from the system alone."""
        return None

    def with_input(self, u):
        """The autonomous system seen under the frozen input ``u`` (module docstring)."""
        if u is not None:
            raise InputError(f"{type(self).__name__} has no input matrix U: inputs must be None")
        return self

    # -- derived -------------------------------------------------------------------------
    def jvp(self, X, V):
        """Jacobian–matrix product J(x_b) V_b for a batch: X (B, N), V (B, N, k) → (B, N, k)."""
        return np.matmul(self.jacobian(X), V)

    def vjp(self, X, G):
        """Transposed product J(x_b)ᵀ g_b: X, G (B, N) → (B, N)."""
        return np.einsum("bij,bi->bj", self.jacobian(X), G)

    def residual(self, X):
        """F(x): f(x) − x for maps, the vector field for flows (its roots are fixed points)."""
        F = self.rhs(X)
        return F - X if self.kind == "map" else F

    def residual_jacobian(self, X):
        """Jacobian of :meth:`residual` (J − I for maps, J for flows), shape (B, N, N)."""
        J = self.jacobian(X)
        if self.kind == "map":
            J = J - np.eye(self.dim)[None]
        return J

    def residual_vjp(self, X, G):
        """(∂F/∂x)ᵀ g, batched: the gradient of q = ½|F|² is ``residual_vjp(X, F(X))``."""
        out = self.vjp(X, G)
        return out - G if self.kind == "map" else out

    def residual_and_grad(self, X):
        """``(F, q, ∇q)`` for a batch: residual, q = ½|F|² and its gradient (∂F/∂x)ᵀ F."""
        F = self.residual(X)
        return F, 0.5 * np.einsum("ij,ij->i", F, F), self.residual_vjp(X, F)

    def advance(self, X, steps: int = 1, dt: Optional[float] = None):
        """The state after ``steps`` iterations (maps) or RK4 steps of size ``dt`` (flows)."""
        X = np.array(X, dtype=np.float64)
        if self.kind == "map":
            for _ in range(steps):
                X = self.rhs(X)
            return X
        h = self.dt if dt is None else dt
        for _ in range(steps):
            X = self._rk4(X, h)
        return X

    def _rk4(self, X, h):
        k1 = self.rhs(X)
        k2 = self.rhs(X + 0.5 * h * k1)
        k3 = self.rhs(X + 0.5 * h * k2)
        k4 = self.rhs(X + h * k3)
        return X + (h / 6.0) * (k1 + 2.0 * k2 + 2.0 * k3 + k4)

    def describe(self) -> dict:
        """JSON-able description (class, kind, dimension, activation, input)."""
        out = {"system": type(self).__name__, "kind": self.kind, "dim": self.dim,
               "analytic_jacobian": self.analytic_jacobian}
        phi = getattr(self, "phi", None)
        if isinstance(phi, Activation):
            out["phi"] = phi.name
        if self.input is not None:
            out["input"] = self.input.tolist()
        return out

    def _check_input(self, u):
        if u is None:
            return None
        if self.n_inputs == 0:
            raise InputError(f"{type(self).__name__} has no input matrix U: inputs must be None")
        return _vector(u, self.n_inputs, "input")


class SignNetwork(_Base):
    """The binary network of :mod:`fplandscape.model`: ``s_i ← sign(Σ_j J_ij s_j + b_i)``.

    ``update="sync"`` updates every unit at once (a map on {±1}^N); ``"async"`` sweeps the units
    one at a time in ``order`` (default 0..N−1), each seeing the latest states — one sweep is one
    step of the map. Fixed points are strict: ``s_i (Σ_j J_ij s_j + b_i) > 0`` for every i; the
    two update rules have the same strict fixed points. Every sign (update and predicate) is
    that of the exact field of the stored numbers (:func:`fplandscape.model.field_signs`).
    """

    kind = "map"
    discrete_states = True

    def __init__(self, J, b=0.0, *, update: str = "sync", order=None):
        self.J = as_couplings(J, name="J")
        self.dim = self.J.shape[0]
        self.b = _vector(b, self.dim, "b")
        if update not in ("sync", "async"):
            raise InputError(f"update must be 'sync' or 'async', got {update!r}")
        self.update = update
        if order is None:
            order = np.arange(self.dim)
        order = np.asarray(order)
        if order.shape != (self.dim,) or sorted(order.tolist()) != list(range(self.dim)):
            raise InputError(f"order must be a permutation of 0..{self.dim - 1}")
        self.order = order.astype(np.intp)

    def fields(self, S):
        S, _ = as_batch(S, self.dim)
        return S @ self.J.T + self.b

    def rhs(self, X):
        # signs of the exact fields of the stored numbers (model.field_signs: the float sign
        # outside the rounding band of 0, an exact sum inside it), sign(0) = +1
        S, single = as_batch(X, self.dim)
        if self.update == "sync":
            sig = model.field_signs(self.J, S, bias=self.b)
            out = np.where(sig >= 0, 1.0, -1.0)
        else:
            out = S.copy()
            bands = model.field_bands(self.J, self.b)
            for i in self.order:
                with np.errstate(over="ignore", invalid="ignore"):  # decided exactly below
                    h = out @ self.J[i] + self.b[i]
                sig = model.field_signs(self.J[i:i + 1], out, h[:, None], bias=self.b[i:i + 1],
                                        bands=bands[i:i + 1])
                out[:, i] = np.where(sig[:, 0] >= 0, 1.0, -1.0)
        return out[0] if single else out

    def jacobian(self, X):
        S, _ = as_batch(X, self.dim)
        return np.zeros((S.shape[0], self.dim, self.dim))

    def is_fixed_point(self, S):
        """Strict predicate ``s_i h_i > 0`` for all i, decided exactly on the stored numbers
        (:func:`fplandscape.model.field_signs`; one state → bool, batch → bool array)."""
        S, single = as_batch(S, self.dim)
        ok = np.all(S * model.field_signs(self.J, S, bias=self.b) > 0, axis=1)
        return bool(ok[0]) if single else ok

    def box(self):
        return -np.ones(self.dim), np.ones(self.dim)

    def describe(self) -> dict:
        return {**super().describe(), "update": self.update}


class RateMap(_Base):
    """Discrete-time rate RNN ``x_{t+1} = φ(W x_t + U u + b)`` (module docstring for W).

    Parameters: ``W`` (N × N), ``b`` (scalar or length N), ``U`` (N × m input matrix or None),
    ``phi`` (a name of :data:`fplandscape.attractors.phi.PHI_NAMES`), ``gain`` β multiplying
    the pre-activation (``φ(β (W x + U u + b))``; β = 1 by default).
    """

    kind = "map"

    def __init__(self, W, b=0.0, U=None, phi="tanh", *, gain: float = 1.0):
        self.W = as_couplings(W, name="W")
        self.dim = self.W.shape[0]
        self.b = _vector(b, self.dim, "b")
        self.U = _input_matrix(U, self.dim)
        self.n_inputs = 0 if self.U is None else self.U.shape[1]
        self.phi = get_phi(phi)
        self.gain = check_positive(gain, "gain")

    @property
    def odd(self) -> bool:
        return self.phi.name in ODD_PHI and not np.any(self.b)


    def rhs(self, X):
        X, single = as_batch(X, self.dim)
        out = self.phi.f(self.preactivation(X))
        return out[0] if single else out

    def jacobian(self, X):
        X, _ = as_batch(X, self.dim)
        d = self.gain * self.phi.df(self.preactivation(X))
        return d[:, :, None] * self.W[None]

    def jvp(self, X, V):
        d = self.gain * self.phi.df(self.preactivation(X))
        WV = np.tensordot(V, self.W, axes=([1], [1])).transpose(0, 2, 1)  # (B, N, k)
        return d[:, :, None] * WV

    def vjp(self, X, G):
        d = self.gain * self.phi.df(self.preactivation(X))
        return (G * d) @ self.W

    def residual_and_grad(self, X):
        fa, da = self.phi.f_and_df(self.preactivation(X))
        F = np.subtract(fa, X, out=fa)
        if self.gain != 1.0:
            da *= self.gain
        G = np.multiply(F, da, out=da) @ self.W
        return F, 0.5 * np.einsum("ij,ij->i", F, F), np.subtract(G, F, out=G)

    def preactivation(self, X):
        Z = X @ self.W.T
        if np.any(self.b):
            Z += self.b
        if self.gain != 1.0:
            Z *= self.gain
        return Z

    def single_precision(self):
        # a bounded φ: the state box [lo, hi] keeps float32's absolute resolution far below
        # the Newton gate
        return self._float32_copy(RateMap, "b") if self.phi.bounded else None

    def box(self):
        if not self.phi.bounded:
            return None
        return np.full(self.dim, self.phi.lo), np.full(self.dim, self.phi.hi)

    def with_input(self, u):
        u = self._check_input(u)
        if u is None:
            return self
        out = RateMap(self.W, self.b + self.U @ u, None, self.phi, gain=self.gain)
        out.input = u
        return out

    def describe(self) -> dict:
        out = super().describe()
        if self.gain != 1.0:
            out["gain"] = self.gain
        return out


class LeakyIntegrator(_Base):
    """Continuous-time leaky integrators ``τ du/dt = −u + W φ(u) + U u_in + I``.

    Parameters: ``W`` (N × N), ``I`` (scalar or length N), ``U`` (N × m or None), ``phi``,
    ``tau`` in [1e-100, 1e100] (:data:`TAU_RANGE`: every analysis is invariant under τ, with
    times in units of τ, in that range; beyond it velocities leave float64's range). Trajectories are integrated with classical RK4 at step ``dt`` (default τ/20).
    Every fixed point satisfies ``u = W φ(u) + I``, so for bounded φ it lies in the box
    ``I_i + Σ_j W_ij [φ_lo, φ_hi]`` (:meth:`box`).
    """

    kind = "flow"

    def __init__(self, W, I=0.0, U=None, phi="tanh", tau: float = 1.0, *,  # noqa: E741
                 dt: Optional[float] = None):
        self.W = as_couplings(W, name="W")
        self.dim = self.W.shape[0]
        self.I = _vector(I, self.dim, "I")
        self.U = _input_matrix(U, self.dim)
        self.n_inputs = 0 if self.U is None else self.U.shape[1]
        self.phi = get_phi(phi)
        self.tau = check_positive(tau, "tau")
        if not TAU_RANGE[0] <= self.tau <= TAU_RANGE[1]:
            # beyond, velocities u/τ (or their squares in the census) leave float64's range
            raise InputError(f"tau must be between {TAU_RANGE[0]:g} and {TAU_RANGE[1]:g} "
                             f"(time is measured in units of tau), got {tau!r}")
        self.dt = check_positive(self.tau / 20.0 if dt is None else dt, "dt")

    @property
    def odd(self) -> bool:
        return self.phi.name in ODD_PHI and not np.any(self.I)

    def rhs(self, X):
        X, single = as_batch(X, self.dim)
        out = (-X + self.phi.f(X) @ self.W.T + self.I) / self.tau
        return out[0] if single else out

    def jacobian(self, X):
        X, _ = as_batch(X, self.dim)
        d = self.phi.df(X)
        return (self.W[None] * d[:, None, :] - np.eye(self.dim)[None]) / self.tau

    def jvp(self, X, V):
        d = self.phi.df(X)
        WV = np.tensordot(d[:, :, None] * V, self.W, axes=([1], [1])).transpose(0, 2, 1)
        return (WV - V) / self.tau

    def vjp(self, X, G):
        d = self.phi.df(X)
        return ((G @ self.W) * d - G) / self.tau

    # the residual of a leaky integrator is τ du/dt = −u + W φ(u) + I: the same roots as the
    # vector field, in units that do not depend on τ (so do the fixed-point tolerances)
    def residual(self, X):
        X, single = as_batch(X, self.dim)
        out = -X + self.phi.f(X) @ self.W.T + self.I
        return out[0] if single else out

    def residual_jacobian(self, X):
        X, _ = as_batch(X, self.dim)
        return self.W[None] * self.phi.df(X)[:, None, :] - np.eye(self.dim)[None]

    def residual_vjp(self, X, G):
        return (G @ self.W) * self.phi.df(X) - G

    def residual_and_grad(self, X):
        fx, d = self.phi.f_and_df(X)
        F = -X + fx @ self.W.T + self.I
        return F, 0.5 * np.einsum("ij,ij->i", F, F), (F @ self.W) * d - F

    def single_precision(self):
        # fixed points within ±100 (the box I ± Σ|W|): float32's absolute resolution there
        # stays far below the Newton gate
        box = self.box()
        if box is None or max(np.abs(box[0]).max(), np.abs(box[1]).max()) > 100.0:
            return None
        return self._float32_copy(LeakyIntegrator, "I")

    def box(self):
        if not self.phi.bounded:
            return None
        lo = self.I + np.minimum(self.W * self.phi.lo, self.W * self.phi.hi).sum(axis=1)
        hi = self.I + np.maximum(self.W * self.phi.lo, self.W * self.phi.hi).sum(axis=1)
        return lo, hi

    def with_input(self, u):
        u = self._check_input(u)
        if u is None:
            return self
        out = LeakyIntegrator(self.W, self.I + self.U @ u, None, self.phi, self.tau, dt=self.dt)
        out.input = u
        return out

    @property
    def time_scale(self) -> float:
        return self.tau

    def describe(self) -> dict:
        return {**super().describe(), "tau": self.tau, "dt": self.dt}


class System(_Base):
    """Any user system: ``System(step=f, dim=N)`` (a map x → f(x)) or
    ``System(vector_field=F, dim=N)`` (a flow dx/dt = F(x)).

    ``step``/``vector_field`` take one length-N state and return one (``vectorized=True``:
    they take a (B, N) batch and return one). ``jacobian(x)`` returns the N × N Jacobian
    (batched likewise); without it the Jacobian is taken by central finite differences with
    step ``h_j = ε^{1/3} (1 + |x_j|)`` (ε = 2^-52), and results say
    ``jacobian: "finite_differences"``. ``box=(lo, hi)`` may state a box holding every fixed
    point (needed by :func:`~fplandscape.attractors.find_fixed_points`' default starts when
    nothing else bounds the system); ``dt`` is the RK4 step of a flow.
    """

    def __init__(self, step: Optional[Callable] = None, vector_field: Optional[Callable] = None,
                 dim: Optional[int] = None, jacobian: Optional[Callable] = None, *,
                 vectorized: bool = False, box=None, dt: float = 0.01, name: str = "System"):
        if (step is None) == (vector_field is None):
            raise InputError("System needs exactly one of step= (a map) or vector_field= (a flow)")
        fn = step if step is not None else vector_field
        if not callable(fn) or (jacobian is not None and not callable(jacobian)):
            raise InputError("step/vector_field and jacobian must be callables")
        if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or dim < 1:
            raise InputError(f"dim must be a positive integer, got {dim!r}")
        self.kind = "map" if step is not None else "flow"
        self.dim = int(dim)
        self._fn = fn
        self._jac = jacobian
        self.vectorized = bool(vectorized)
        self.analytic_jacobian = jacobian is not None
        self.name = name
        self.dt = check_positive(dt, "dt") if self.kind == "flow" else 1.0
        if box is not None:
            lo, hi = box
            lo = _vector(lo, self.dim, "box lower corner")
            hi = _vector(hi, self.dim, "box upper corner")
            if np.any(lo > hi):
                raise InputError("box lower corner must not exceed the upper corner")
            box = (lo, hi)
        self._box = box

    def box(self):
        return self._box

    def _call(self, fn, X, shape):
        if self.vectorized:
            out = np.asarray(fn(X), dtype=np.float64)
        else:
            with np.errstate(all="ignore"):
                out = np.array([np.asarray(fn(x), dtype=np.float64) for x in X])
        if out.shape != (X.shape[0],) + shape:
            raise InputError(f"the user function returned shape {out.shape[1:]}, "
                             f"expected {shape}")
        return out

    def rhs(self, X):
        X, single = as_batch(X, self.dim)
        out = self._call(self._fn, X, (self.dim,))
        return out[0] if single else out

    def jacobian(self, X):
        X, _ = as_batch(X, self.dim)
        if self._jac is not None:
            return self._call(self._jac, X, (self.dim, self.dim))
        h = np.cbrt(np.finfo(float).eps) * (1.0 + np.abs(X))  # (B, N)
        J = np.empty((X.shape[0], self.dim, self.dim))
        for j in range(self.dim):
            e = np.zeros_like(X)
            e[:, j] = h[:, j]
            J[:, :, j] = (self.rhs(X + e) - self.rhs(X - e)) / (2.0 * h[:, j:j + 1])
        return J

    def describe(self) -> dict:
        out = super().describe()
        out["system"] = self.name
        out["jacobian"] = "analytic" if self.analytic_jacobian else "finite_differences"
        return out
