"""Architecture and relaxation dynamics of the learning network (docs/learning.md#architecture).

Input x ∈ {±1}^N, L recurrent modules of H binary units s^l ∈ {±1}^H (l = 0..L−1), a readout
of C units. Field of hidden unit i of module l:

    h_i^l = Σ_j J^l_ij s_j^l                                   (J^l_ii = J_D fixed, off-diag. learnable)
          + [l < L_in]   λ_in Σ_n W^{in,l}_in x_n               (input projection, learnable)
          + λ (s_i^{l−1} + s_i^{l+1})                           (one-to-one, fixed; open ends)
          + Σ_j K^up_{l−1,ij} s_j^{l−1} + Σ_j K^down_{l,ij} s_j^{l+1}   (optional, learnable)
          + [l = L−1, steered phase only] λ_back Σ_c W^back_ic ŷ_c      (fixed random feedback)

readout field h_c = Σ_i W^out_ci s_i^{L−1} (readout and feedback act on module L−1 only).

Skip connections (``skip=True``, the reference code's multi-module wiring, off by default as the
field formula of docs/learning.md#architecture has none): the feedback λ_back W^back ŷ enters
*every* module (the same fixed matrix), and the readout reads every module,
h_c = Σ_i W^out_ci s_i^{L−1} + Σ_{l<L−1} Σ_i W^{skip,l}_ci s_i^l with learnable
W^{skip,l} ~ N(0, 1)/√H (stored as ``W_skip``, (L−1, C, H), learned like W^out). With L = 1 the
option changes nothing.

Input wiring (``input_to``): ``"all"`` (default; the field formula of docs/learning.md, which has
the input term in every module) gives every module l its own learnable projection W^{in,l}
(L_in = L); ``"first"`` feeds the input to module 0 only (L_in = 1; then with L > 1, λ = 0 and no K
couplings the last module never sees the input). With L = 1 the two wirings are the same network.
``W_in`` is stored as an (L_in, H, N) array.

Initialisation: off-diagonal J, K ~ N(0, 1)/√H, W^{in,l} ~ N(0, 1)/√N (independent per module),
W^out ~ N(0, 1)/√H, W^back ~ N(0, 1)/√C (never learned), all drawn from one
``numpy.random.Generator`` in the order J, W^{in,0}, W^out, W^back, K^up, K^down, then
W^{in,1} … W^{in,L−1} (``"all"`` only), then W^{skip} (``skip`` only), so the same seed gives
the same couplings; the extra
projections of ``"all"`` are drawn last, hence for a given seed every block shared with
``"first"`` (including W^{in,0}) is the same in both wirings, and one-module networks are
unchanged by the option.

Feedback code ŷ (``feedback_code``): ``"scaled"`` (default, as the reference code) drives the
feedback with ŷ_c = √C/2 for the true class and −1/2 for the others, so that the class-specific
part of the feedback field (variance C/4·1/C = 1/4) is as large as the common part of the nine
other classes ((C−1)/4·1/C ≈ 0.23); with the plain one-vs-all code (``"pm1"``, ŷ = ±1) the common
part has 9 times the variance of the class-specific one.

Dynamics (float64 throughout, update ``s ← sign(h)`` with sign(0) = +1,
:func:`fplandscape.model.sign_update`):

* start state s = 0 in every module;
* warm-up: L synchronous sweeps without feedback, in one of two orders (``warmup``):
  ``"front"`` (default): sweep t (t = 0..L−1) updates modules 0..t only, so module l keeps its
  start state until the front reaches it (with ``input_to="all"`` module l then starts from its
  own input and λ s^{l−1}); every unit of those modules takes its new sign.
  ``"all"`` (the reference code's schedule): every sweep updates every module at once from the
  previous state, and with ``update_prob`` p < 1 each unit takes its new sign with probability p
  (the same masks as in the sweeps below, drawn from the same Generator first).
  With L = 1 both are one sweep s = sign(λ_in W^in x) (for ``"all"`` with p < 1 only the units
  the mask lets update; the others keep s = 0 until a later sweep updates them);
* then ``sweeps`` more sweeps, either **synchronous** (all units from the fields of the previous
  state; with ``update_prob`` p < 1 each unit takes its new sign independently with probability p,
  the rest keep theirs) or **asynchronous** (one sweep visits every unit once in a fresh uniformly
  random order with current fields; compiled kernel :func:`fplandscape.sim.dynamics.run_dynamics`
  on the augmented coupling matrix below, stopping early when a sweep changes nothing, which is
  the same as running all sweeps).

Augmented coupling matrix (:func:`full_couplings`): the whole network as one ordinary coupling
matrix of the model, over the state ``[x (N), 1 (bias), s^0 … s^{L−1} (L·H), y (C)]`` (the input
units couple to every module that receives the input: blocks λ_in W^{in,l}). Clamped
units (inputs, the bias unit, a clamped readout) have a row with a single unit self-coupling, so
their field is their own state and they never flip; the feedback field λ_back W^back ŷ becomes
couplings to the readout units and the bias (ŷ = a·y + b). With the readout *free* (row
W^out, no self-coupling), ``model.is_fixed_point(full_couplings(net), full_state(x, s, y))`` is
exactly the strict predicate "every hidden unit and every readout unit agrees with its field",
checked from scratch in float64.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .. import model
from ..errors import InputError, check_count, check_choice

__all__ = ["Architecture", "Network", "init_network", "feedback_code", "one_vs_all",
           "relax", "hidden_fields", "input_field", "readout_fields", "full_couplings",
           "full_state", "MODES", "FEEDBACK_CODES", "INPUT_TO", "WARMUPS",
           "FEEDBACK_FROM"]

MODES = ("sync", "async")
WARMUPS = ("front", "all")
FEEDBACK_FROM = ("target", "readout")
FEEDBACK_CODES = ("scaled", "pm1")
INPUT_TO = ("all", "first")


def _real(name, v, *, nonneg=False):
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
            or not math.isfinite(v):
        raise InputError(f"{name} must be a finite real number, got {v!r}")
    if nonneg and v < 0:
        raise InputError(f"{name} must be ≥ 0, got {v}")


@dataclass(frozen=True)
class Architecture:
    """Sizes and fixed couplings: ``n_in`` N, ``hidden`` H per module, ``classes`` C, ``layers``
    L, self-coupling ``jd``, one-to-one inter-module coupling ``lam`` (λ ≥ 0), input strength
    ``lam_in``, feedback strength ``lam_back``, ``inter`` (learnable fully connected couplings
    between neighbouring modules), ``feedback_code``, ``input_to`` (``"all"``: every module has
    its own input projection, ``"first"``: module 0 only), ``skip`` (feedback into and readout
    from every module; module docstring)."""

    n_in: int
    hidden: int
    classes: int = 10
    layers: int = 1
    jd: float = 0.5
    lam: float = 0.0
    lam_in: float = 5.0
    lam_back: float = 0.9
    inter: bool = False
    feedback_code: str = "scaled"
    input_to: str = "all"
    skip: bool = False

    def __post_init__(self):
        check_count(self.n_in, "n_in", minimum=1)
        check_count(self.hidden, "hidden", minimum=1)
        check_count(self.classes, "classes", minimum=2)
        check_count(self.layers, "layers", minimum=1)
        for name in ("jd", "lam_in", "lam_back"):
            _real(name, getattr(self, name))
        _real("lam", self.lam, nonneg=True)
        check_choice(self.feedback_code, "feedback_code", FEEDBACK_CODES)
        check_choice(self.input_to, "input_to", INPUT_TO)

    @property
    def input_modules(self) -> int:
        """L_in: the number of modules receiving the input (modules 0..L_in−1)."""
        return self.layers if self.input_to == "all" else 1

    def as_dict(self) -> dict:
        return asdict(self)


class Network:
    """The couplings of one network (mutable float64 arrays; see the module docstring).

    ``J`` (L, H, H) with diagonal J_D; ``W_in`` (L_in, H, N) (L_in = ``arch.input_modules``);
    ``W_out`` (C, H); ``W_back`` (H, C);
    ``K_up`` (L−1, H, H): module l → l+1, ``K_down`` (L−1, H, H): module l+1 → l (None unless
    ``arch.inter``); ``W_skip`` (L−1, C, H): readout from modules 0..L−2 (None unless
    ``arch.skip``).
    """

    BLOCKS = ("J", "W_in", "W_out", "W_back", "K_up", "K_down", "W_skip")

    def __init__(self, arch: Architecture, J, W_in, W_out, W_back, K_up=None, K_down=None,
                 W_skip=None):
        self.arch = arch
        self.J, self.W_in, self.W_out, self.W_back = J, W_in, W_out, W_back
        self.K_up, self.K_down = K_up, K_down
        self.W_skip = W_skip

    def arrays(self) -> dict:
        """The coupling blocks by name (those that exist)."""
        return {k: getattr(self, k) for k in self.BLOCKS if getattr(self, k) is not None}

    def copy(self) -> "Network":
        return Network(self.arch, **{k: v.copy() for k, v in self.arrays().items()})

    @classmethod
    def from_arrays(cls, arch: Architecture, arrays: dict) -> "Network":
        """Rebuild from :meth:`arrays` (shapes checked)."""
        L, H, N, C = arch.layers, arch.hidden, arch.n_in, arch.classes
        shapes = {"J": (L, H, H), "W_in": (arch.input_modules, H, N), "W_out": (C, H),
                  "W_back": (H, C)}
        if arch.inter:
            shapes.update(K_up=(L - 1, H, H), K_down=(L - 1, H, H))
        if arch.skip:
            shapes.update(W_skip=(L - 1, C, H))
        out = {}
        for k, shape in shapes.items():
            if k not in arrays:
                raise InputError(f"coupling block {k} is missing")
            a = np.array(arrays[k], dtype=np.float64)
            if k == "W_in" and a.shape == (H, N) and shape[0] == 1:
                a = a[None]          # checkpoints written before input_to: one (H, N) projection
            if a.shape != shape or not np.all(np.isfinite(a)):
                raise InputError(f"coupling block {k} has shape {a.shape}, expected {shape} "
                                 "(finite values)")
            out[k] = a
        return cls(arch, **out)


def init_network(arch: Architecture, seed=0) -> Network:
    """Random initial couplings (module docstring), drawn from ``model.as_generator(seed)``."""
    rng = model.as_generator(seed)
    L, H, N, C = arch.layers, arch.hidden, arch.n_in, arch.classes
    J = rng.standard_normal((L, H, H)) / math.sqrt(H)
    for l in range(L):
        np.fill_diagonal(J[l], arch.jd)
    W_in = np.empty((arch.input_modules, H, N))
    W_in[0] = rng.standard_normal((H, N)) / math.sqrt(N)
    W_out = rng.standard_normal((C, H)) / math.sqrt(H)
    W_back = rng.standard_normal((H, C)) / math.sqrt(C)
    K_up = K_down = None
    if arch.inter:
        K_up = rng.standard_normal((L - 1, H, H)) / math.sqrt(H)
        K_down = rng.standard_normal((L - 1, H, H)) / math.sqrt(H)
    for l in range(1, arch.input_modules):           # "all": drawn last (module docstring)
        W_in[l] = rng.standard_normal((H, N)) / math.sqrt(N)
    W_skip = rng.standard_normal((L - 1, C, H)) / math.sqrt(H) if arch.skip else None
    return Network(arch, J, W_in, W_out, W_back, K_up, K_down, W_skip)


# --------------------------------------------------------------------------------------------
# codes and fields


def one_vs_all(labels, classes: int) -> np.ndarray:
    """Targets y ∈ {±1}^C: +1 at the label, −1 elsewhere (float64, B × C)."""
    labels = np.asarray(labels)
    y = -np.ones((labels.shape[0], classes))
    y[np.arange(labels.shape[0]), labels] = 1.0
    return y


def feedback_code(arch: Architecture) -> tuple:
    """(a, b) with ŷ = a·y + b: ``scaled`` maps y = +1 to √C/2 and y = −1 to −1/2; ``pm1`` is
    the identity (a, b) = (1, 0)."""
    if arch.feedback_code == "pm1":
        return 1.0, 0.0
    top, rest = math.sqrt(arch.classes) / 2.0, -0.5
    return (top - rest) / 2.0, (top + rest) / 2.0


def input_field(net: Network, x) -> np.ndarray:
    """λ_in W^{in,l} x for a batch, one per module receiving the input: (L_in, B, H)."""
    x = np.asarray(x, dtype=np.float64)
    return net.arch.lam_in * np.stack([x @ W.T for W in net.W_in])


def feedback_field(net: Network, y) -> np.ndarray:
    """λ_back W^back ŷ for a batch of ±1 targets y (B × H)."""
    a, b = feedback_code(net.arch)
    return net.arch.lam_back * ((a * y + b) @ net.W_back.T)


def hidden_fields(net: Network, S, ext_in, ext_back=None, modules=None) -> np.ndarray:
    """Fields of the hidden units, shape (L, B, H), for states S (L, B, H); ``ext_in``
    (L_in, B, H) holds the input fields of modules 0..L_in−1 (:func:`input_field`; a single
    (B, H) array is module 0's), ``ext_back`` (B, H) the feedback field of module L−1, or of
    every module with ``arch.skip`` (None: off). ``modules``: compute only modules 0..modules−1 (others left 0)."""
    arch = net.arch
    L = arch.layers
    top = L if modules is None else modules
    ext_in = np.asarray(ext_in)
    if ext_in.ndim == 2:
        ext_in = ext_in[None]
    h = np.zeros_like(S)
    for l in range(top):
        h[l] = S[l] @ net.J[l].T
        if l < ext_in.shape[0]:
            h[l] += ext_in[l]
        if ext_back is not None and (l == L - 1 or arch.skip):
            h[l] += ext_back
        if l > 0:
            if arch.lam:
                h[l] += arch.lam * S[l - 1]
            if net.K_up is not None:
                h[l] += S[l - 1] @ net.K_up[l - 1].T
        if l < L - 1:
            if arch.lam:
                h[l] += arch.lam * S[l + 1]
            if net.K_down is not None:
                h[l] += S[l + 1] @ net.K_down[l].T
    return h


def readout_fields(net: Network, S) -> np.ndarray:
    """h_c = W^out s^{L−1} (+ Σ_l W^{skip,l} s^l with ``arch.skip``) (B × C)."""
    h = S[-1] @ net.W_out.T
    if net.W_skip is not None:
        for l in range(net.arch.layers - 1):
            h += S[l] @ net.W_skip[l].T
    return h


# --------------------------------------------------------------------------------------------
# relaxation


def _masked(old, new, update_prob, rng):
    """Each unit takes its ``new`` value with probability p, else keeps ``old``."""
    if update_prob >= 1.0:
        return new
    return np.where(rng.random(old.shape) >= update_prob, old, new)


def _warmup(net, S, ext_in, warmup="front", update_prob=1.0, rng=None, Y=None):
    """The L warm-up sweeps of :func:`relax` in place (module docstring); with a readout state
    ``Y`` (``feedback_from="readout"``) it follows its free field in the same synchronous
    sweeps, ŷ ← sgn(h_c) with sgn(0) = 0 (the reference's torch.sign)."""
    if warmup == "all":         # the same sweeps, the first product skipped (learn.sweeps)
        from .sweeps import warmup_all

        warmup_all(net, S, ext_in, update_prob, rng, Y)
        return
    for t in range(net.arch.layers):   # "front": the input front reaches module t at sweep t
        if Y is not None:
            newY = np.sign(readout_fields(net, S))
        h = hidden_fields(net, S, ext_in, None, modules=t + 1)
        S[:t + 1] = model.sign_update(h[:t + 1])
        if Y is not None:
            Y[...] = _masked(Y, newY, update_prob, rng)


def _readout_feedback(net, Y):
    """λ_back W^back ŷ(Y) for a readout *state* Y ∈ {−1, 0, +1}: the code of
    :func:`feedback_code` where Y = ±1 and 0 where Y = 0 (the reference rescales its readout
    state in place the same way)."""
    a, b = feedback_code(net.arch)
    return net.arch.lam_back * (((a * Y + b) * (Y != 0)) @ net.W_back.T)


def relax(net: Network, x, *, y=None, steer: int = 0, free: int = 0, mode: str = "sync",
          update_prob: float = 1.0, rng=None, async_seed=None, async_first_run: int = 0,
          warmup: str = "front", feedback_from: str = "target"):
    """Relax a batch from the zero state: warm-up (``warmup`` = ``"front"`` or ``"all"``, module
    docstring), ``steer`` sweeps with the feedback of targets ``y`` (±1, B × C; required when
    steer > 0), then ``free`` sweeps without feedback. Returns the hidden states (L, B, H) as
    float64 ±1 (with ``warmup="all"``, p < 1 and no sweep after the warm-up a unit the masks
    never let update is still 0).

    ``mode``: ``"sync"`` (``rng`` needed when update_prob < 1) or ``"async"`` (random orders from
    :func:`fplandscape.sim.dynamics.run_dynamics` with ``seed=async_seed`` and
    ``first_run=async_first_run`` for the steered phase, and the next run indices shifted by
    the batch size for the free phase).

    ``feedback_from``: ``"target"`` (default) — the steering feedback is λ_back W^back ŷ(y)
    from the first steered sweep on (the readout clamped to the target). ``"readout"`` (the
    reference code's dynamics; synchronous mode only) — the readout is a state ŷ ∈ {−1, 0, 1}
    updated in the same synchronous sweeps as the hidden units: it starts at 0, follows its
    free field during the warm-up (ŷ ← sgn h_c, sgn 0 = 0) and is pulled to the target from the
    first steered sweep on, and the feedback of sweep k is driven by the state ŷ of sweep k − 1
    (:func:`_readout_feedback`; 0 for ŷ_c = 0). So the first steered sweep still feels the
    readout of the warm-up, and with p < 1 each readout unit reaches its target with
    probability p per sweep, as the hidden units do. The free phase is the same in both.
    """
    check_choice(mode, "mode", MODES)
    check_choice(warmup, "warmup", WARMUPS)
    check_choice(feedback_from, "feedback_from", FEEDBACK_FROM)
    if feedback_from == "readout" and mode != "sync":
        raise InputError("feedback_from='readout' needs synchronous updates (mode='sync')")
    x = np.asarray(x, dtype=np.float64)
    B = x.shape[0]
    L, H = net.arch.layers, net.arch.hidden
    S = np.zeros((L, B, H))
    ext_in = input_field(net, x)
    Y = np.zeros((B, net.arch.classes)) if feedback_from == "readout" else None
    _warmup(net, S, ext_in, warmup, update_prob if mode == "sync" else 1.0, rng, Y)
    cache = {}                  # shared by the phases of learn.sweeps (same couplings)
    if Y is not None:           # the steered phase with the readout state driving the feedback
        from .sweeps import readout_steer

        target = np.asarray(y, dtype=np.float64) if steer else None
        readout_steer(net, S, ext_in, Y, target, steer, update_prob, rng, free=free,
                      cache=cache)         # and the free sweeps, in one pass of the kernel
        steer = free = 0
    ext_back = feedback_field(net, y) if steer else None
    for phase, sweeps, back in (("steer", steer, ext_back), ("free", free, None)):
        if sweeps <= 0:
            continue
        if mode == "sync":      # incremental fields, the dense loop's decisions (learn.sweeps)
            from .sweeps import sync_phase

            sync_phase(net, S, ext_in, back, sweeps, update_prob, rng, cache=cache)
        else:
            from ..sim.dynamics import run_dynamics

            yy = y if y is not None else np.ones((B, net.arch.classes))
            Jf = full_couplings(net, feedback=back is not None, readout="clamped")
            init = full_state(x, S, yy).astype(np.int8)
            first = async_first_run + (0 if phase == "steer" else B)
            res = run_dynamics(Jf, init, rule="async", max_sweeps=sweeps, seed=async_seed,
                               first_run=first, return_stability=False)
            n0 = x.shape[1] + 1
            S[...] = res.states[:, n0:n0 + L * H].reshape(B, L, H).transpose(1, 0, 2)
    return S


# --------------------------------------------------------------------------------------------
# the whole network as one coupling matrix


def full_couplings(net: Network, *, feedback: bool = False, readout: str = "free") -> np.ndarray:
    """The augmented coupling matrix over ``[x, 1, s^0..s^{L−1}, y]`` (module docstring).

    ``feedback``: include the steering feedback (hidden ← readout, bias). ``readout``:
    ``"free"`` (rows W^out, zero self-coupling) or ``"clamped"`` (unit self-coupling only).
    """
    arch = net.arch
    N, H, L, C = arch.n_in, arch.hidden, arch.layers, arch.classes
    n0 = N + 1
    size = n0 + L * H + C
    Jf = np.zeros((size, size))
    Jf[np.arange(n0), np.arange(n0)] = 1.0
    for l in range(L):
        r = slice(n0 + l * H, n0 + (l + 1) * H)
        Jf[r, r] = net.J[l]
        if l < net.W_in.shape[0]:
            Jf[r, :N] = arch.lam_in * net.W_in[l]
        if l > 0:
            prev = slice(n0 + (l - 1) * H, n0 + l * H)
            Jf[r, prev] = arch.lam * np.eye(H) + (net.K_up[l - 1] if net.K_up is not None else 0)
        if l < L - 1:
            nxt = slice(n0 + (l + 1) * H, n0 + (l + 2) * H)
            Jf[r, nxt] = arch.lam * np.eye(H) + (net.K_down[l] if net.K_down is not None else 0)
    last = slice(n0 + (L - 1) * H, n0 + L * H)
    out = slice(n0 + L * H, size)
    if feedback:
        a, b = feedback_code(arch)
        for l in (range(L) if arch.skip else (L - 1,)):
            r = slice(n0 + l * H, n0 + (l + 1) * H)
            Jf[r, out] = arch.lam_back * a * net.W_back
            Jf[r, N] = arch.lam_back * b * net.W_back.sum(axis=1)
    if readout == "free":
        Jf[out, last] = net.W_out
        if net.W_skip is not None:
            for l in range(L - 1):
                Jf[out, n0 + l * H:n0 + (l + 1) * H] = net.W_skip[l]
    elif readout == "clamped":
        Jf[np.arange(n0 + L * H, size), np.arange(n0 + L * H, size)] = 1.0
    else:
        raise InputError(f"readout must be 'free' or 'clamped', got {readout!r}")
    return Jf


def full_state(x, S, y) -> np.ndarray:
    """The augmented states ``[x, 1, s^0..s^{L−1}, y]`` (B × (N + 1 + L·H + C), float64)."""
    x = np.asarray(x, dtype=np.float64)
    B = x.shape[0]
    return np.concatenate([x, np.ones((B, 1)), np.asarray(S).transpose(1, 0, 2).reshape(B, -1),
                           np.asarray(y, dtype=np.float64)], axis=1)
