"""Exact means exact on the stored numbers (issue 12, item 3).

A state is a fixed point iff every stability s_i Σ_j J_ij s_j is > 0, where the sum is the
*exact* sum of the stored float64 terms. The references below compute it without rounding:
each J_ij as a Fraction (exact), scaled to an integer in units of 2^-1074 (all doubles are
integer multiples of it), summed as Python integers. Every public counting / predicate path
must agree with them on every state, including exact ties that float sums leave as a tiny
residue and small terms that float sums lose next to big ones.
"""
import warnings
from fractions import Fraction

import numpy as np
import pytest

from fplandscape import model
from fplandscape.attractors.binary import binary_census
from fplandscape.attractors.systems import SignNetwork
from fplandscape.errors import InputError
from fplandscape.sim import (anneal, count_fixed_points_bruteforce, enumerate_fixed_points,
                             fixed_point_mask_packed, local_stats, run_dynamics)

# ---------------------------------------------------------------------------------------------
# exact references


def _ints(x):
    """float64 array -> object array of Python ints, x · 2^1074 exactly (via Fraction)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(x.shape, dtype=object)
    for idx, v in np.ndenumerate(x):
        out[idx] = int(Fraction(float(v)) * 2**1074)
    return out


def _all_states(n):
    return model.all_states(n)          # row r = state of code r


def _exact_fields(J, S, b=None):
    """Exact fields (object ints, units 2^-1074) of the ±1 states S (M, N)."""
    H = S.astype(object).dot(_ints(J).T)
    if b is not None:
        H = H + _ints(b)[None, :]
    return H


def _reference(J, b=None):
    """Per state (code order): exact stable mask (M, N), exact 'sign(h) = +1' mask (M, N)."""
    S = _all_states(J.shape[0])
    H = _exact_fields(J, S, b)
    return np.array(S.astype(object) * H > 0, dtype=bool), np.array(H >= 0, dtype=bool)


def _fraction_count(J):
    """Independent from-scratch Fraction reference for the small hand-made matrices."""
    n = J.shape[0]
    count = 0
    for s in _all_states(n):
        count += all(int(s[i]) * sum(Fraction(float(J[i, j])) * int(s[j]) for j in range(n)) > 0
                     for i in range(n))
    return count


# ---------------------------------------------------------------------------------------------
# matrices


def tie_matrix():
    """Entries ~1e-300: ties whose float64 sums leave residues of ~1e-316 (subnormal). Exact
    arithmetic on the stored values gives 2 fixed points, float64 sums give 8."""
    X = 1e-300
    t = X * (0.75 * 2.0**-52)
    return np.array([[X, t, -X, t], [-t, X, -X, t], [t, -X, X, t], [t, -X, X, t]])


def mixed_matrix():
    """Entries 1e16 and 1: the 1s are lost in float64 ((1 + 1e16) − 1e16 = 0). Exactly: 2
    fixed points; float64: 0."""
    B = 1e16
    return np.array([[1.0, B, -B], [B, 1.0, -B], [B, 1.0, -B]])


def overflow_matrix():
    """Partial sums overflow (rows with Σ|J| > 1e300 are always decided exactly): 16 exact
    fixed points, 18 with float64 sums."""
    B = 1e308
    return np.array([[B, B, -B, -B, 1e-320], [1, 2, 0, 0, 0.5], [0.5, 0, 1, 0, 0],
                     [0, 0, 0, 1, 0], [B, -B, B, -B, 1]])


def adversarial(seed, n):
    """Mixed magnitudes (1e16 … subnormal), values one ulp off round numbers, and deliberate
    exact ties: in row i, pairs (j, k) with J_ik = −J_ij t_j t_k cancel exactly on the state t
    (and on every state with s_j s_k = t_j t_k), while float64 sums round before they cancel."""
    rng = np.random.default_rng(seed)
    mags = np.array([1.0, 3.0, 1e16, 2.0**-53, 0.1, 1e-300, 3e-320, 7.0])
    J = rng.choice(mags, (n, n)) * rng.choice([-1.0, 1.0], (n, n))
    J *= 1.0 + rng.integers(0, 3, (n, n)) * 2.0**-52
    for i in range(n):
        t = rng.choice([-1.0, 1.0], n)
        perm = rng.permutation(n)
        for a in range(0, 2 * rng.integers(0, n // 2 + 1), 2):
            j, k = perm[a], perm[a + 1]
            J[i, k] = -J[i, j] * t[j] * t[k]
    if seed % 2:
        J[rng.integers(0, n)] *= rng.choice([1e290, 1e-10])   # one rescaled row
    return J


HAND = [("tie", tie_matrix, 2), ("mixed", mixed_matrix, 2), ("overflow", overflow_matrix, 16)]


# ---------------------------------------------------------------------------------------------
# the hand-made cases, every path


@pytest.mark.parametrize("name,make,count", HAND, ids=[h[0] for h in HAND])
def test_hand_made_counts_every_path(name, make, count):
    J = make()
    n = J.shape[0]
    assert _fraction_count(J) == count
    S = _all_states(n)
    codes = model.pack_states(S)
    assert int(np.sum(model.is_fixed_point(J, S))) == count
    assert sum(bool(model.is_fixed_point(J, s)) for s in S) == count
    assert int(fixed_point_mask_packed(J, codes).sum()) == count
    assert count_fixed_points_bruteforce(J) == count
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # default_order's sums may overflow
        assert enumerate_fixed_points(J).count == count
        assert enumerate_fixed_points(J, order=np.arange(n)[::-1]).count == count
    assert enumerate_fixed_points(J, method="bruteforce").count == count
    assert int(run_dynamics(J, S, max_sweeps=0).reached.sum()) == count
    assert int(run_dynamics(J, S, rule="sync", max_sweeps=0).reached.sum()) == count
    assert int(anneal(J, S, schedule=np.zeros(0)).reached.sum()) == count
    assert int(SignNetwork(J).is_fixed_point(S).sum()) == count
    census = binary_census(SignNetwork(J), exact=True)
    assert sum(a.kind == "fixed_point" and bool(a.strict) for a in census.attractors) == count


# ---------------------------------------------------------------------------------------------
# adversarial random matrices against the exact reference, state by state


def _check_all_paths(J, rng):
    n = J.shape[0]
    stable, up = _reference(J)
    fp = stable.all(axis=1)
    S = _all_states(n)
    codes = model.pack_states(S)
    fp_codes = codes[fp]

    # NumPy predicate
    np.testing.assert_array_equal(model.stable_mask(J, S), stable)
    np.testing.assert_array_equal(model.is_fixed_point(J, S), fp)
    # packed kernels
    np.testing.assert_array_equal(fixed_point_mask_packed(J, codes), fp)
    cnt, st = count_fixed_points_bruteforce(J, return_states=True)
    assert cnt == fp.sum()
    np.testing.assert_array_equal(st, fp_codes)
    # exact enumeration: default order, a random order split into prefix tasks, brute force
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = enumerate_fixed_points(J, return_states=True, workers=1)
        np.testing.assert_array_equal(res.states, fp_codes)
        res = enumerate_fixed_points(J, return_states=True, order=rng.permutation(n),
                                     split_depth=min(3, n), workers=1)
        np.testing.assert_array_equal(res.states, fp_codes)
    assert enumerate_fixed_points(J, method="bruteforce").count == fp.sum()
    # local flip checks: fixed points at Hamming distance 1 and 2 of every state
    nb = local_stats(J, codes, radius=2, workers=1).neighbors
    d = np.bitwise_count(codes[:, None] ^ fp_codes[None, :])
    np.testing.assert_array_equal(nb[:, 0], (d == 1).sum(axis=1))
    np.testing.assert_array_equal(nb[:, 1], (d == 2).sum(axis=1))
    # dynamics: flags of the start states (no sweep) ...
    np.testing.assert_array_equal(run_dynamics(J, S, max_sweeps=0).reached, fp)
    np.testing.assert_array_equal(run_dynamics(J, S, rule="sync", max_sweeps=0).reached,
                                  fp)
    an = anneal(J, S, schedule=np.zeros(0))
    np.testing.assert_array_equal(an.reached, fp)
    np.testing.assert_array_equal(an.energy, (~stable).sum(axis=1))
    # ... the update decisions and convergence ...
    sign_stable = np.all(up == (S > 0), axis=1)
    for rule in ("async", "sync"):
        dyn = run_dynamics(J, S, rule=rule, order="fixed", max_sweeps=3 * n + 5)
        first = (dyn.sweeps == 1) & (dyn.flips == 0)
        np.testing.assert_array_equal(dyn.converged & first, sign_stable)
        fin = model.pack_states(dyn.states).astype(np.int64)
        np.testing.assert_array_equal(dyn.reached, fp[fin])
        assert np.all(sign_stable[fin[dyn.converged]])
    an = anneal(J, S, max_sweeps=5, seed=1)
    fin = model.pack_states(an.states).astype(np.int64)
    np.testing.assert_array_equal(an.reached, fp[fin])
    np.testing.assert_array_equal(an.energy, (~stable[fin]).sum(axis=1))
    np.testing.assert_array_equal(an.sweeps[fp], 0)
    # binary map (attractors) and its census
    net = SignNetwork(J)
    np.testing.assert_array_equal(net.is_fixed_point(S.astype(np.float64)), fp)
    np.testing.assert_array_equal(net.rhs(S.astype(np.float64)) > 0, up)
    census = binary_census(net, exact=True)
    strict = sorted(int(model.pack_states(a.states.astype(np.int8))[0])
                    for a in census.attractors if a.kind == "fixed_point" and a.strict)
    period1 = sorted(int(model.pack_states(a.states.astype(np.int8))[0])
                     for a in census.attractors if a.kind == "fixed_point")
    assert strict == fp_codes.tolist()
    assert period1 == codes[sign_stable].tolist()
    return int(fp.sum())


# the seeds are ones where float64 sums get the fixed-point set wrong (checked against the
# code before exact decisions), plus two plain ones
@pytest.mark.parametrize("seed,n", [(0, 8), (12, 7), (15, 6), (18, 8), (11, 6), (5, 9), (3, 11),
                                    (1, 5), (4, 10)])
def test_adversarial_matrices_match_exact_reference(seed, n):
    J = adversarial(seed, n)
    _check_all_paths(J, np.random.default_rng(seed))


def test_hand_made_matrices_match_reference_state_by_state():
    for _, make, _ in HAND:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            _check_all_paths(make(), np.random.default_rng(0))


def test_integer_couplings_with_ties_are_exact():
    """Integer couplings sum exactly in float64: the fast path decides every tie (band 0)."""
    rng = np.random.default_rng(3)
    J = rng.integers(-2, 3, (9, 9)).astype(np.float64)
    assert np.all(model.field_bands(J) == 0.0)
    _check_all_paths(J, rng)


def test_async_map_and_bias_are_exact():
    """SignNetwork with a bias b: the bias is one more exact term of each field; the
    sequential (async) map uses the exact sign of each unit's field in turn."""
    B = 1e16
    J = np.array([[B, 1.0, 0.0], [1.0, B, 0.0], [0.0, 0.0, 2.0]])
    b = np.array([-B, -B, -1.0])
    S8 = _all_states(3)
    S = S8.astype(np.float64)
    H = _exact_fields(J, S8, b)
    ref_fp = np.all(np.array(S8.astype(object) * H > 0, dtype=bool), axis=1)
    net = SignNetwork(J, b)
    np.testing.assert_array_equal(net.is_fixed_point(S), ref_fp)
    np.testing.assert_array_equal(net.rhs(S) > 0, np.array(H >= 0, dtype=bool))
    Ja, ba = _ints(J), _ints(b)
    out = S8.astype(object)
    for i in range(3):                          # sequential exact updates, order 0, 1, 2
        out[:, i] = np.where(np.array(out.dot(Ja[i]) + ba[i] >= 0, dtype=bool), 1, -1)
    np.testing.assert_array_equal(SignNetwork(J, b, update="async").rhs(S),
                                  out.astype(np.float64))
    assert ref_fp.sum() > 0 and not np.array_equal(ref_fp, np.all(S * (S @ J.T + b) > 0, axis=1))


