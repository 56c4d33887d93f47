"""Plasticity: local perceptron-like updates with margins (docs/learning.md#plasticity).

On the final state of a presentation (hidden s^l after the free phase, readout clamped to the
target y ∈ {±1}^C, input x), stabilities are computed **without** feedback and label:

    Δ_i^l = s_i^l h_i^l  (h from :func:`fplandscape.learn.network.hidden_fields`, J_D included),
    Δ_c   = y_c h_c,      h_c = Σ_i W^out_ci s_i^{L−1}.

A hidden unit is *unstable* when Δ_i ≤ J_D + κ_h (the margin κ_h counted on top of the
self-coupling, i.e. the rest of the field must exceed κ_h), a readout unit when Δ_c ≤ κ_out. Each
incoming learnable weight of an unstable unit moves towards the current configuration, averaged
over the batch of size B with the factor 1/√B:

    ΔJ^l_ij      = η_J   /√B Σ_b m_i s_i s_j        (j ≠ i, same module; J_ii = J_D stays)
    ΔW^{in,l}_in = η_in  /√B Σ_b m_i s_i^l x_n      (every module l receiving the input:
                                                    all of them, or module 0 with input_to="first")
    ΔK^up_{l,ij} = η_J   /√B Σ_b m_i s_i^{l+1} s_j^l  ; ΔK^down likewise (if present)
    ΔW^out_ci    = η_out /√B Σ_b m_c y_c s_i^{L−1}
    ΔW^{skip,l}_ci = η_out /√B Σ_b m_c y_c s_i^l      (``arch.skip``: readout from module l)

(m = 1 for unstable units, 0 otherwise). Then multiplicative weight decay, SGD convention:
every learnable block W ← (1 − η_W γ) W with its own learning rate η_W and the decay γ
(``weight_decay``; ``weight_decay_in``, when given, for W^in instead); the diagonal of J is
reset to J_D. W^back is never learned.

**Readout code** (``readout_code``). ``"pm1"`` (default): the readout learns with the ±1 target
y_c, as above. ``"reference"``: the reference code's effective readout code. Its readout state
passes twice through the in-place rescaling of the feedback code (+1 → √C/2, anything but −1 →
×√C/2, −1 → −1/2) before its plasticity reads it, so it learns with
a_c = C/4 for the true class and −√C/4 for the others (2.5 and −0.79 for C = 10) in place of
y_c: Δ_c = a_c h_c ≤ κ_out marks a readout unit unstable (margins κ_out/a_c: 1.2 for the true
class, 3.8 for the others) and ΔW^out_ci ∝ m_c a_c s_i. Measured on the reference with update
probability 1 (benchmarks/learn_reference.py); with p < 1 the reference rescales a readout
unit that missed the last sweep once more, which is not reproduced.

**Units of the learning rates** (``lr_scale``). With ``"fan_in"`` (default) the rates are given
in units of the typical initial weight of their block, as in the reference code ("lr scaled by
typical weight size"): the step actually applied is η_W = lr/√(fan-in), i.e.
η_J = lr_j/√H (J and K), η_in = lr_in/√N (so the input *field* moves by λ_in·lr_in/√N per
unit of Σ m s x, the reference's normalisation), η_out = lr_out/√H (√D for a baseline readout
on D features). The reference hyper-parameters (lr_J = 0.005, lr_in = 0.03, lr_out = 0.1) are
meant in these units. ``"none"`` applies the rates as given (η_W = lr). The decay uses the
applied rate, (1 − η_W γ), as the reference does.
``learn_j = False`` freezes J (and K), ``learn_in = False`` freezes W^in (ablations).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Optional

import numpy as np

from ..errors import InputError, check_choice
from .network import Network, hidden_fields, input_field, readout_fields

__all__ = ["Plasticity", "stabilities", "plasticity_step", "LR_SCALES", "READOUT_CODES"]

LR_SCALES = ("fan_in", "none")
READOUT_CODES = ("pm1", "reference")


@dataclass(frozen=True)
class Plasticity:
    """Learning rates per block, margins and weight decay (defaults: the reference protocol)."""

    lr_j: float = 0.005
    lr_in: float = 0.03
    lr_out: float = 0.1
    kappa_h: float = 0.9
    kappa_out: float = 3.0
    weight_decay: float = 0.005
    learn_j: bool = True
    learn_in: bool = True
    lr_scale: str = "fan_in"
    readout_code: str = "pm1"
    weight_decay_in: Optional[float] = None

    def __post_init__(self):
        check_choice(self.lr_scale, "lr_scale", LR_SCALES)
        check_choice(self.readout_code, "readout_code", READOUT_CODES)
        names = ("lr_j", "lr_in", "lr_out", "kappa_h", "kappa_out", "weight_decay")
        if self.weight_decay_in is not None:
            names += ("weight_decay_in",)
        for name in names:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                    or not math.isfinite(v) or (v < 0 and not name.startswith("kappa")):
                raise InputError(f"{name} must be a finite number"
                                 f"{'' if name.startswith('kappa') else ' ≥ 0'}, got {v!r}")

    @classmethod
    def reference(cls, lam: float = 0.0, **changes) -> "Plasticity":
        """The reference code's plasticity in its multi-module λ experiment
        (``configs/lambda_advantage.yaml``): the default rates and margins with the hidden
        margin raised by λ (its threshold 0.9 + J_D + λ), no decay of W^in, the reference's
        readout code (module docstring); ``changes`` override fields."""
        kw = dict(kappa_h=0.9 + lam, weight_decay_in=0.0, readout_code="reference")
        kw.update(changes)
        return cls(**kw)

    def as_dict(self) -> dict:
        return asdict(self)

    def applied(self, lr: float, fan_in: int) -> float:
        """The step size applied to a block with this fan-in (module docstring)."""
        return lr / math.sqrt(fan_in) if self.lr_scale == "fan_in" else lr

    def rates(self, arch) -> tuple:
        """Applied (η_J, η_in, η_out) for an architecture."""
        return (self.applied(self.lr_j, arch.hidden), self.applied(self.lr_in, arch.n_in),
                self.applied(self.lr_out, arch.hidden))


def readout_targets(y, rule: "Plasticity") -> np.ndarray:
    """The code the readout learns with: y itself (``"pm1"``) or the reference's a_c = C/4
    for y_c = +1 and −√C/4 for y_c = −1 (``"reference"``; module docstring)."""
    y = np.asarray(y, dtype=np.float64)
    if rule is None or rule.readout_code == "pm1":
        return y
    C = y.shape[-1]
    return np.where(y > 0, C / 4.0, -math.sqrt(C) / 4.0)


def stabilities(net: Network, x, S, y, rule: Optional["Plasticity"] = None):
    """(hidden Δ (L, B, H), readout Δ (B, C)) without feedback, float64 (module docstring;
    the readout's with the code of ``rule.readout_code``, y itself when ``rule`` is None)."""
    h = hidden_fields(net, S, input_field(net, x), None)
    return S * h, readout_targets(y, rule) * readout_fields(net, S)


def plasticity_step(net: Network, x, S, y, rule: Plasticity) -> dict:
    """Apply one plasticity step in place (module docstring); returns the numbers of unstable
    hidden and readout units of the batch (``hidden_unstable``, ``readout_unstable``)."""
    arch = net.arch
    B = x.shape[0]
    dh, do = stabilities(net, x, S, y, rule)
    mh = dh <= arch.jd + rule.kappa_h
    mo = do <= rule.kappa_out
    G = np.where(mh, S, 0.0)                   # m_i s_i
    c = 1.0 / math.sqrt(B)
    eta_j, eta_in, eta_out = rule.rates(arch)
    gamma_in = rule.weight_decay if rule.weight_decay_in is None else rule.weight_decay_in
    decay = 1.0 - np.array([rule.weight_decay * eta_j, gamma_in * eta_in,
                            rule.weight_decay * eta_out])
    if rule.learn_j:
        for l in range(arch.layers):
            net.J[l] += (eta_j * c) * (G[l].T @ S[l])
        net.J *= decay[0]
        for l in range(arch.layers):
            np.fill_diagonal(net.J[l], arch.jd)
        if net.K_up is not None:
            for l in range(arch.layers - 1):
                net.K_up[l] += (eta_j * c) * (G[l + 1].T @ S[l])
                net.K_down[l] += (eta_j * c) * (G[l].T @ S[l + 1])
            net.K_up *= decay[0]
            net.K_down *= decay[0]
    if rule.learn_in:
        for l in range(net.W_in.shape[0]):
            net.W_in[l] += (eta_in * c) * (G[l].T @ x)
        net.W_in *= decay[1]
    Y = np.where(mo, readout_targets(y, rule), 0.0).T
    net.W_out += (eta_out * c) * (Y @ S[-1])
    net.W_out *= decay[2]
    if net.W_skip is not None:
        for l in range(arch.layers - 1):
            net.W_skip[l] += (eta_out * c) * (Y @ S[l])
        net.W_skip *= decay[2]
    return {"hidden_unstable": int(mh.sum()), "readout_unstable": int(mo.sum())}
