"""Symbolic derivations (sympy) and high-precision constants (mpmath) behind the theory.

This module is **not** imported by ``import fplandscape.theory`` (sympy is slow to import);
import it explicitly: ``from fplandscape.theory import symbolic``. Every function *derives* its
result with sympy from a stated starting point and returns sympy expressions (or lambdified
functions); the ``check_*`` functions verify that a derived result equals the closed form used
in the numerical code.

Contents
--------
* :func:`small_d_expansion` — (E5) at small d. Start from

      Φ₂(a, a; ρ) = Φ(a) − 2 T(a, h),   h = √((1−ρ)/(1+ρ)),
      T(a, h) = (1/2π) ∫₀^h exp(−a²(1+x²)/2)/(1+x²) dx      (Owen's T).

  Series of the integrand in x and term-by-term integration give

      T(a, h) = h φ(a)/√(2π) − h³ (a² + 2) φ(a)/(6√(2π)) + O(h⁵),

  so T(a, h) = h φ(a)/√(2π) + O(h³). With ρ = 1 − 2d, h = √(d/(1−d)) and, writing d = s²,

      (1−d) ln Φ₂(J, J; 1−2d) = ln Φ(J) − c(J) √d − [ln Φ(J) + c(J)²/2] d + O(d^{3/2}),
      c(J) = √(2/π) φ(J)/Φ(J).

  The second-order term −c²d/2 comes from ln(1 − ε) = −ε − ε²/2 with ε = c√d.
* :func:`c_coefficient`, :func:`check_c_coefficient`, :func:`c_coefficient_function`.
* :func:`local_entropy_small_d_series` — the resulting expansion of φ_ann(d) (E5) for J_D > 0:

      φ_ann(d) = −c √d + H₂(d) + d [ ln((2Φ(J) − 1)/Φ(J)) − c²/2 ] + O(d^{3/2}),

  using Φ₂(J, J; −1 + 2d) = 2Φ(J) − 1 + O(e^{−J²/(2d)}) for J > 0 (the density φ₂ of the
  bivariate normal at (J, J) vanishes like exp(−J²/(1+ρ)) as ρ → −1).
* :func:`saddle_derivatives` — derivatives of the single-site function of (E6),

      ln F(g, m, q) = ln( e^m Φ(A₊) + e^(−m) Φ(A₋) ),   A± = (J ± g)/√(1−q):

      ∂_m ln F = M = tanh(m + ½ ln(Φ(A₊)/Φ(A₋))),
      ∂_g ln F = [ (1+M)/2 · R(A₊) − (1−M)/2 · R(A₋) ] / √(1−q),   R = φ/Φ,
      ∂_q ln F |_g = −½ ∂²_g F / F          (heat-equation identity, used for the λ₂ equation).

  Returned as differences (derived − claimed) that vanish identically;
  :func:`check_saddle_derivatives` verifies this symbolically where sympy manages and always
  numerically at random points with 50-digit arithmetic.
* :func:`tanaka_edwards_value` — ln 2 + max_t [−t²/2 + ln Φ(t)] (the Tanaka–Edwards number of
  one-spin-flip stable states of the SK model per spin, 0.199228...), with mpmath.
"""
from __future__ import annotations

from functools import lru_cache


def _sympy():
    import sympy  # lazy: sympy is only needed when this module's functions are called

    return sympy


def _gauss(sp, x):
    """(Φ(x), φ(x)) as sympy expressions: Φ = (1 + erf(x/√2))/2, φ = exp(−x²/2)/√(2π)."""
    return (1 + sp.erf(x / sp.sqrt(2))) / 2, sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)


# ------------------------------------------------------------------------------------------
# (E5) small-d expansion


@lru_cache(maxsize=1)
def small_d_expansion() -> dict:
    """Derive the small-d expansion of (1−d) ln Φ₂(J, J; 1−2d) (see the module docstring).

    Steps (all done by sympy here):

    1. Series of the Owen's-T integrand exp(−a²(1+x²)/2)/(1+x²) in x to O(x⁴), integrated
       over [0, h] and divided by 2π: T(a, h) to O(h⁵).
    2. Leading term T(a, h) = h φ(a)/√(2π) + O(h³).
    3. ρ = 1 − 2d, h = √((1−ρ)/(1+ρ)) = √(d/(1−d)), d = s² (s = √d > 0); series of
       (1−d) ln[Φ(J) − 2T(J, h)] in s to O(s³).

    Returns a dict of sympy objects: symbols ``J``, ``s`` (= √d), ``a``, ``h``;
    ``T_series`` (T to O(h⁵)), ``T_leading`` (coefficient of h), ``expansion``
    (constant + c₁ s + c₂ s²), ``c`` (= −c₁, the coefficient of −√d), ``d_coefficient`` (c₂).
    """
    sp = _sympy()
    a, h, x = sp.symbols("a h x", positive=True)
    J = sp.Symbol("J", real=True)
    s = sp.Symbol("s", positive=True)
    integrand = sp.exp(-a**2 * (1 + x**2) / 2) / (1 + x**2)
    series = sp.series(integrand, x, 0, 4).removeO()
    T = sp.expand(sp.integrate(series, (x, 0, h)) / (2 * sp.pi))
    T_leading = sp.simplify(T.coeff(h, 1))
    Phi_J, _ = _gauss(sp, J)
    d = s**2
    h_of_d = sp.sqrt(d / (1 - d))  # ρ = 1 − 2d
    expr = (1 - d) * sp.log(Phi_J - 2 * T.subs({a: J, h: h_of_d}))
    expansion = sp.expand(sp.series(expr, s, 0, 3).removeO())
    c1 = sp.simplify(expansion.coeff(s, 1))
    c2 = sp.simplify(expansion.coeff(s, 2))
    return {
        "J": J, "s": s, "a": a, "h": h,
        "T_series": T, "T_leading": T_leading,
        "expansion": expansion, "c": sp.simplify(-c1), "d_coefficient": c2,
    }