def test_exact_sign_helper():
    assert model.exact_sign([1e16, 1.0, -1e16]) == 1
    assert model.exact_sign([1e-300, -1e-300, 5e-324]) == 1
    assert model.exact_sign([1e308, 1e308, -1e308, -1e308, -5e-324]) == -1   # fsum overflows
    assert model.exact_sign([0.1, 0.2, -0.3]) == 1                           # 0.1+0.2 > 0.3
    assert model.exact_sign([0.5, 0.25, -0.75]) == 0
    assert model.exact_sign([]) == 0


def test_margin_values_stay_float():
    J = mixed_matrix()
    s = np.array([1, 1, 1], dtype=np.int8)
    assert bool(model.is_fixed_point(J, s))
    assert model.margin(J, s) == float(np.min(s * (s @ J.T)))   # the float64 value


# ---------------------------------------------------------------------------------------------
# inputs float64 cannot hold exactly


def test_refuses_integers_beyond_2_53():
    big = np.array([[2**53 + 1, 0], [0, 1]], dtype=np.int64)
    for fn in (model.as_couplings, lambda J: model.as_couplings(J, name="couplings"),
               enumerate_fixed_points, count_fixed_points_bruteforce,
               lambda J: model.is_fixed_point(J, [1, 1])):
        with pytest.raises(InputError, match="2\\^53"):
            fn(big)
    with pytest.raises(InputError, match="couplings"):
        model.as_couplings(big, name="couplings")
    with pytest.raises(InputError, match="2\\^53"):
        model.as_couplings([[2**60, 0], [0, 1]])              # a Python list (int64)
    with pytest.raises(InputError, match="2\\^53"):
        model.as_couplings([[2**70, 0], [0, 1]])              # beyond int64 (object)
    with pytest.raises(InputError, match="2\\^53"):
        model.as_couplings(np.array([[2**63, 0], [0, 1]], dtype=np.uint64))
    ok = model.as_couplings(np.array([[2**53, -2**53], [0, 1]], dtype=np.int64))
    assert ok[0, 0] == 2.0**53 and ok.dtype == np.float64


