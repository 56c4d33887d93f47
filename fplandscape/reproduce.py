"""The one-command reproduction of the study (``fplandscape reproduce [--quick]``).

The whole-study orchestrator, the layer above :mod:`fplandscape.figures` and
:mod:`fplandscape.validate` (neither imports it): it computes the critical self-couplings once
and passes them to the validation tables and to every figure.

:func:`reproduce` computes, under ``out_dir`` (default ``figures/`` for the full run, whose
figures are the committed gallery, and ``figures-quick/`` for ``quick=True``, so that a quick
run never overwrites the gallery; :func:`fplandscape.figures.default_out_dir`):

1. the named critical self-couplings of docs/critical.md from the theory, with the curve that decides
   each (``data/critical.csv``, ``data/critical_evidence.csv``);
2. every figure of docs/figures.md that exists (:data:`fplandscape.figures.FIGURES`): the analytic
   curves, exact enumeration of random networks at small N, the dynamics study, each with its
   data (``<name>.png``, ``<name>.pdf``, ``data/<name>.csv``, ``data/<name>.json``);
3. a summary (``data/summary.json`` and a printed table): critical values from theory, the
   validation z-scores of the simulations against the exact finite-N formulas, the algorithmic
   thresholds where the dynamics study ran, wall times, and ``warnings`` — e.g. the learning
   figure fell back to synthetic data because the 5k MNIST subset is not installed
   (:func:`fplandscape.learn.data.learning_data`); each is also printed on stderr at once.

``quick=True`` uses coarse grids and few networks (under three minutes on 2 cores); the full run
uses the grids of the study (:data:`EXPECTED_FULL_MINUTES` on 2 cores), all local cores or a Dask
cluster (``scheduler``), and is resumable: simulations journal their finished tasks
(:mod:`fplandscape.parallel`) and with ``resume=True`` finished figures are kept.
Every random number comes from ``seed`` through :class:`numpy.random.SeedSequence` children, so
the numbers do not depend on the number of workers.
"""
from __future__ import annotations

import json
import math
import sys
import warnings
from pathlib import Path

import numpy as np

from . import figures as figures_pkg
from . import tables, theory
from ._version import __version__
from .errors import ConvergenceError, InputError
from .provenance import Stopwatch, environment, run_info
from .validate import critical as critical_mod

EXPECTED_FULL_MINUTES = 25  # measured: 18 min on 2 shared cores without the learning figure
FILES = ("critical.csv", "critical_evidence.csv", "critical_finite_n.csv", "summary.json")
Z_BOUND = 4.5  # |z| above which a validation row is reported as a discrepancy


def parameters(quick: bool = False, figures=None) -> dict:
    """What :func:`reproduce` computes (recorded in summary.json)."""
    FIGURES = figures_pkg.FIGURES
    names = list(FIGURES) if figures is None else list(figures)
    return {
        "quick": bool(quick),
        "criteria": ["gap", "energetic"] if quick else list(theory.CRITERIA),
        # the quick run's smoke-level tolerance on J_D (None: each criterion's default)
        "critical_tol": 2e-3 if quick else None,
        "finite_n_critical": {"n_values": [10, 14] if quick else [12, 16, 20, 24],
                              "jd": {"start": 0.0, "stop": 0.3, "num": 11 if quick else 16},
                              "samples": 40 if quick else 200,
                              "bootstrap": 50 if quick else 200},
        "figures": {name: FIGURES[name].parameters(quick) for name in names},
    }


def _prepare(out_dir, figures) -> Path:
    FIGURES = figures_pkg.FIGURES
    for name in figures or ():
        if name not in FIGURES:
            raise InputError(f"unknown figure {name!r}; choose from {', '.join(FIGURES)}")
    data = tables.ensure_dir(Path(out_dir) / "data")
    for name in FILES:
        tables.check_writable(data / name)
    return data


