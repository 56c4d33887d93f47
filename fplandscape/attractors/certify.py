"""Certified fixed points: every root of the residual in a box, each proven by interval arithmetic.

:func:`certify_fixed_points` returns boxes that are *proven* to contain exactly one fixed point
each and, when the search completes (``Certificate.complete``), proven to miss none in the box.
It handles :class:`~fplandscape.attractors.systems.RateMap` and
:class:`~fplandscape.attractors.systems.LeakyIntegrator` with any activation of
:mod:`fplandscape.attractors.phi`. The residuals are

* ``RateMap``:         F(x) = φ(β(W x + b)) − x,           slopes  S = β diag(φ'(a)) W − I,
  a = β(W x + b);
* ``LeakyIntegrator``: F(u) = −u + W φ(u) + I,             slopes  S = W diag(φ'(u)) − I
  (the vector field times τ: the roots do not depend on τ).

The model is the exact real-number map defined by the float parameters W, b (or I) and β.
(An input matrix U is not used: certify ``system.with_input(u)`` for a frozen input.)

Interval extension
------------------
All enclosures are computed with python-flint's ball arithmetic (``flint.arb``,
``flint.arb_mat``, every operation rounded outward). A float box X = [lo, hi] becomes the
ball hull of its two corners. Since every φ is monotone non-decreasing, φ(A) for a ball A is
enclosed by ``[lower φ(lower A), upper φ(upper A)]``, φ evaluated as balls at the endpoints.
The derivatives of tanh, logistic (¼ sech²(z/2)) and Langevin (L'(z) = 1/z² − 1/sinh² z,
L'(0) = 1/3) are even and decreasing in |z|, so over A they lie in
``[φ'(max |A|), φ'(min |A|)]`` (min |A| = 0 when A ∋ 0). For |z| < ½ the Langevin function and
its derivative are evaluated from their Taylor series ``L(z) = Σ_{n≥1} c_n z^{2n−1}``,
``c_n = 2^{2n} B_{2n}/(2n)! = (−1)^{n+1} 2ζ(2n)/π^{2n}`` (exact rational coefficients),
truncated after 12 terms with the first omitted term as a rigorous error ball: the series
alternate and their terms decrease for |z| < π (for L': |z| < π/√3), since
|c_{n+1}/c_n| = ζ(2n+2)/(π² ζ(2n)) < 1/π²; this avoids the cancellation in coth z − 1/z.
relu and hard_tanh are piecewise linear, monotone and 1-Lipschitz: on a ball that lies on one
side of every kink their slope is the exact constant (1 or 0), across a kink every difference
quotient lies in [0, 1]. linear has slope 1.

In each case the interval matrix S(X) contains every *difference quotient matrix*: for all
x, y ∈ X, F(x) − F(y) = S'(x − y) for some real S' ∈ S(X) (row by row, by the mean value
theorem or the slope bound of relu/hard_tanh, since a_i(x), a_i(y) ∈ A_i for the interval
pre-activation A = β(W X + b)).

Algorithm and theorem
---------------------
For a box X with a float point m ∈ X (its midpoint), Y ≈ J_F(m)⁻¹ (a float inverse; the
pseudo-inverse, or I, when J_F(m) is singular), the Krawczyk operator is

    K(X) = m − Y F(m) + (I − Y S(X)) (X − m),

evaluated in ball arithmetic. *Krawczyk's theorem* (R. Krawczyk, Computing 4, 1969;
R. E. Moore, SIAM J. Numer. Anal. 14, 1977; A. Neumaier, *Interval Methods for Systems of
Equations*, 1990, ch. 5; S. M. Rump, Acta Numerica 19, 2010):

(a) every zero x* ∈ X of F lies in K(X), since x* = x* − Y F(x*) = m − Y F(m) +
    (I − Y S')(x* − m) for some S' ∈ S(X);
(b) if K(X) ⊂ int X, then F has exactly one zero in X. Proof: with C = I − Y S(X) and
    r = rad X > 0, K(X) contains a translate of C'(X − m) for the matrix C' ∈ C of largest
    magnitudes, so rad K(X) ≥ |C| r; thus |C| r < r and ρ(|C|) < 1 (Perron–Frobenius), and
    every Y S', S' ∈ S(X), is non-singular. Existence: g(x) = x − Y F(x) maps X into K(X) ⊂ X,
    so by Brouwer g has a fixed point, a zero of F. Uniqueness: two zeros x ≠ y would give
    0 = F(x) − F(y) = S'(x − y) with S' non-singular.

Rigour therefore rests on three enclosures, all computed with outward rounding: F(m), S(X)
(a superset of all difference-quotient matrices on X) and the arithmetic of K(X); the
float matrix Y and the float point m (which must lie in X) need no accuracy at all.

Each box X taken from a breadth-first work queue is examined as follows.

1. Contraction (every step keeps every zero of X). Zeros are fixed points x = G(x) of
   G(x) = φ(β(W x + b)) (rate map) or W φ(u) + I (integrator), so X ← X ∩ G(X); G(X) is
   computed with each variable entering each linear form once, hence exactly up to rounding.
   Then a one-coordinate interval Newton step: if s_ii = ∂F_i/∂x_i ∈ S(X)_ii excludes 0,
   x_i ∈ t − F_i(x_1, …, t, …, x_N)/s_ii with t the midpoint of X_i and the other coordinates
   ranging over X. An empty intersection means no zero. This is repeated (up to 4 rounds)
   while it shrinks the box by more than 10 % of its width, every side kept open by 2^-10
   of X's width; the last box so evaluated is B.
2. 0 ∉ F(m) + S(B)(B − m) (mean-value form) or K(B) ∩ B = ∅ → no zero (by (a)).
3. K(B) ⊂ int B → exactly one zero in B, hence in X (by (b)); its enclosure B ∩ K(B) is
   tightened by repeating the Krawczyk step from a Newton-polished point (by (a) the zero
   never leaves it).
4. Otherwise E = (contraction of B) ∩ K(B) holds every zero of X. If K(B) ∩ B is at most half
   as wide as B, an *ε-inflation* is tried first: if X'' = E widened by 10 % satisfies
   K(X'') ⊂ int X'' (X'' after its own contraction), then X'' holds exactly one zero and
   every zero of X (X'' ⊇ E), so X is settled (if X'' is excluded, X has no zero). This
   catches zeros on a face of X (e.g. on a bisection plane), which no subbox of X could
   prove. Otherwise E (each side widened by 2^-10 of X's width, within X) is re-examined when
   it is at most half as wide as X, else bisected at the midpoint of its widest coordinate;
   a box narrower than ``min_width``, or still queued when ``max_boxes`` boxes have been
   examined, is reported *undecided*.

Every zero in the search box therefore lies in a proven box or an undecided one. The same zero
can be proven twice (from two boxes sharing a face, or through ε-inflation): proven enclosures
that intersect are merged by proving uniqueness on a slight widening of their hull — then
they are one zero — and if that fails the hull is reported undecided. The search box is the
requested box inflated by a relative margin of 1e-9 (plus 1e-300 absolute), so that zeros on
its outer faces are found; zeros whose enclosure is disjoint from the requested box are
dropped (an enclosure may straddle its boundary by a few ulp). Undecided boxes may contain
zeros also listed in ``roots``.

Limitations: an isolated zero at which F is not differentiable (a relu/hard_tanh kink exactly
at the zero's pre-activation) or at which J_F is singular (a fold, a continuum of zeros)
generally cannot satisfy K ⊂ int X and ends up undecided; the cost grows quickly with N
(boxes near all N zero sets at once must be split), so the method is meant for N up to
about 6–8. The flint working precision (``flint.ctx.prec``, global) is set to 64 bits
during the call and restored.
"""
from __future__ import annotations