def c_coefficient():
    """c(J) (sympy expression in the symbol ``J``), the coefficient of −√d in
    (1−d) ln Φ₂(J, J; 1−2d), as derived by :func:`small_d_expansion`.
    It equals √(2/π) φ(J)/Φ(J) (see :func:`check_c_coefficient`)."""
    return small_d_expansion()["c"]


def c_coefficient_closed_form():
    """The closed form √(2/π) φ(J)/Φ(J) of (E5), as a sympy expression in ``J``."""
    sp = _sympy()
    J = small_d_expansion()["J"]
    Phi_J, phi_J = _gauss(sp, J)
    return sp.sqrt(2 / sp.pi) * phi_J / Phi_J


def check_c_coefficient() -> bool:
    """True iff sympy simplifies (derived c(J)) − √(2/π) φ(J)/Φ(J) to 0, and the leading term
    of Owen's T simplifies to h φ(a)/√(2π)."""
    sp = _sympy()
    exp = small_d_expansion()
    a = exp["a"]
    _, phi_a = _gauss(sp, a)
    t_ok = sp.simplify(exp["T_leading"] - phi_a / sp.sqrt(2 * sp.pi)) == 0
    return bool(t_ok and sp.simplify(c_coefficient() - c_coefficient_closed_form()) == 0)


def c_coefficient_function(modules: str = "mpmath"):
    """The derived c(J) lambdified (``modules`` as for :func:`sympy.lambdify`)."""
    sp = _sympy()
    return sp.lambdify(small_d_expansion()["J"], c_coefficient(), modules=modules)


def local_entropy_small_d_series():
    """φ_ann(d) (E5) for J > 0 to O(d^{3/2}), as a sympy expression in (J, s = √d):

        −c s + H₂(s²) + s² [ ln((2Φ(J) − 1)/Φ(J)) − c²/2 ],

    assembled from S₂(1−2d) − s(J) = ln 2 + H₂(d) + (1−d) ln Φ₂(J,J;1−2d) + d ln Φ₂(J,J;−1+2d)
    − ln 2 − ln Φ(J) with the derived expansion of the (1−d) term and
    d ln Φ₂(J,J;−1+2d) = d ln(2Φ(J) − 1) + o(d^{3/2}) (J > 0). Returns (expression, J, s)."""
    sp = _sympy()
    exp = small_d_expansion()
    J, s = exp["J"], exp["s"]
    Phi_J, _ = _gauss(sp, J)
    d = s**2
    binary = -d * sp.log(d) - (1 - d) * sp.log(1 - d)
    series = exp["expansion"] + d * sp.log(2 * Phi_J - 1) - sp.log(Phi_J) + binary
    return sp.expand(series), J, s


def local_entropy_small_d_d_coefficient():
    """The coefficient of d (besides H₂(d)) in the small-d expansion of φ_ann, as derived:
    (d-coefficient of (1−d) ln Φ₂(J,J;1−2d)) + ln(2Φ(J) − 1) (sympy expression in J); it
    equals ln((2Φ(J) − 1)/Φ(J)) − c(J)²/2 (see :func:`check_local_entropy_small_d`)."""
    sp = _sympy()
    exp = small_d_expansion()
    Phi_J, _ = _gauss(sp, exp["J"])
    return exp["d_coefficient"] + sp.log(2 * Phi_J - 1)


def check_local_entropy_small_d() -> bool:
    """True iff the derived d-coefficient simplifies to ln((2Φ − 1)/Φ) − c²/2 (c the closed
    form), i.e. the −c²d/2 term is really there."""
    sp = _sympy()
    J = small_d_expansion()["J"]
    Phi_J, _ = _gauss(sp, J)
    closed = sp.log(2 * Phi_J - 1) - sp.log(Phi_J) - c_coefficient_closed_form() ** 2 / 2
    diff = sp.expand_log(local_entropy_small_d_d_coefficient() - closed, force=True)
    return bool(sp.simplify(diff) == 0)


# ------------------------------------------------------------------------------------------
# (E6) single-site derivatives