def _critical(criteria, say, timings, failures, tol=None):
    critical_rows, evidence_rows, found = [], [], {}
    for criterion in criteria:
        say(f"[reproduce] critical self-coupling: {criterion} ...")
        with Stopwatch() as sw:
            try:
                # gap is solved to its own 1e-8 whatever the run (it is cheap)
                value = theory.critical_self_coupling(
                    criterion, tol=None if criterion == "gap" else tol)
            except ConvergenceError as exc:
                value = None
                failures.append({"step": f"critical:{criterion}", "error": str(exc)})
                say(f"[reproduce]   FAILED: {exc}")
        timings[f"critical:{criterion}"] = sw.seconds
        if value is None:
            critical_rows.append(run_info(criterion=criterion, jd=math.nan, tolerance=None,
                                          bracket_lo=None, bracket_hi=None, converged=False,
                                          seconds=sw.seconds))
            continue
        found[criterion] = value.jd  # passed explicitly to the finite-N table and the figures
        critical_rows.append(run_info(**value.as_row(), description=value.description))
        evidence_rows += [run_info(criterion=criterion, **row) for row in value.evidence]
        say(f"[reproduce]   J_D = {value.jd:.6g} ± {value.tolerance:g} ({sw.seconds:.1f} s)")
    return critical_rows, evidence_rows, found


def _critical_kept(data, key):
    """The critical values of an earlier run into the same folder, for ``resume``: the rows and
    values stored in ``data/critical.json`` when its key (version, criteria, tolerance) is
    ``key``, else None (solve again)."""
    path = data / "critical.json"
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(stored, dict) or stored.get("key") != key:
        return None
    try:
        return stored["critical_rows"], stored["evidence_rows"], dict(stored["found"])
    except (KeyError, TypeError, ValueError):
        return None


def _finite(values):
    return [abs(v) for v in values if v is not None and isinstance(v, (int, float))
            and math.isfinite(v)]


def validation_summary(results: dict) -> list:
    """One row per validation of a simulation against an exact formula, from the figure data:
    the number of compared points, the largest |z| and whether it is within :data:`Z_BOUND`."""
    rows = []

    def add(check, zs, detail):
        zs = _finite(zs)
        if zs:
            rows.append({"check": check, "points": len(zs), "max_abs_z": max(zs),
                         "within_bound": max(zs) < Z_BOUND, "detail": detail})

    ent = results.get("entropy")
    if ent:
        sim = [r for r in ent if r.get("series") == "enumeration"]
        add("mean #FP vs E1 (eta = 0)", [r["z_count"] for r in sim if r["eta"] == 0.0],
            "figure entropy, panel (a)")
        add("mean #FP vs exact E1 (eta != 0)", [r["z_count"] for r in sim if r["eta"] != 0.0],
            "figure entropy, panel (b)")
    pairs = results.get("pair-histograms")
    if pairs:
        add("mean pairs at distance k vs E4", [r["z"] for r in pairs],
            "figure pair-histograms")
    mod = results.get("modular")
    if mod:
        add("mean #FP of modular chains vs exact E1(lambda)",
            [r["z_count"] for r in mod if r.get("series") == "enumeration"], "figure modular")
    return rows


def data_warnings(name: str, rows) -> list:
    """Notes that figure ``name`` was not drawn from the data it promises: the learning figure
    on synthetic data (its rows say ``data = synthetic``). Empty when all is as promised."""
    if name != "learning" or not rows:
        return []
    from .learn.data import fallback_note, mnist5k_missing

    if any(r.get("data") == "synthetic" for r in rows):
        return [fallback_note(mnist5k_missing() or "the 5k MNIST subset was not used")]
    return []


def _warn(note: str, notes: list, say_stream=None) -> None:
    """Record ``note`` once and print it on stderr (and on the progress stream if different)."""
    if note in notes:
        return
    notes.append(note)
    print(f"warning: {note}", file=sys.stderr, flush=True)
    if say_stream is not None and say_stream is not sys.stderr:
        print(f"[reproduce]   WARNING: {note}", file=say_stream, flush=True)


