"""Belief propagation for the fixed-point constraints: Bethe entropy and focusing BP.

The method: docs/algorithms.md#bp and docs/algorithms.md#focusing-bp. Conventions are those of
:mod:`fplandscape.model`: ``h_i = Σ_j J_ij s_j`` (diagonal = self-couplings ``J_ii``), ``s`` is
a fixed point iff ``s_i h_i > 0`` for every i (strict). Bad input raises
:class:`fplandscape.errors.InputError`. Gaussian integrals come from :mod:`fplandscape.special`.

Factor graph and closure
------------------------
Variables ``s_j = ±1``; N factors, factor i = ``Θ(J_ii + s_i u_i)`` with the cavity sum
``u_i = Σ_{j≠i} J_ij s_j`` (``s_i² = 1``). Variable i enters factor i twice: strongly, as the
*label* ``s_i``, and not through ``u_i``; variable j ≠ i enters factor i weakly (``J_ij ~
N^{-1/2}``). Relaxed BP: ``u_i`` is Gaussian with mean ``ω_i`` and variance ``V_i`` built from the
variable-to-factor magnetisations; expanding the weak messages to the needed order gives the AMP
equations below (Onsager terms included). With ``R(a) = φ(a)/Φ(a)`` and ``a_i^± = (J_ii ±
ω_i)/√V_i``:

* ``V_i = Σ_{j≠i} J_ij² (1 − m_j²)``,   ``ω_i = Σ_{j≠i} J_ij m_j − V_i g_i^{old}``;
* label message of factor i: ``L_i = ½[ln Φ(a_i^+) − ln Φ(a_i^-)]``;
* label posterior ``w_i^± = e^{±x_i}/(2 cosh x_i)``, ``x_i = L_i + B_i^{old} + π_i``;
* output function ``g_i = (w^+ R(a^+) − w^- R(a^-))/√V_i``,
  ``g'_i = −(w^+ a^+ R(a^+) + w^- a^- R(a^-))/V_i − g_i²``  (``∂_ω g``);
* weak field on s_j from the other factors: ``B_j = Σ_{i≠j} J_ij g_i − m_j Σ_{i≠j} J_ij² g'_i``;
* marginal ``m_j = tanh(L_j + B_j + π_j)`` (``π``: reinforcement field, 0 in
  :func:`bethe_entropy`).

Derivation (sketch). Messages: variable→factor magnetisations ``m_{j→i}``; factor i→label i
``ψ_{i→i}(s) ∝ Φ((J_ii + s ω_i)/√V_i)`` (this is ``L_i``); factor i→j ≠ i
``ψ_{i→j}(s_j) ∝ Z_i(ω_{i∖j} + J_ij s_j)`` with ``Z_i(ω) = Σ_{s_i} ½(1 + s_i μ_i) Φ((J_ii +
s_i ω)/√V_i)``, ``μ_i = m_{i→i} = tanh(B_i + π_i)``; since s_j² = 1 only the odd part survives:
``h_{i→j} = J_ij g_{i→j} + O(N^{-3/2})``, ``g = ∂_ω ln Z_i``. Cavity → full: ``m_{j→i} = m_j −
(1 − m_j²) J_ij g_i`` gives the ``−V_i g_i`` term of ω_i; ``g_{i→j} = g_i − g'_i J_ij m_j`` gives
the ``−m_j Σ J_ij² g'_i`` term of B_j. Bethe free entropy ``Σ_a ln Z_a + Σ_j ln Z_j − Σ_{(a,j)}
ln Z_{aj}``: each factor term ``Z_i(ω_i)`` cancels its label edge, the weak edges give
``−Σ_{i≠j} ln(cosh h_{i→j} + m_{j→i} sinh h_{i→j})``, expanded to O(1/N) per edge with the two
cavity relations above. Result:

Bethe free entropy (``Z`` = number of fixed points):

    N φ = Σ_j ln[Φ(a_j^+) e^{B_j+π_j} + Φ(a_j^-) e^{−B_j−π_j}]
          − Σ_i [g_i ω_i + ½ V_i g_i² − g'_i Σ_{j≠i} J_ij² m_j²]

(with ``π ≠ 0`` this is the free entropy of the tilted measure ``Π_j e^{π_j s_j}``; the factor
terms cancel exactly against the label edges). Checked against relaxed BP with all N² cavity
messages (agreement to O(1/N)).

Symmetry. Every factor is invariant under the global flip ``s → −s``, so ``m = 0`` (ω = g = B =
L = 0) is an exact fixed point for every instance; there ``φ = (1/N) Σ_i ln 2Φ(J_ii/√V_i)``,
``V_i = Σ_{j≠i} J_ij²``, i.e. the annealed entropy (E1/E2) with the row norms of this instance.
From random initial magnetisations BP flows back to it for the fully asymmetric ensemble (for
reciprocal couplings, η ≠ 0, the loops J_ij J_ji add a reaction term this closure omits: the
estimate is then not s(η, J_D) of (E2η); ``eta_hat`` is reported so that callers can tell).

Seeds. ``seed`` (a non-negative int or a SeedSequence) feeds ``np.random.default_rng``; the
initial magnetisations ``m_j = init_scale · U(−1, 1)`` are the only random draws, so a given
(J, parameters, seed) gives the identical result.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from .. import model
from .._version import __version__
from ..errors import InputError, check_count
from ..special import log_Phi, mills_ratio

__all__ = ["BetheResult", "FocusingResult", "bethe_entropy", "focusing_bp", "SCHEDULES"]

SCHEDULES = ("linear", "geometric")

_M_CLIP = 1.0 - 1e-12      # |m| bound inside V (keeps V_i > 0 and a_i finite when m → ±1)
_GAMMA_FROZEN = 1.0 - 1e-9  # focusing BP may stop on converged messages only once γ_t ≥ this
_R_ASYMPTOTIC = -1e4       # below this, R(a) = φ/Φ from its expansion −a − 1/a + 2/a³


# --------------------------------------------------------------------------------------------
# results


@dataclass(frozen=True)
class BetheResult:
    """Result of :func:`bethe_entropy`.

    ``entropy``: Bethe estimate of (1/N) ln #FP at the last iterate (nan if the iteration
    produced non-finite numbers). ``converged``: the largest change of a message (magnetisation
    m_j or output g_i) in the last iteration was below ``tol``; when False the entropy is *not*
    a BP fixed-point value. ``iterations``: updates done. ``max_change``: that last change.
    ``magnetisations`` (N,): BP marginals ⟨s_j⟩. ``cavity_mean``/``cavity_var`` (N,): ω_i, V_i.
    ``annealed_rows``: (1/N) Σ_i ln 2Φ(J_ii/√Σ_{j≠i}J_ij²), the symmetric fixed point's value.
    ``eta_hat``: sample corr(J_ij, J_ji) of the off-diagonal couplings (the closure assumes 0).
    ``n``, ``seed``, ``version``, ``params``, ``seconds``.
    """

    n: int
    entropy: float
    converged: bool
    iterations: int
    max_change: float
    magnetisations: np.ndarray
    cavity_mean: np.ndarray
    cavity_var: np.ndarray
    annealed_rows: float
    eta_hat: float
    seed: object
    version: str
    params: dict = field(default_factory=dict)
    seconds: float = 0.0

    def as_rows(self) -> list:
        """One row (this network): the scalars and metadata, per-neuron arrays left out."""
        return [{"version": self.version, "seed": model.seed_repr(self.seed), "n": self.n,
                 **self.params, "entropy": float(self.entropy), "converged": bool(self.converged),
                 "iterations": int(self.iterations), "max_change": float(self.max_change),
                 "annealed_rows": float(self.annealed_rows), "eta_hat": float(self.eta_hat),
                 "seconds": float(self.seconds)}]


@dataclass(frozen=True)
class FocusingResult:
    """Result of :func:`focusing_bp`.

    ``reached``: ``state`` is a strict fixed point, checked from scratch with
    :func:`fplandscape.model.is_fixed_point` (``s_i h_i > 0`` for all i, decided exactly).
    ``state`` (int8, N): sign of the final reinforced marginals' fields (sign(0) = +1) — the
    solution when reached, else the last candidate. ``unsatisfied``: number of neurons with
    ``s_i h_i ≤ 0`` in ``state`` (exact decisions); ``margin`` = min_i s_i h_i (float64).
    ``iterations``: AMP updates done (the run stops at the first update whose signs form a
    fixed point). ``converged``: the reinforced messages stopped changing (max change <
    ``tol``) — a run can stop converged but unsolved (reinforcement froze on a non-solution)
    or solved before converging.
    ``gamma_final``: reinforcement strength at the last update. ``n``, ``seed``, ``version``,
    ``params``, ``seconds``.
    """

    n: int
    reached: bool
    state: np.ndarray
    unsatisfied: int
    margin: float
    iterations: int
    converged: bool
    gamma_final: float
    seed: object
    version: str
    params: dict = field(default_factory=dict)
    seconds: float = 0.0

    def as_rows(self) -> list:
        """One row (this run): the flags, counts and metadata, the state left out."""
        return [{"version": self.version, "seed": model.seed_repr(self.seed), "n": self.n,
                 **self.params, "reached": bool(self.reached), "converged": bool(self.converged),
                 "unsatisfied": int(self.unsatisfied), "margin": float(self.margin),
                 "iterations": int(self.iterations), "gamma_final": float(self.gamma_final),
                 "seconds": float(self.seconds)}]


# --------------------------------------------------------------------------------------------
# validation


def _real(value, name, *, lo=None, hi=None, lo_open=False, hi_open=False):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise InputError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value):
        raise InputError(f"{name} must be finite, got {value}")
    if lo is not None and (value < lo or (lo_open and value == lo)):
        raise InputError(f"{name} must be {'>' if lo_open else '≥'} {lo}, got {value}")
    if hi is not None and (value > hi or (hi_open and value == hi)):
        raise InputError(f"{name} must be {'<' if hi_open else '≤'} {hi}, got {value}")
    return value




def _prepare(J, jd):
    J = model.as_couplings(J)
    if jd is not None:
        J = model.with_self_coupling(J, jd)
    n = J.shape[0]
    if n < 2:
        raise InputError("belief propagation needs N ≥ 2 neurons")
    off = J.copy()
    np.fill_diagonal(off, 0.0)
    off2 = off * off
    rows = off2.sum(axis=1)
    if np.any(rows == 0.0):
        bad = int(np.flatnonzero(rows == 0.0)[0])
        raise InputError(f"neuron {bad} receives no off-diagonal coupling; the Gaussian (dense-"
                         "graph) closure of BP needs at least one nonzero J_ij, j ≠ i, per row")
    return J, off, off2, rows


def _eta_hat(off):
    n = off.shape[0]
    iu = np.triu_indices(n, 1)
    a, b = off[iu], off.T[iu]
    if a.size < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


# --------------------------------------------------------------------------------------------
# the AMP core


def _mills(a):
    """R(a) = φ(a)/Φ(a), with the asymptotic series far in the left tail (where the difference
    of the two logarithms loses its absolute accuracy)."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        far = a < _R_ASYMPTOTIC
        r = mills_ratio(np.where(far, 0.0, a))
        inv = 1.0 / np.where(far, a, -1.0)
        return np.where(far, -a - inv + 2.0 * inv**3, r)


