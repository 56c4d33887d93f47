"""Figure ``attractors``: the demonstration landscape and the census vs gain render on tiny
inputs, the data are tidy and consistent, and the figure redraws from its CSV alone."""
import json
from collections import defaultdict

import numpy as np
import pytest

from fplandscape import tables
from fplandscape.figures import FIGURES, make_figure, replot_figure
from fplandscape.figures.attractors import KINDS, census_couplings

SEED = 2
TINY = {"demo": {"n": 30, "patterns": 2, "strength": 2.0, "noise": 0.3, "starts": 256,
                 "trajectories": 4, "pca_starts": 16, "steps": 30, "directions": 2,
                 "arrow": 0.3},
        "census": {"n": 20, "gains": [0.5, 2.0], "samples": 2, "starts": 8, "steps": 200,
                   "transient": 100, "k": 2}}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    out = tmp_path_factory.mktemp("attractors")
    return out, make_figure("attractors", out, seed=SEED, params=TINY, workers=1)


def test_registered_after_learning():
    names = list(FIGURES)
    assert names.index("attractors") == names.index("learning") + 1


def test_writes_png_pdf_csv_json(made):
    out, res = made
    assert open(res.paths["png"], "rb").read(4) == b"\x89PNG"
    assert open(res.paths["pdf"], "rb").read(4) == b"%PDF"
    meta = json.loads(open(res.paths["json"]).read())
    assert meta["figure"] == "attractors" and meta["seed"] == SEED
    assert meta["parameters"] == json.loads(json.dumps(TINY))
    assert meta["rows"] == len(res.rows) == len(tables.read_csv(res.paths["csv"]))


def test_rows_hold_both_panels_with_run_info(made):
    _, res = made
    rows = res.rows
    assert {r["panel"] for r in rows} == {"landscape", "census"}
    assert {r["series"] for r in rows if r["panel"] == "landscape"} == \
        {"pca", "fixed_point", "unstable_direction", "trajectory"}
    assert {r["series"] for r in rows if r["panel"] == "census"} == \
        {"network", "fraction", "lyapunov"}
    assert all("version" in r and r["seed"] == SEED for r in rows)


def test_demonstration_network_has_an_interesting_landscape(made):
    _, res = made
    land = [r for r in res.rows if r["panel"] == "landscape"]
    fps = [r for r in land if r["series"] == "fixed_point"]
    pca = [r for r in land if r["series"] == "pca"][0]
    assert pca["criterion_met"] and pca["n_fixed_points"] == len(fps)
    assert len(fps) > 3
    assert sum(r["stable"] for r in fps) >= 2
    assert any(0 < r["n_unstable"] < TINY["demo"]["n"] for r in fps)
    # tanh is odd: the fixed points come in ± pairs (the origin is its own partner)
    assert len(fps) % 2 == 1
    # every unstable point has arrows (two per direction), no stable one has any
    arrows = defaultdict(int)
    for r in land:
        if r["series"] == "unstable_direction":
            arrows[r["index"]] += 1
    for r in fps:
        if r["stable"]:
            assert arrows[r["index"]] == 0
        else:  # a complex pair is one drawn direction (the real part)
            most = 2 * min(TINY["demo"]["directions"], r["n_unstable"])
            assert arrows[r["index"]] % 2 == 0 and 2 <= arrows[r["index"]] <= most
    assert len({r["trajectory"] for r in land if r["series"] == "trajectory"}) == 4


def test_census_fractions_sum_to_one_and_contraction_gives_one_fixed_point(made):
    _, res = made
    cen = [r for r in res.rows if r["panel"] == "census"]
    per_g = defaultdict(dict)
    for r in cen:
        if r["series"] == "fraction":
            per_g[r["g"]][r["kind"]] = r["fraction"]
    assert sorted(per_g) == TINY["census"]["gains"]
    for g, fr in per_g.items():
        assert set(fr) == set(KINDS)
        assert sum(fr.values()) == pytest.approx(1.0, abs=1e-9)
    # ‖0.5 G‖₂ < 1 and tanh is 1-Lipschitz: x ↦ tanh(0.5 G x) is a contraction, the origin its
    # unique fixed point and every start converges to it
    for v in range(TINY["census"]["samples"]):
        G = census_couplings(SEED, TINY["census"]["n"], v)
        assert 0.5 * np.linalg.norm(G, 2) < 1
        row = [r for r in cen if r["series"] == "network" and r["g"] == 0.5 and
               r["network"] == v][0]
        assert row["spectral_norm"] == pytest.approx(np.linalg.norm(G, 2), rel=1e-12)
        assert row["fraction_fixed_point"] == 1.0 and row["attractors"] == 1
        # the origin's exponent is ln(0.5 ρ(G))
        assert row["lambda_max"] == pytest.approx(np.log(0.5 * row["spectral_radius"]),
                                                  abs=1e-9)
    assert per_g[0.5]["fixed_point"] == 1.0


def test_replot_from_written_data(made):
    out, res = made
    png = out / "attractors.png"
    png.unlink()
    again = replot_figure("attractors", out)
    assert png.is_file() and again.reused and len(again.rows) == len(res.rows)