def reproduce(out_dir=None, quick: bool = False, *, seed: int = 0, figures=None,
              workers=None, scheduler=None, resume: bool = False, progress=None,
              verbose: bool = True, stream=None) -> dict:
    """Regenerate the study into ``out_dir`` and return the summary dict (module docstring).

    ``out_dir``: default ``figures`` (full run) or ``figures-quick`` (``quick=True``).

    ``figures``: names of the figures to make (default all). ``workers``/``scheduler``: local
    cores (default all) or a Dask cluster for the simulations and theory grids; ``resume``:
    keep finished figures and resume unfinished simulations from their checkpoints;
    ``progress``: progress bars (default: when stderr is a terminal). ``verbose`` prints
    progress and the final summary table to ``stream`` (default stdout). A failing step is
    recorded in ``failures`` and the other results are still written.
    """
    from .learn.data import DataFallbackWarning, fallback_note, mnist5k_missing

    FIGURES = figures_pkg.FIGURES
    stream = stream or sys.stdout
    out_dir = figures_pkg.default_out_dir(quick, out_dir)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed!r}")
    data = _prepare(out_dir, figures)
    names = list(FIGURES) if figures is None else list(figures)
    params = parameters(quick, names)

    def say(msg):
        if verbose:
            print(msg, file=stream, flush=True)

    if not quick:
        say(f"[reproduce] full run: expect about {EXPECTED_FULL_MINUTES} min on 2 cores "
            "(interrupt with Ctrl-C and rerun with --resume to continue)")
    timings: dict = {}
    failures: list = []
    results: dict = {}
    notes: list = []
    say_stream = stream if verbose else None
    if "learning" in names and mnist5k_missing() is not None:   # say so at the start
        _warn(fallback_note(mnist5k_missing()), notes, say_stream)
    with Stopwatch() as total:
        key = tables.to_jsonable({"version": __version__, "criteria": params["criteria"],
                                  "tol": params.get("critical_tol")})
        kept = _critical_kept(data, key) if resume else None
        if kept is not None:      # finished work is never redone: the values solved before
            critical_rows, evidence_rows, found = kept
            say("[reproduce] critical self-couplings: kept from data/critical.json "
                + ", ".join(f"{k} = {v:.6g}" for k, v in found.items()))
        else:
            critical_rows, evidence_rows, found = _critical(params["criteria"], say, timings,
                                                            failures, params.get("critical_tol"))
            if not failures:
                (data / "critical.json").write_text(tables.dumps(
                    {"key": key, "critical_rows": critical_rows, "evidence_rows": evidence_rows,
                     "found": found}))
        # passed to every figure (a criterion whose solver failed as None: not solved again)
        critical = {**dict.fromkeys(params["criteria"]), **found}
        tables.write_csv(data / "critical.csv", critical_rows)
        tables.write_csv(data / "critical_evidence.csv", evidence_rows)
        fnc = params["finite_n_critical"]
        say("[reproduce] critical self-couplings from enumerated fixed points (finite N) ...")
        with Stopwatch() as sw:
            jd_grid = [round(x, 10) for x in np.linspace(fnc["jd"]["start"], fnc["jd"]["stop"],
                                                          fnc["jd"]["num"])]
            fn_rows = critical_mod.finite_size_critical(
                fnc["n_values"], jd_grid, fnc["samples"], seed, bootstrap=fnc["bootstrap"],
                workers=workers, scheduler=scheduler, checkpoint=True, resume=resume,
                progress=progress, critical=critical)
            tables.write_csv(data / "critical_finite_n.csv", fn_rows)
            finite_n_table = critical_mod.critical_table(fn_rows)
        timings["critical:finite_n"] = sw.seconds
        written = []
        for name in names:
            say(f"[reproduce] figure {name}: {FIGURES[name].TITLE} ...")
            with Stopwatch() as sw:
                try:
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always", DataFallbackWarning)
                        res = figures_pkg.make_figure(
                            name, out_dir, quick=quick, seed=seed, resume=resume,
                            critical=critical, workers=workers, scheduler=scheduler,
                            checkpoint=True, progress=progress)
                    for w in caught:
                        if issubclass(w.category, DataFallbackWarning):
                            _warn(str(w.message), notes, say_stream)
                        else:
                            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
                except InputError:
                    raise
                except (ConvergenceError, ValueError, RuntimeError, OSError) as exc:
                    failures.append({"step": f"figure:{name}", "error": str(exc)})
                    say(f"[reproduce]   FAILED: {exc}")
                    continue
            timings[f"figure:{name}"] = sw.seconds
            results[name] = res.rows if res.rows is not None else tables.read_csv(res.paths["csv"])
            if not any(n.startswith("learning figure: synthetic") for n in notes):
                for note in data_warnings(name, results[name]):
                    _warn(note, notes, say_stream)
            written.append(res.paths)
            say(f"[reproduce]   {'kept' if res.reused else 'wrote'} {res.paths['png']} "
                f"({sw.seconds:.1f} s)")

    summary = run_info(
        seed=seed,
        out_dir=str(Path(out_dir)),
        data_dir=str(data),
        files=[str(data / name) for name in FILES] + [p for w in written for p in w.values()],
        parameters=params,
        environment=environment(),
        critical=[{k: r.get(k) for k in ("criterion", "jd", "tolerance", "converged", "seconds")}
                  for r in critical_rows],
        critical_finite_n=finite_n_table,
        validation=validation_summary(results),
        thresholds=_thresholds(results, found),
        learning=_learning(results),
        warnings=notes,
        failures=failures,
        seconds=timings,
        wall_time=total.seconds,
    )
    with open(data / "summary.json", "w") as fh:
        fh.write(json.dumps(tables.to_jsonable(summary), indent=2, allow_nan=False) + "\n")
    if verbose:
        print(summary_table(summary), file=stream, flush=True)
    return summary