class _AMP:
    """State and one update of the AMP iteration (module docstring for the equations)."""

    def __init__(self, J, off, off2, m0):
        self.jd = np.ascontiguousarray(np.diag(J), dtype=np.float64)
        self.off, self.off2 = off, off2
        n = J.shape[0]
        self.m = np.array(m0, dtype=np.float64)
        self.g = np.zeros(n)
        self.B = np.zeros(n)
        self.pi = np.zeros(n)

    def factor_side(self, m, g_old, B_old):
        mc = np.clip(m, -_M_CLIP, _M_CLIP)
        V = self.off2 @ (1.0 - mc * mc)
        sV = np.sqrt(V)
        w = self.off @ m - V * g_old
        ap = (self.jd + w) / sV
        am = (self.jd - w) / sV
        lp, lm = log_Phi(ap), log_Phi(am)
        L = 0.5 * (lp - lm)
        x = L + B_old + self.pi
        wp = 0.5 * (1.0 + np.tanh(x))
        wm = 0.5 * (1.0 - np.tanh(x))
        Rp, Rm = _mills(ap), _mills(am)
        g = (wp * Rp - wm * Rm) / sV
        gp = -(wp * ap * Rp + wm * am * Rm) / V - g * g
        return V, w, ap, am, lp, lm, L, g, gp

    def step(self, damping):
        """One update; returns (max message change, L + B (field without π))."""
        m = self.m
        V, w, ap, am, lp, lm, L, g, gp = self.factor_side(m, self.g, self.B)
        B = self.off.T @ g - m * (self.off2.T @ gp)
        field_ = L + B
        m_new = np.tanh(field_ + self.pi)
        change = max(float(np.max(np.abs(m_new - m))), float(np.max(np.abs(g - self.g))))
        if not np.isfinite(change):
            change = float("nan")
        self.m = damping * m + (1.0 - damping) * m_new
        self.g, self.B = g, B
        return change, field_

    def bethe(self):
        """(1/N) ln Z_Bethe at the current messages (+ ω, V)."""
        m = self.m
        V, w, ap, am, lp, lm, L, g, gp = self.factor_side(m, self.g, self.B)
        h = self.B + self.pi
        var = np.logaddexp(lp + h, lm - h)
        q = self.off2 @ (m * m)
        edge = g * w + 0.5 * V * g * g - gp * q
        n = m.shape[0]
        return float((var.sum() - edge.sum()) / n), w, V