import math
import numbers
import time
from collections import deque
from dataclasses import dataclass

import numpy as np

from ..errors import InputError, check_count
from .phi import get_phi
from .systems import LeakyIntegrator, RateMap

try:  # python-flint: the ball arithmetic behind every enclosure
    import flint
    from flint import arb, arb_mat, fmpq
except ImportError:  # pragma: no cover - python-flint is a dependency
    flint = None

__all__ = ["Certificate", "certify_fixed_points"]

_PREC = 64          # working precision of the balls (bits)
_MARGIN = 1e-9      # relative inflation of the search box
_SERIES_TERMS = 12  # Langevin Taylor terms for |z| < 1/2
_CONTRACT_ROUNDS = 4
_INFLATE = 0.1      # ε-inflation: widen E by this fraction of its width per side


@dataclass
class Certificate:
    """The result of :func:`certify_fixed_points`.

    ``roots`` (k, N, 2): boxes [lo, hi], each proven to contain exactly one fixed point (and
    pairwise disjoint, so k distinct fixed points); ``midpoints`` (k, N): a Newton-polished
    float approximation of each, inside its box; ``undecided`` (u, N, 2): boxes neither
    excluded nor proven (budget ``max_boxes`` or width ``min_width`` reached); ``box`` (N, 2):
    the requested search box; ``boxes_examined``: boxes taken from the work queue plus
    ε-inflation attempts (the enclosure tightening is not counted); ``complete``:
    True iff ``undecided`` is empty, and then ``roots`` holds every fixed point in ``box``;
    ``seconds``: wall time.
    """

    roots: np.ndarray
    midpoints: np.ndarray
    undecided: np.ndarray
    box: np.ndarray
    boxes_examined: int
    complete: bool
    seconds: float

    def to_dict(self) -> dict:
        """JSON-able summary: counts, box, completeness, effort, and the boxes as lists."""
        return {
            "method": "krawczyk",
            "n_roots": int(self.roots.shape[0]),
            "n_undecided": int(self.undecided.shape[0]),
            "complete": bool(self.complete),
            "boxes_examined": int(self.boxes_examined),
            "seconds": float(self.seconds),
            "box": self.box.tolist(),
            "roots": self.roots.tolist(),
            "midpoints": self.midpoints.tolist(),
            "undecided": self.undecided.tolist(),
        }

    def as_rows(self) -> list:
        """One row per box: ``status`` ("root": proven to hold exactly one fixed point, or
        "undecided"), ``index`` within its kind and ``width`` = max_i (hi_i − lo_i)."""
        return [{"status": status, "index": i, "width": float(np.max(b[:, 1] - b[:, 0]))}
                for status, boxes in (("root", self.roots), ("undecided", self.undecided))
                for i, b in enumerate(boxes)]