def _thresholds(results: dict, found: dict) -> list:
    """Algorithmic 50 % thresholds of the dynamics study (if it ran) beside the theory."""
    acc = results.get("accessibility")
    if not acc:
        return []
    from .figures.accessibility import panel_c_rows

    # the thresholds figure 6 (c) shows: fine-window ones and their fit where a rule has them
    thr, ext = panel_c_rows(acc)
    shown = {id(r) for r in thr + ext}
    out = []
    for r in acc:
        if id(r) not in shown:
            continue
        if r.get("kind") in ("threshold", "scale_threshold"):
            out.append({k: r.get(k) for k in ("rule", "n", "j50", "j50_err")})
        else:
            fit = f", N >= {r['fit_from']}" if r.get("fit_from") else ""
            out.append({"rule": r["rule"], "n": f"inf ({r.get('form')} fit{fit})",
                        "j50": r["j50"], "j50_err": r["j50_err"]})
    for name, value in found.items():
        out.append({"rule": f"theory:{name}", "n": "inf", "j50": value, "j50_err": None})
    return out


def _learning(results: dict) -> list:
    """Final test accuracy of the learning rule and of the fixed-feature baselines per H."""
    rows = results.get("learning")
    if not rows:
        return []
    out = []
    ep = [r for r in rows if r.get("panel") == "epochs"]
    for h in sorted({r["hidden"] for r in ep}):
        rule = [r for r in ep if r["hidden"] == h and r["series"] == "rule"]
        last = max(rule, key=lambda r: r["epoch"]) if rule else {}
        row = {"data": last.get("data"), "hidden": h, "epochs": last.get("epoch"),
               "rule_test": last.get("test_accuracy"), "rule_train": last.get("train_accuracy")}
        for r in ep:
            if r["hidden"] == h and r["series"] != "rule":
                row[f"{r['series']}_test"] = r["test_accuracy"]
        out.append(row)
    return out


def summary_table(summary: dict) -> str:
    """Readable summary: critical values, validation z-scores, thresholds, failures, time."""
    from .tables import format_table

    lines = ["critical self-couplings (theory):",
             format_table(summary["critical"], ["criterion", "jd", "tolerance", "converged",
                                                "seconds"])]
    if summary.get("critical_finite_n"):
        fin = summary["critical_finite_n"]
        cols = [c for c in fin[0] if "(E4)" not in c or c.startswith("N=4000")]
        lines += ["", "critical self-couplings: theory vs finite-N estimators from enumeration "
                      "(extrapolated in 1/N; N=4000 (E4): exact finite-N gap criterion):",
                  format_table(fin, cols)]
    if summary.get("validation"):
        lines += ["", f"validation of the simulations (|z| bound {Z_BOUND}):",
                  format_table(summary["validation"], ["check", "points", "max_abs_z",
                                                       "within_bound"])]
    if summary.get("thresholds"):
        lines += ["", "algorithmic thresholds J_50 (P(reach a FP) = 1/2) and theory:",
                  format_table(summary["thresholds"], ["rule", "n", "j50", "j50_err"])]
    if summary.get("learning"):
        lines += ["", "learning by steering the dynamics (final test accuracy; 5k-subset numbers "
                      "are not comparable with 60k):", format_table(summary["learning"])]
    for note in summary.get("warnings", ()):
        lines.append(f"WARNING {note}")
    for f in summary["failures"]:
        lines.append(f"FAILED {f['step']}: {f['error']}")
    lines.append(f"figures and data written to {summary['out_dir']} "
                 f"(wall time {summary['wall_time']:.1f} s)")
    return "\n".join(lines)


__all__ = ["reproduce", "parameters", "summary_table", "validation_summary", "data_warnings",
           "EXPECTED_FULL_MINUTES", "Z_BOUND"]