# --------------------------------------------------------------------------------------------
# Bethe entropy


def _start(J, jd, damping, tol, max_iter, init_scale, seed):
    """Validate the iteration options shared by :func:`bethe_entropy` and :func:`focusing_bp`
    and build the AMP state with m_j = init_scale · U(−1, 1) drawn from ``seed``. Returns
    ``(J, rows, amp, (damping, tol, max_iter, init_scale, seed))``."""
    damping = _real(damping, "damping", lo=0.0, hi=1.0, hi_open=True)
    tol = _real(tol, "tol", lo=0.0, lo_open=True)
    max_iter = check_count(max_iter, "max_iter", minimum=1)
    init_scale = _real(init_scale, "init_scale", lo=0.0, hi=1.0)
    seed = model.check_seed(seed)
    J, off, off2, rows = _prepare(J, jd)
    rng = np.random.default_rng(seed)
    amp = _AMP(J, off, off2, init_scale * rng.uniform(-1.0, 1.0, J.shape[0]))
    return J, rows, amp, (damping, tol, max_iter, init_scale, seed)


def bethe_entropy(J, *, jd=None, damping: float = 0.5, tol: float = 1e-8, max_iter: int = 1000,
                  init_scale: float = 1.0, seed=0) -> BetheResult:
    """Bethe (relaxed-BP / AMP) estimate of (1/N) ln #FP for one network.

    ``J``: N×N couplings (diagonal = self-couplings; ``jd`` optionally replaces it, scalar or
    length-N). ``damping`` ∈ [0, 1): m ← damping·m_old + (1 − damping)·m_new. Iterates until the
    largest message change is below ``tol`` (> 0) or ``max_iter`` (≥ 1) updates; the result's
    ``converged`` says which. Initial magnetisations ``init_scale · U(−1, 1)`` (init_scale ∈
    [0, 1]) drawn from ``seed``. See the module docstring for the equations and their limits.
    """
    t0 = time.perf_counter()
    J, rows, amp, (damping, tol, max_iter, init_scale, seed) = _start(
        J, jd, damping, tol, max_iter, init_scale, seed)
    n = J.shape[0]
    converged = False
    change = float("inf")
    it = 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for it in range(1, max_iter + 1):
            change, _ = amp.step(damping)
            if not np.isfinite(change):
                break
            if change < tol:
                converged = True
                break
        entropy, w, V = amp.bethe()
    if not np.isfinite(entropy):
        entropy, converged = float("nan"), False
    annealed = float(np.mean(np.log(2.0) + log_Phi(amp.jd / np.sqrt(rows))))
    params = {"n": n, "damping": damping, "tol": tol, "max_iter": max_iter,
              "init_scale": init_scale, "seed": model.seed_repr(seed),
              "jd": None if jd is None else (float(jd) if np.ndim(jd) == 0 else "vector")}
    return BetheResult(n=n, entropy=entropy, converged=converged, iterations=it,
                       max_change=change, magnetisations=amp.m.copy(), cavity_mean=w,
                       cavity_var=V, annealed_rows=annealed, eta_hat=_eta_hat(amp.off), seed=seed,
                       version=__version__, params=params, seconds=time.perf_counter() - t0)