def test_text_files_refuse_integers_beyond_2_53(tmp_path):
    """A text file's integer literal beyond 2^53 would be rounded by the float64 reader
    (9007199254740993 → …992): refused, in every reader of text matrices; 2^53 itself and
    decimals (read as their nearest float64, as always) pass."""
    from fplandscape.attractors import load_system
    from fplandscape.tables import read_text_matrix

    big = 2**53 + 1
    (tmp_path / "big.txt").write_text(f"0 {big}\n1 0.5\n")
    (tmp_path / "big.csv").write_text(f"0,-{big}\n1,0.5\n")
    (tmp_path / "ok.txt").write_text(f"0 {2**53}\n1 0.5  # a comment {big}\n")
    (tmp_path / "dec.txt").write_text(f"0 {big}.0\n1 0.5\n")
    for name in ("big.txt", "big.csv"):
        with pytest.raises(InputError, match=f"line 1: the integer -?{big} is beyond 2\\^53"):
            model.load_couplings(tmp_path / name)
    with pytest.raises(InputError, match="beyond 2\\^53"):
        load_system(tmp_path / "big.csv", model="sign")
    ok = model.load_couplings(tmp_path / "ok.txt")
    assert ok[0, 1] == 2.0**53 and ok[1, 1] == 0.5
    dec = read_text_matrix(tmp_path / "dec.txt")          # a decimal: rounding is the reader's
    assert dec[0, 1] == float(big) == 2.0**53