# --------------------------------------------------------------------------------------------
# interval extensions of the activations
# --------------------------------------------------------------------------------------------

class _Langevin:
    """Rigorous ball enclosures of L(z) = coth z − 1/z and L'(z) = 1/z² − 1/sinh² z."""

    def __init__(self):
        K = _SERIES_TERMS
        c = []
        for n in range(1, K + 2):
            q = fmpq(2) ** (2 * n) * fmpq.bernoulli(2 * n) / math.factorial(2 * n)
            c.append(arb(q))
        self.c = c[:K]                                   # c_1 .. c_K
        self.dc = [(2 * n - 1) * c[n - 1] for n in range(1, K + 1)]  # coefficients of L'
        self.tail = abs(c[K])                            # |c_{K+1}|
        self.dtail = (2 * K + 1) * abs(c[K])
        self.K = K
        self.unit = arb(0, 1)                            # the ball [−1, 1]
        self.half = arb(0.5)

    @staticmethod
    def _horner(coeffs, z2):
        acc = arb(0)
        for ck in reversed(coeffs):
            acc = acc * z2 + ck
        return acc

    def f(self, z):
        za = z.abs_upper()
        if za < self.half:
            return self._horner(self.c, z * z) * z + \
                (self.tail * za ** (2 * self.K + 1)) * self.unit
        if z.contains(0):  # only for wide balls: fall back on monotonicity and |L| < 1
            return _hull(self.f(z.lower()).lower(), self.f(z.upper()).upper())
        return z.coth() - 1 / z

    def df(self, z):
        za = z.abs_upper()
        if za < self.half:
            return self._horner(self.dc, z * z) + (self.dtail * za ** (2 * self.K)) * self.unit
        if z.contains(0):
            return arb(0).union(arb(1) / 3)
        s = z.csch()
        return 1 / (z * z) - s * s


def _hull(lo, hi):
    """Ball containing the two balls ``lo`` and ``hi`` (hence the interval between them)."""
    return lo.union(hi)


class _Phi:
    """Interval extension of one activation: ``point`` (a narrow ball), ``range`` (φ over a
    ball, by monotonicity) and ``slope`` (a ball holding every difference quotient)."""

    def __init__(self, name: str):
        self.name = name
        self.zero, self.one = arb(0), arb(1)
        self.unit01 = arb(0).union(arb(1))
        if name == "langevin":
            self._lv = _Langevin()

    def point(self, z):
        n = self.name
        if n == "tanh":
            return z.tanh()
        if n == "logistic":
            return (1 + (z / 2).tanh()) / 2
        if n == "langevin":
            return self._lv.f(z)
        if n == "linear":
            return z
        return self.range(z)

    def range(self, A):
        n = self.name
        if n == "linear":
            return A
        lo, hi = A.lower(), A.upper()  # exact points
        if n == "relu":
            return _hull(lo if lo > 0 else self.zero, hi if hi > 0 else self.zero)
        if n == "hard_tanh":
            lo = self.one if lo > 1 else (-self.one if lo < -1 else lo)
            hi = self.one if hi > 1 else (-self.one if hi < -1 else hi)
            return _hull(lo, hi)
        return _hull(self.point(lo).lower(), self.point(hi).upper())

    def slope(self, A):
        n = self.name
        if n == "linear":
            return self.one
        if n == "relu":
            if A >= 0:
                return self.one
            if A <= 0:
                return self.zero
            return self.unit01
        if n == "hard_tanh":
            if A >= -1 and A <= 1:
                return self.one
            if A <= -1 or A >= 1:
                return self.zero
            return self.unit01
        zmax, zmin = A.abs_upper(), A.abs_lower()
        if n == "tanh":
            lo, hi = zmax.sech() ** 2, zmin.sech() ** 2
        elif n == "logistic":
            lo, hi = (zmax / 2).sech() ** 2 / 4, (zmin / 2).sech() ** 2 / 4
        else:  # langevin
            lo, hi = self._lv.df(zmax), self._lv.df(zmin)
        lo = lo.lower()
        if lo < 0:
            lo = self.zero  # φ' ≥ 0
        return _hull(lo, hi.upper())