# --------------------------------------------------------------------------------------------
# focusing BP (reinforcement)


def _gamma(t, gamma0, dgamma, schedule):
    if schedule == "linear":
        return min(1.0, gamma0 + t * dgamma)
    return 1.0 - (1.0 - gamma0) * (1.0 - dgamma) ** t


def focusing_bp(J, *, jd=None, gamma0: float = 0.0, dgamma: float = 1e-3,
                schedule: str = "linear", damping: float = 0.8, tol: float = 1e-8,
                max_iter: int = 5000, init_scale: float = 0.5, seed=0) -> FocusingResult:
    """Reinforced (focusing) BP as a solver: find one strict fixed point of J.

    The AMP iteration of :func:`bethe_entropy` with a reinforcement field (Braunstein–Zecchina):
    after update t, ``π_j ← γ_t (L_j + B_j + π_j)`` — each neuron's previous full field is fed
    back with weight γ_t, which polarises the marginals and breaks the flip symmetry.
    Schedules: ``"linear"`` γ_t = min(1, γ0 + t·dγ); ``"geometric"`` γ_t = 1 − (1 − γ0)(1 − dγ)^t.
    After every update the signs ``s_j = sign(L_j + B_j + π_j)`` (sign(0) = +1) are tested
    (strict ``s_i h_i > 0`` decided exactly on the stored numbers, as
    :func:`fplandscape.model.is_fixed_point`) and the run stops at the first fixed point. It
    also stops when the messages stop changing (max change < ``tol``) once γ_t has reached 1
    (to within 1e−9: before that, converged messages are usually the flip-symmetric m = 0
    fixed point, which the growing reinforcement destabilises later), or after ``max_iter``.

    ``gamma0`` ∈ [0, 1], ``dgamma`` ∈ (0, 1] (geometric: dγ < 1), ``damping`` ∈ [0, 1),
    ``init_scale`` ∈ [0, 1] (initial m_j = init_scale · U(−1, 1) from ``seed``).

    Damping 0.8 by default (m ← 0.8 m_old + 0.2 m_new), stronger than :func:`bethe_entropy`'s
    0.5: at large J_D, where fixed points are most abundant, the reinforced messages with
    damping 0.5 froze on non-solutions once γ reached 1 (N = 200, J_D = 0.9: 0 of 3 runs solved,
    23–31 violated constraints; N = 400, J_D = 0.7–1.0: 0–1 of 4), while with 0.8 every run of
    those cells solved (4/4) and the cells near the threshold J_D ≈ 0.15–0.4 kept their
    success (paper_notes §8).
    """
    t0 = time.perf_counter()
    if schedule not in SCHEDULES:
        raise InputError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")
    gamma0 = _real(gamma0, "gamma0", lo=0.0, hi=1.0)
    dgamma = _real(dgamma, "dgamma", lo=0.0, hi=1.0, lo_open=True)
    J, _, amp, (damping, tol, max_iter, init_scale, seed) = _start(
        J, jd, damping, tol, max_iter, init_scale, seed)
    n = J.shape[0]
    solved = converged = False
    state = None
    last_checked = None
    bands = model.field_bands(J)   # the exact-sign bands of J, reused at every test
    gamma = gamma0
    it = 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
        for it in range(1, max_iter + 1):
            change, field_ = amp.step(damping)
            if not np.isfinite(change):
                break
            full = field_ + amp.pi
            state = np.where(full >= 0, 1, -1).astype(np.int8)
            if last_checked is None or not np.array_equal(state, last_checked):
                last_checked = state
                s = state.astype(np.float64)
                if np.all(state * model.field_signs(J, state, J @ s, bands=bands) > 0):
                    solved = True
                    converged = change < tol
                    break
            if change < tol and gamma >= _GAMMA_FROZEN:
                converged = True
                break
            gamma = _gamma(it, gamma0, dgamma, schedule)
            amp.pi = gamma * full
    if state is None:  # the first update already failed (non-finite numbers)
        state = np.where(amp.m >= 0, 1, -1).astype(np.int8)
    stab = model.stabilities(J, state)
    stable = model.stable_mask(J, state)     # exact decisions (stab holds the float values)
    solved = bool(np.all(stable))
    params = {"n": n, "gamma0": gamma0, "dgamma": dgamma, "schedule": schedule,
              "damping": damping, "tol": tol, "max_iter": max_iter, "init_scale": init_scale,
              "seed": model.seed_repr(seed),
              "jd": None if jd is None else (float(jd) if np.ndim(jd) == 0 else "vector")}
    return FocusingResult(n=n, reached=solved, state=state, unsatisfied=int(np.sum(~stable)),
                          margin=float(stab.min()), iterations=it, converged=converged,
                          gamma_final=float(gamma), seed=seed, version=__version__,
                          params=params, seconds=time.perf_counter() - t0)