@lru_cache(maxsize=1)
def saddle_derivatives() -> dict:
    """Derive the derivatives of ln F(g, m, q) = ln(e^m Φ(A₊) + e^(−m) Φ(A₋)),
    A± = (J ± g)/√(1−q), and return the differences to the closed forms of (E6):

    * ``dm``: ∂_m ln F − tanh(m + ½ ln(Φ(A₊)/Φ(A₋)))
    * ``dg``: ∂_g ln F − [(1+M)/2 R(A₊) − (1−M)/2 R(A₋)]/√(1−q),  M = tanh(...) as above
    * ``dq``: ∂_q ln F|_g + ½ ∂²_g F / F

    each of which vanishes identically. Also returned: the symbols ``J, g, m, q`` and ``lnF``.
    """
    sp = _sympy()
    J, g, m = sp.symbols("J g m", real=True)
    q = sp.Symbol("q", positive=True)
    sq = sp.sqrt(1 - q)
    Ap, Am = (J + g) / sq, (J - g) / sq
    Phip, phip = _gauss(sp, Ap)
    Phim, phim = _gauss(sp, Am)
    F = sp.exp(m) * Phip + sp.exp(-m) * Phim
    lnF = sp.log(F)
    M = sp.tanh(m + sp.log(Phip / Phim) / 2)
    Rp, Rm = phip / Phip, phim / Phim
    return {
        "J": J, "g": g, "m": m, "q": q, "lnF": lnF, "M": M,
        "dm": sp.diff(lnF, m) - M,
        "dg": sp.diff(lnF, g) - ((1 + M) / 2 * Rp - (1 - M) / 2 * Rm) / sq,
        "dq": sp.diff(lnF, q) + sp.diff(F, g, 2) / (2 * F),
    }


def _simplifies_to_zero(sp, expr) -> bool:
    """Symbolic zero test. Each erf(·) left after differentiation (i.e. each Φ(A±)) is replaced
    by an independent positive symbol — a stronger statement, since the identities must then
    hold for any values of Φ(A±) — tanh is rewritten via exp, and the result simplified. If that
    does not reach 0, the unsubstituted expression is simplified as a fallback."""
    erfs = sorted(expr.atoms(sp.erf), key=str)
    reps = {e: 2 * sp.Symbol(f"P{i}", positive=True) - 1 for i, e in enumerate(erfs)}
    if sp.simplify(expr.subs(reps).rewrite(sp.exp)) == 0:
        return True
    return sp.simplify(expr.rewrite(sp.exp)) == 0


def check_saddle_derivatives(n_points: int = 20, seed: int = 0, dps: int = 50,
                             symbolic: bool = True) -> dict:
    """Verify the identities of :func:`saddle_derivatives`.

    Numerically: evaluate each difference with ``dps``-digit mpmath arithmetic at ``n_points``
    random points (J ∈ [−2, 2], g ∈ [−3, 3], m ∈ [−2, 2], q ∈ (0.05, 0.95)); returns the
    largest |difference| per identity under ``"max_abs"``. Symbolically (``symbolic=True``):
    whether sympy simplifies each difference to 0, under ``"symbolic"`` (None if not tried).
    """
    import mpmath
    import numpy as np

    sp = _sympy()
    der = saddle_derivatives()
    syms = (der["J"], der["g"], der["m"], der["q"])
    rng = np.random.default_rng(seed)
    pts = np.column_stack([
        rng.uniform(-2, 2, n_points), rng.uniform(-3, 3, n_points),
        rng.uniform(-2, 2, n_points), rng.uniform(0.05, 0.95, n_points),
    ])
    out = {"max_abs": {}, "symbolic": {}}
    with mpmath.workdps(dps):
        for key in ("dm", "dg", "dq"):
            fn = sp.lambdify(syms, der[key], modules="mpmath")
            worst = mpmath.mpf(0)
            for row in pts:
                val = fn(*[mpmath.mpf(float(v)) for v in row])
                worst = max(worst, abs(val))
            out["max_abs"][key] = float(worst)
            out["symbolic"][key] = _simplifies_to_zero(sp, der[key]) if symbolic else None
    return out


# ------------------------------------------------------------------------------------------
# (E2η) Tanaka–Edwards constant


def tanaka_edwards_value(dps: int = 30):
    """ln 2 + max_t [−t²/2 + ln Φ(t)] as an mpmath ``mpf`` at ``dps`` digits.

    (E2η) at η = 1, J_D = 0. The maximiser solves t = φ(t)/Φ(t) (the objective is strictly
    concave: its second derivative is −1 − R(t)(t + R(t)) < 0); it is found by
    :func:`mpmath.findroot` from t = 0.5. Literature value 0.199228 (Tanaka & Edwards 1980).
    """
    import mpmath

    with mpmath.workdps(dps + 10):
        def slope(t):
            return -t + mpmath.npdf(t) / mpmath.ncdf(t)

        t_star = mpmath.findroot(slope, mpmath.mpf("0.5"))
        value = mpmath.log(2) - t_star**2 / 2 + mpmath.log(mpmath.ncdf(t_star))
    with mpmath.workdps(dps):
        return +value