def test_refuses_extended_precision_and_complex(tmp_path):
    for dt in (np.longdouble, np.clongdouble, np.complex128):
        if np.dtype(dt).itemsize <= 8 and np.dtype(dt).kind == "f":
            continue   # a platform whose long double is float64 has nothing to refuse
        with pytest.raises(InputError, match="J"):
            model.as_couplings(np.eye(2, dtype=dt))
        with pytest.raises(InputError, match="J"):
            model.as_couplings(np.eye(2, dtype=dt), copy=True)
    if np.dtype(np.longdouble).itemsize > 8:
        with pytest.raises(InputError, match="extended precision"):
            model.as_couplings(np.eye(2, dtype=np.longdouble))
        with pytest.raises(InputError, match="self-coupling"):
            model.with_self_coupling(np.eye(2), np.longdouble(1) / 3)
        np.save(tmp_path / "ld.npy", np.eye(2, dtype=np.longdouble))
        with pytest.raises(InputError, match="extended precision"):
            model.load_couplings(tmp_path / "ld.npy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no ComplexWarning: refused, not cast
        with pytest.raises(InputError, match="complex"):
            model.as_couplings(np.eye(2) * (1 + 1j), copy=True)
    for dt in (np.float32, np.float16, np.int32, np.bool_):      # exactly representable
        assert model.as_couplings(np.eye(2, dtype=dt)).dtype == np.float64


# ---------------------------------------------------------------------------------------------
# coupling files


def _load_no_warning(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(InputError) as exc:
            model.load_couplings(path)
    assert not caught, [str(w.message) for w in caught]
    return str(exc.value)


def test_npz_that_is_not_a_zip_archive(tmp_path):
    for name, content in (("text.npz", b"hello world\n"), ("trunc.npz", b"PK\x03\x04garbage"),
                          ("empty.npz", b"")):
        p = tmp_path / name
        p.write_bytes(content)
        msg = _load_no_warning(p)
        assert name in msg and ("zip" in msg or "npz" in msg), msg
    p = tmp_path / "really_npy.npz"
    with open(p, "wb") as fh:
        np.save(fh, np.eye(2))                  # an .npy file under an .npz name
    assert "zip" in _load_no_warning(p)


def test_empty_csv_and_txt_raise_without_warning(tmp_path):
    for name, content in (("empty.csv", ""), ("blank.csv", "\n\n"), ("empty.txt", ""),
                          ("comments.csv", "# nothing here\n")):
        p = tmp_path / name
        p.write_text(content)
        assert "empty" in _load_no_warning(p)