def accessibility_runner(J, *, runs, max_sweeps, seed, **options) -> dict:
    """Focusing BP as an algorithm of :func:`fplandscape.sim.accessibility.accessibility_scan`
    (registered as ``"fbp"`` by :mod:`fplandscape.sim.algorithms`): ``runs`` independent solves of :func:`focusing_bp`, run r
    seeded with child r of ``seed`` (:func:`fplandscape.sim.dynamics.run_seeds`), one BP
    iteration counted as one sweep (``max_iter = max_sweeps``). Per-run arrays: ``reached``
    (a strict fixed point was found), ``sweeps`` (iterations), ``converged`` (same as reached),
    ``states``, ``margin`` and ``mean_stability`` of the final sign state."""
    from .dynamics import run_seeds

    J = model.as_couplings(J)
    n = J.shape[0]
    reached = np.zeros(runs, dtype=bool)
    sweeps = np.zeros(runs, dtype=np.int64)
    states = np.zeros((runs, n), dtype=np.int8)
    margin = np.zeros(runs)
    mean = np.zeros(runs)
    for r, ss in enumerate(run_seeds(seed, runs)):
        res = focusing_bp(J, max_iter=max(int(max_sweeps), 1), seed=ss, **options)
        reached[r] = res.reached
        sweeps[r] = res.iterations
        states[r] = res.state
        stab = model.stabilities(J, res.state)
        margin[r] = stab.min()
        mean[r] = stab.mean()
    return {"reached": reached, "sweeps": sweeps, "converged": reached.copy(), "states": states,
            "margin": margin, "mean_stability": mean}