# --------------------------------------------------------------------------------------------
# the residual of a system, in floats and in balls
# --------------------------------------------------------------------------------------------

class _Residual:
    """F, its float Jacobian, and ball evaluations of F(X), F(m), S(X) for one system."""

    def __init__(self, system):
        self.flow = isinstance(system, LeakyIntegrator)
        self.N = N = system.dim
        self.W = np.array(system.W, dtype=np.float64)
        self.phi = system.phi
        self.iphi = _Phi(system.phi.name)
        self.Wa = arb_mat(self.W.tolist())
        self.eye = arb_mat(N, N, [1 if i == j else 0 for i in range(N) for j in range(N)])
        self.I = np.eye(N)
        if self.flow:
            self.bias = np.array(system.I, dtype=np.float64)
            self.gain = 1.0
            self.bias_a = arb_mat(N, 1, self.bias.tolist())
        else:
            self.bias = np.array(system.b, dtype=np.float64)
            self.gain = float(system.gain)
            self.gain_a = arb(self.gain)
            self.bias_a = arb_mat(N, 1, self.bias.tolist())
            self.gWa = self.Wa * self.gain_a  # β W, rounded outward
        Woff = self.W.copy()
        np.fill_diagonal(Woff, 0.0)
        self.Woff_a = arb_mat(Woff.tolist())
        self.wd = [arb(float(v)) for v in np.diag(self.W)]
        if not self.flow:
            self.gwd = [w * self.gain_a for w in self.wd]  # β W_ii

    # -- floats ------------------------------------------------------------------------------
    def F(self, x):
        if self.flow:
            return -x + self.W @ self.phi.f(x) + self.bias
        return self.phi.f(self.gain * (self.W @ x + self.bias)) - x

    def J(self, x):
        if self.flow:
            return self.W * self.phi.df(x) - self.I
        a = self.gain * (self.W @ x + self.bias)
        return (self.gain * self.phi.df(a))[:, None] * self.W - self.I

    def Y(self, m):
        """A float approximate inverse of J_F(m) (pseudo-inverse, or I, when singular)."""
        J = self.J(m)
        try:
            Y = np.linalg.inv(J)
            if np.isfinite(Y).all():
                return Y
        except np.linalg.LinAlgError:
            pass
        try:
            with np.errstate(all="ignore"):
                Y = np.linalg.pinv(J)
            if np.isfinite(Y).all():
                return Y
        except np.linalg.LinAlgError:
            pass
        return self.I

    def newton(self, x, lo, hi, steps: int = 8):
        """A few float Newton steps from ``x``, kept inside [lo, hi]; the best iterate."""
        best = np.clip(x, lo, hi)
        with np.errstate(all="ignore"):
            fbest = np.max(np.abs(self.F(best)))
            cur = best
            for _ in range(steps):
                try:
                    step = np.linalg.solve(self.J(cur), self.F(cur))
                except np.linalg.LinAlgError:
                    break
                if not np.all(np.isfinite(step)):
                    break
                cur = np.clip(cur - step, lo, hi)
                fc = np.max(np.abs(self.F(cur)))
                if not fc < fbest:
                    break
                best, fbest = cur, fc
                if fbest == 0:
                    break
        return best

    # -- balls -------------------------------------------------------------------------------
    def evaluate(self, lo_l, hi_l):
        """Ball quantities over the box [lo, hi] (lists): ``Xa`` (its ball vector), ``G``
        (enclosures of the fixed-point map G_i, zeros of F being the fixed points x = G(x)),
        ``P`` (the part of F_i free of x_i) and ``args`` (the φ-arguments).

        Rate map: P_i = β(Σ_{j≠i} W_ij X_j + b_i), a_i = P_i + βW_ii x_i, G_i = φ(a_i).
        Integrator: P_i = Σ_{j≠i} W_ij φ(X_j) + I_i, a_i = x_i, G_i = P_i + W_ii φ(x_i).
        Each variable enters each linear form once, so G_i is the exact range up to rounding."""
        ip = self.iphi
        N = self.N
        Xa = arb_mat(N, 1, [arb(a).union(arb(b)) for a, b in zip(lo_l, hi_l)])
        xs = Xa.entries()
        if self.flow:
            Phi = [ip.range(x) for x in xs]
            P = (self.Woff_a * arb_mat(N, 1, Phi) + self.bias_a).entries()
            G = [P[i] + self.wd[i] * Phi[i] for i in range(N)]
            args = xs
        else:
            P = ((self.Woff_a * Xa + self.bias_a) * self.gain_a).entries()
            args = [P[i] + self.gwd[i] * xs[i] for i in range(N)]
            G = [ip.range(a) for a in args]
        return Xa, G, P, args

    def partial(self, i, P_i, t: float):
        """Enclosure of F_i(x) with x_i = t and the other coordinates in the box."""
        if self.flow:
            return P_i + self.wd[i] * self.iphi.point(arb(t)) - t
        return self.iphi.range(P_i + self.gwd[i] * t) - t

    def self_slope(self, i, D_i):
        """Enclosure of ∂F_i/∂x_i difference quotients: βW_ii φ' − 1 (rate), W_ii φ' − 1."""
        return (self.wd[i] if self.flow else self.gwd[i]) * D_i - 1

    def slopes(self, D):
        """The interval slope matrix S(X) from the φ-slopes D of :meth:`evaluate`."""
        N = self.N
        Dm = arb_mat(N, N, [D[i] if i == j else 0 for i in range(N) for j in range(N)])
        if self.flow:
            return self.Wa * Dm - self.eye
        return Dm * self.gWa - self.eye

    def at_point(self, ma):
        """Ball enclosure of F(m) for the exact point vector ma."""
        ip = self.iphi
        N = self.N
        if self.flow:
            Phi = arb_mat(N, 1, [ip.point(x) for x in ma.entries()])
            return self.Wa * Phi + self.bias_a - ma
        A = (self.Wa * ma + self.bias_a) * self.gain_a
        Phi = arb_mat(N, 1, [ip.point(a) for a in A.entries()])
        return Phi - ma


# --------------------------------------------------------------------------------------------
# float <-> ball helpers
# --------------------------------------------------------------------------------------------

def _down(x) -> float:
    """A float ≤ every point of the ball x (within an ulp or two of its lower end)."""
    v = x.lower()
    if not v.is_finite():
        return -math.inf
    f = float(v)
    while not arb(f) <= v:
        f = math.nextafter(f, -math.inf)
    return f


def _up(x) -> float:
    """A float ≥ every point of the ball x."""
    v = x.upper()
    if not v.is_finite():
        return math.inf
    f = float(v)
    while not arb(f) >= v:
        f = math.nextafter(f, math.inf)
    return f


_EXCLUDED, _PROVEN, _OPEN = 0, 1, 2


class _Krawczyk:
    """One Krawczyk test on a float box [lo, hi]."""

    def __init__(self, res: _Residual):
        self.res = res

    def test(self, lo, hi, m=None):
        """(status, elo, ehi, k_contracts) for the box X = [lo, hi].

        status: ``_EXCLUDED`` (no zero in X), ``_PROVEN`` (exactly one zero) or ``_OPEN``;
        (elo, ehi): a float box holding every zero in X (None when excluded); k_contracts:
        the Krawczyk image alone is at most half as wide as the box it was taken on. ``m`` (a
        point of X, default its midpoint) is the Krawczyk centre; when it is given the box is
        used as is (enclosure tightening), else it is first contracted (see the loop)."""
        res = self.res
        N = res.N
        lo0, hi0 = lo.tolist(), hi.tolist()
        lo_l, hi_l = lo0, hi0
        for it in range(_CONTRACT_ROUNDS if m is None else 1):
            Xa, G, P, args = res.evaluate(lo_l, hi_l)
            elo, ehi = list(lo_l), list(hi_l)
            for i, g in enumerate(G):  # every zero x = G(x) of X lies in X ∩ G(X)
                if g < elo[i] or g > ehi[i]:
                    return _EXCLUDED, None, None, False
                elo[i] = max(elo[i], _down(g))
                ehi[i] = min(ehi[i], _up(g))
            D = [res.iphi.slope(a) for a in args]
            for i in range(N):
                # one-coordinate interval Newton step: x_i ∈ t − F_i(.., t, ..)/s_ii
                s = res.self_slope(i, D[i])
                if s > 0 or s < 0:
                    t = 0.5 * lo_l[i] + 0.5 * hi_l[i]
                    nw = t - res.partial(i, P[i], t) / s
                    if nw < elo[i] or nw > ehi[i]:
                        return _EXCLUDED, None, None, False
                    elo[i] = max(elo[i], _down(nw))
                    ehi[i] = min(ehi[i], _up(nw))
            if m is not None or it == _CONTRACT_ROUNDS - 1:
                break
            wmax = max(h - l for l, h in zip(lo_l, hi_l))
            if not max((h - l) - (eh - el) for l, h, el, eh in zip(lo_l, hi_l, elo, ehi)) \
                    > 0.1 * wmax:
                break
            # go on with the contracted box, every side kept open (2^-10 of the original)
            lo_l = [max(a, e - 2.0 ** -10 * (b - a)) for a, b, e in zip(lo0, hi0, elo)]
            hi_l = [min(b, e + 2.0 ** -10 * (b - a)) for a, b, e in zip(lo0, hi0, ehi)]
        # Krawczyk on the last box evaluated, B = [lo_l, hi_l] (it holds every zero of X)
        S = res.slopes(D)
        if m is None:
            m = np.clip(0.5 * np.array(lo_l) + 0.5 * np.array(hi_l), lo_l, hi_l)
        ma = arb_mat(N, 1, m.tolist())
        Fm = res.at_point(ma)
        Z = Xa - ma
        for f in (Fm + S * Z).entries():  # mean-value form of F(B)
            if f > 0 or f < 0:
                return _EXCLUDED, None, None, False
        Y = arb_mat(res.Y(m).tolist())
        K = ma - Y * Fm + (res.eye - Y * S) * Z
        inside = True
        kw = 0.0
        for i, k in enumerate(K.entries()):
            lo_i, hi_i = lo_l[i], hi_l[i]
            if not k.is_finite():
                inside = False
                kw = math.inf
                continue
            if k < lo_i or k > hi_i:
                return _EXCLUDED, None, None, False
            if inside and not (k > lo_i and k < hi_i):
                inside = False
            klo, khi = _down(k), _up(k)
            kw = max(kw, min(hi_i, khi) - max(lo_i, klo))
            if klo > elo[i]:
                elo[i] = klo
            if khi < ehi[i]:
                ehi[i] = khi
            if elo[i] > ehi[i]:
                return _EXCLUDED, None, None, False
        k_contracts = kw <= 0.5 * max(h - l for l, h in zip(lo_l, hi_l))
        return (_PROVEN if inside else _OPEN), np.array(elo), np.array(ehi), k_contracts


# --------------------------------------------------------------------------------------------
# the search
# --------------------------------------------------------------------------------------------

def _as_box(box, N: int) -> np.ndarray:
    """Validate ``box`` and return it as an (N, 2) float array of rows [lo_i, hi_i].

    Accepted: a tuple ``(lo, hi)`` (scalars or length-N vectors, as :meth:`box` returns); an
    (N, 2) numpy array of rows [lo_i, hi_i] (also (2, N) when N ≠ 2); a list of N pairs
    [lo_i, hi_i] or a list [lo, hi]. For N = 2 a list of two pairs would be ambiguous and is
    refused: pass a tuple or an array."""
    def fail(msg=None):
        got = (f"an array of shape {box.shape}" if isinstance(box, np.ndarray)
               else repr(box) if len(repr(box)) < 80 else type(box).__name__)
        raise InputError(msg or f"box must be (lo, hi) with lo, hi of length {N}, or an array "
                         f"of shape ({N}, 2) of [lo_i, hi_i] rows, got {got}")

    if isinstance(box, (str, bytes)) or not isinstance(box, (tuple, list, np.ndarray)):
        fail()
    try:
        if isinstance(box, np.ndarray) and box.ndim == 2:
            arr = np.asarray(box, dtype=np.float64)
            if arr.shape == (N, 2):
                pair = (arr[:, 0], arr[:, 1])
            elif arr.shape == (2, N):
                pair = (arr[0], arr[1])
            else:
                fail(f"box must be an array of shape ({N}, 2) of [lo_i, hi_i] rows, got "
                     f"shape {arr.shape}")
        else:
            if len(box) != 2 and len(box) != N:
                fail()
            entries = [np.asarray(e, dtype=np.float64) for e in box]
            if len(box) == 2 and all(e.ndim == 0 or e.shape == (N,) for e in entries) and \
                    not (N == 2 and isinstance(box, list)
                         and all(e.shape == (2,) for e in entries)):
                pair = tuple(np.full(N, float(e)) if e.ndim == 0 else e for e in entries)
            elif len(box) == N and all(e.shape == (2,) for e in entries):
                if N == 2 and isinstance(box, list):
                    fail("box is ambiguous for N = 2: give a tuple (lo, hi) or a (2, 2) numpy "
                         "array of [lo_i, hi_i] rows")
                arr = np.stack(entries)
                pair = (arr[:, 0], arr[:, 1])
            else:
                fail()
    except (TypeError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
        fail()
    lo, hi = (np.array(v, dtype=np.float64) for v in pair)
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        raise InputError("box has non-finite bounds (NaN or inf)")
    if np.any(lo > hi):
        raise InputError("box lower bounds must not exceed the upper bounds")
    return np.stack([lo, hi], axis=1)


def _width(lo, hi) -> float:
    return float(np.max(hi - lo))


def _prove_and_tighten(kz: _Krawczyk, lo, hi, rounds: int = 6):
    """:meth:`_Krawczyk.test` on [lo, hi], and when it proves a unique zero, ``done`` =
    (enclosure lo, enclosure hi, Newton-polished point inside it), the enclosure tightened by
    repeating the test from the polished point (by (a) the zero never leaves it); else
    ``done`` = None. Returns (done, status, elo, ehi, k_contracts)."""
    status, elo, ehi, kc = kz.test(lo, hi)
    if status != _PROVEN:
        return None, status, elo, ehi, kc
    tlo, thi = elo, ehi
    for _ in range(rounds):
        m = kz.res.newton(0.5 * tlo + 0.5 * thi, tlo, thi)
        st, nlo, nhi, _ = kz.test(tlo, thi, m)
        if st == _EXCLUDED:  # impossible for a box holding a zero; keep what is proven
            break
        shrunk = _width(nlo, nhi) < 0.5 * _width(tlo, thi)
        tlo, thi = nlo, nhi
        if not shrunk:
            break
    mid = kz.res.newton(0.5 * tlo + 0.5 * thi, tlo, thi)
    return (tlo, thi, mid), status, elo, ehi, kc


def _inflate(lo, hi, frac: float, floor: float = 0.0):
    """[lo, hi] widened on every side by ``frac`` × its largest width (+ ``floor`` + 4 ulp)."""
    pad = frac * _width(lo, hi) + floor + 1e-15 * np.maximum(np.abs(lo), np.abs(hi)) + 1e-300
    return lo - pad, hi + pad


def _intersect(a_lo, a_hi, b_lo, b_hi) -> bool:
    return bool(np.all(a_lo <= b_hi) and np.all(b_lo <= a_hi))


def _merge(kz: _Krawczyk, found: list, undecided: list) -> list:
    """Merge proven zeros whose enclosures intersect (see the module docstring)."""
    k = len(found)
    parent = list(range(k))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if k > 1:
        LO = np.array([f[0] for f in found])
        HI = np.array([f[1] for f in found])
        for i in range(k - 1):
            hit = np.all((LO[i] <= HI[i + 1:]) & (LO[i + 1:] <= HI[i]), axis=1)
            for j in np.flatnonzero(hit) + i + 1:
                parent[root(i)] = root(int(j))
    groups: dict = {}
    for i in range(k):
        groups.setdefault(root(i), []).append(i)
    out = []
    for members in groups.values():
        if len(members) == 1:
            out.append(found[members[0]])
            continue
        hlo = np.min([found[i][0] for i in members], axis=0)
        hhi = np.max([found[i][1] for i in members], axis=0)
        done = None
        scale = 1.0 + np.maximum(np.abs(hlo), np.abs(hhi))
        for frac, rel in ((1e-3, 1e-12), (0.1, 1e-9), (1.0, 1e-6)):
            plo, phi_ = _inflate(hlo, hhi, frac)
            plo, phi_ = plo - rel * scale, phi_ + rel * scale
            done = _prove_and_tighten(kz, plo, phi_)[0]
            if done is not None:
                break
        if done is None:
            undecided.append((hlo, hhi))
        else:
            out.append(done)
    if len(out) < k and len(out) > 1:
        # merged enclosures may now intersect others: repeat until stable
        return _merge(kz, out, undecided)
    return out


def certify_fixed_points(system, box=None, *, max_boxes: int = 100_000,
                         min_width: float = 1e-10) -> Certificate:
    """Every fixed point of ``system`` in ``box``, each proven by the interval Krawczyk test.

    ``system``: a :class:`RateMap` (F(x) = φ(β(W x + b)) − x) or a :class:`LeakyIntegrator`
    (F(u) = −u + W φ(u) + I). ``box``: a tuple ``(lo, hi)`` (scalars or length-N vectors) or
    an (N, 2) array of rows [lo_i, hi_i] (see :func:`_as_box`); default ``system.box()``,
    which holds every fixed point when φ is bounded (for relu and linear a box must be
    given). ``max_boxes``: the budget of box examinations (Krawczyk tests, ε-inflations
    included); ``min_width``: boxes narrower than this are not bisected further. Boxes that
    could be neither excluded nor proven come back as ``undecided``; when there are none,
    ``complete`` is True and ``roots`` lists every fixed point in ``box``, one proven box
    each (pairwise disjoint, so the count is exact). The method and its rigour are described
    in the module docstring.

    Example: ``certify_fixed_points(RateMap(2 * np.eye(3)))`` proves the 27 fixed points
    (0 and ±0.9575… in each coordinate) of three uncoupled units x = tanh(2x).
    """
    t0 = time.perf_counter()
    if flint is None:  # pragma: no cover
        raise InputError("certify_fixed_points needs python-flint (pip install python-flint)")
    if not isinstance(system, (RateMap, LeakyIntegrator)):
        raise InputError(f"certify_fixed_points supports RateMap and LeakyIntegrator systems, "
                         f"got {type(system).__name__}")
    try:
        known = get_phi(system.phi.name)
    except InputError:
        known = None
    if known is not system.phi:
        raise InputError(f"certify_fixed_points has no interval extension for the custom "
                         f"activation {system.phi.name!r}: use one of the built-in names")
    max_boxes = check_count(max_boxes, "max_boxes", minimum=1)
    if isinstance(min_width, bool) or not isinstance(min_width, numbers.Real) \
            or not math.isfinite(min_width) or min_width <= 0:
        raise InputError(f"min_width must be a positive finite number, got {min_width!r}")
    min_width = float(min_width)
    N = system.dim
    if box is None:
        box = system.box()
        if box is None:
            raise InputError(f"{type(system).__name__} with phi={system.phi.name!r} has no "
                             "a-priori bounding box: give box=(lo, hi) to search in")
        box = tuple(box)
    req = _as_box(box, N)

    old_prec = flint.ctx.prec
    flint.ctx.prec = _PREC
    try:
        res = _Residual(system)
        kz = _Krawczyk(res)
        rlo, rhi = req[:, 0], req[:, 1]
        pad = _MARGIN * np.maximum(rhi - rlo, np.maximum(np.abs(rlo), np.abs(rhi))) + 1e-300
        queue = deque([(rlo - pad, rhi + pad)])
        found: list = []
        undecided: list = []
        examined = 0
        while queue:
            if examined >= max_boxes:
                undecided.extend(queue)
                queue.clear()
                break
            lo, hi = queue.popleft()
            examined += 1
            done, status, elo, ehi, kc = _prove_and_tighten(kz, lo, hi)
            if status == _EXCLUDED:
                continue
            if done is not None:
                found.append(done)
                continue
            w, we = _width(lo, hi), _width(elo, ehi)
            if kc and examined < max_boxes:
                # ε-inflation: a zero on (or near) a face of the box
                examined += 1
                ilo, ihi = _inflate(elo, ehi, _INFLATE, floor=1e-6 * w)
                done, st2 = _prove_and_tighten(kz, ilo, ihi)[:2]
                if done is not None or st2 == _EXCLUDED:
                    # X'' ⊇ E holds every zero of X: exactly one zero, or none at all
                    if done is not None:
                        found.append(done)
                    continue
            # keep every side of the box open (a side collapsed by G, e.g. a saturated unit,
            # could never satisfy K ⊂ int X): widen by 2^-10 of the parent, within the parent
            d = (hi - lo) * 2.0 ** -10
            lo, hi = np.maximum(lo, elo - d), np.minimum(hi, ehi + d)
            we = _width(lo, hi)
            if we < min_width:
                undecided.append((lo, hi))
                continue
            if we <= 0.5 * w:
                queue.append((lo, hi))
                continue
            j = int(np.argmax(hi - lo))
            c = 0.5 * lo[j] + 0.5 * hi[j]
            if not lo[j] < c < hi[j]:
                undecided.append((lo, hi))
                continue
            hi1 = hi.copy()
            hi1[j] = c
            lo2 = lo.copy()
            lo2[j] = c
            queue.append((lo, hi1))
            queue.append((lo2, hi))
        found = _merge(kz, found, undecided)
    finally:
        flint.ctx.prec = old_prec

    # keep what can touch the requested box
    found = [f for f in found if _intersect(f[0], f[1], rlo, rhi)]
    undecided = [u for u in undecided if _intersect(u[0], u[1], rlo, rhi)]
    found.sort(key=lambda f: tuple(f[2]))
    if found:
        roots = np.array([np.stack([f[0], f[1]], axis=1) for f in found])
        mids = np.array([f[2] for f in found])
    else:
        roots = np.zeros((0, N, 2))
        mids = np.zeros((0, N))
    und = (np.array([np.stack([u[0], u[1]], axis=1) for u in undecided]) if undecided
           else np.zeros((0, N, 2)))
    return Certificate(roots=roots, midpoints=mids, undecided=und, box=req,
                       boxes_examined=examined, complete=len(undecided) == 0,
                       seconds=time.perf_counter() - t0)
