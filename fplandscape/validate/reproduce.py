"""Regenerate the study's data tables (``fplandscape reproduce``).

For now this is the analytic part (spec §2–§3); simulation overlays and figures are added by
later issues. :func:`reproduce` writes, under ``<out_dir>/data/``:

=========================  ===============================================================
``entropy.csv``            s(J_D) (E2) and s(η, J_D) (E2η) on a J_D grid, several η
``pair_entropy.csv``       S₂(q) (E3) on q ∈ [0, 1] for several J_D (including J_D^gap)
``local_entropy.csv``      φ(d): annealed (E5), Franz–Parisi κ = 0 and κ = J_D (E6), for
                           J_D ∈ {0.05, 0.1, 0.2, 0.5}, one row per (curve, d)
``critical.csv``           the named critical self-couplings (§3) with tolerance and seconds
``critical_evidence.csv``  the curve deciding each criterion at its threshold
``summary.json``           version, environment, parameters, critical values, wall times
=========================  ===============================================================

``quick=True`` uses coarser grids and only the ``gap`` and ``energetic`` criteria (well under
three minutes); the full run adds ``entropic`` and ``ld``.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

from .. import tables, theory
from ..errors import ConvergenceError, InputError
from ..provenance import Stopwatch, environment, run_info

LOCAL_ENTROPY_JD = (0.05, 0.1, 0.2, 0.5)
PAIR_ENTROPY_JD = (0.0, 0.02, 0.05, 0.1, 0.2, 0.5)
ETAS = (-0.5, 0.0, 0.25, 0.5, 0.75, 1.0)

FILES = ("entropy.csv", "pair_entropy.csv", "local_entropy.csv", "critical.csv",
         "critical_evidence.csv", "summary.json")


def parameters(quick: bool = False) -> dict:
    """The grids used by :func:`reproduce` (recorded in summary.json)."""
    return {
        "quick": bool(quick),
        "entropy_jd": {"start": -1.0, "stop": 2.0, "num": 31 if quick else 121},
        "entropy_eta": list(ETAS),
        "pair_entropy_jd": list(PAIR_ENTROPY_JD) + ["gap"],
        "pair_entropy_q": {"start": 0.0, "stop": 1.0, "num": 101 if quick else 401},
        "local_entropy_jd": list(LOCAL_ENTROPY_JD),
        "local_entropy_kinds": ["annealed", "franz-parisi kappa=0", "franz-parisi kappa=jd"],
        # d grid uniform in sqrt(d) on [d_min, 1/2] (theory.default_distances)
        "local_entropy_d": {"num": 12 if quick else 50, "d_min": 0.005 if quick else 0.002,
                            "d_max": 0.5},
        "criteria": ["gap", "energetic"] if quick else list(theory.CRITERIA),
    }


def _prepare(out_dir) -> Path:
    out = Path(out_dir)
    data = out / "data"
    try:
        data.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(f"cannot create output directory {str(data)!r}: a file is in the way") \
            from None
    except OSError as exc:
        raise InputError(f"cannot create output directory {str(data)!r}: "
                         f"{exc.strerror or exc}") from None
    for name in FILES:
        tables.check_writable(data / name)
    return data


def _linspace(spec):
    return np.linspace(spec["start"], spec["stop"], spec["num"])


def reproduce(out_dir="figures", quick: bool = False, *, verbose: bool = True,
              stream=None) -> dict:
    """Compute the analytic tables into ``<out_dir>/data`` and return a summary dict.

    ``verbose`` prints progress and a final summary table of the critical values to ``stream``
    (default stdout). Raises :class:`InputError` if the output directory cannot be created or
    written. A criterion that fails (ConvergenceError) is recorded in the summary's
    ``failures`` and in critical.csv (``converged`` False), the other results are still written.
    """
    stream = stream or sys.stdout
    params = parameters(quick)
    data = _prepare(out_dir)

    def say(msg):
        if verbose:
            print(msg, file=stream, flush=True)

    timings: dict[str, float] = {}
    failures: list[dict] = []
    with Stopwatch() as total:
        # --- critical values first: J_D^gap is also drawn in the S2(q) table
        critical_rows, evidence_rows = [], []
        found = {}
        for criterion in params["criteria"]:
            say(f"[reproduce] critical self-coupling: {criterion} ...")
            with Stopwatch() as sw:
                try:
                    value = theory.critical_self_coupling(criterion)
                except ConvergenceError as exc:
                    value = None
                    failures.append({"step": f"critical:{criterion}", "error": str(exc)})
                    say(f"[reproduce]   FAILED: {exc}")
            timings[f"critical:{criterion}"] = sw.seconds
            if value is None:
                critical_rows.append(run_info(criterion=criterion, jd=math.nan, tolerance=None,
                                              bracket_lo=None, bracket_hi=None,
                                              converged=False, seconds=sw.seconds))
                continue
            found[criterion] = value.jd
            critical_rows.append(run_info(**value.as_row(), description=value.description))
            evidence_rows += [run_info(criterion=criterion, **row) for row in value.evidence]
            say(f"[reproduce]   J_D = {value.jd:.6g} ± {value.tolerance:g} ({sw.seconds:.1f} s)")
        tables.write_csv(data / "critical.csv", critical_rows)
        tables.write_csv(data / "critical_evidence.csv", evidence_rows)

        # --- s(J_D), s(eta, J_D)
        say("[reproduce] annealed entropy s(eta, J_D) ...")
        with Stopwatch() as sw:
            jd = _linspace(params["entropy_jd"])
            rows = []
            for eta in params["entropy_eta"]:
                s = np.atleast_1d(theory.annealed_entropy(jd, eta))
                formula = "E2" if eta == 0 else "E2eta"
                rows += [run_info(jd=float(x), eta=float(eta), entropy=float(v), formula=formula)
                         for x, v in zip(jd, s)]
            tables.write_csv(data / "entropy.csv", rows)
        timings["entropy"] = sw.seconds

        # --- S2(q)
        say("[reproduce] pair entropy S2(q) ...")
        with Stopwatch() as sw:
            q = _linspace(params["pair_entropy_q"])
            jds = list(PAIR_ENTROPY_JD) + ([found["gap"]] if "gap" in found else [])
            rows = []
            for x in jds:
                v = np.atleast_1d(theory.pair_entropy(x, q))
                label = "gap" if "gap" in found and x == found["gap"] else ""
                rows += [run_info(jd=float(x), q=float(qq), pair_entropy=float(vv), label=label)
                         for qq, vv in zip(q, v)]
            tables.write_csv(data / "pair_entropy.csv", rows)
        timings["pair_entropy"] = sw.seconds

        # --- local-entropy curves
        spec = params["local_entropy_d"]
        d = theory.default_distances(spec["num"], spec["d_min"], spec["d_max"])
        rows = []
        n_bad = 0
        for x in LOCAL_ENTROPY_JD:
            for kind, kappa, key in (("annealed", 0.0, "annealed"),
                                     ("franz-parisi", 0.0, "franz-parisi kappa=0"),
                                     ("franz-parisi", x, "franz-parisi kappa=jd")):
                say(f"[reproduce] local entropy J_D = {x}: {key} ({len(d)} points) ...")
                with Stopwatch() as sw:
                    curve = theory.local_entropy(x, kind, d=d, kappa=kappa)
                timings[f"local_entropy:{x}:{key}"] = sw.seconds
                bad = int(np.sum(~np.asarray(curve.converged, dtype=bool)))
                n_bad += bad
                if bad:
                    say(f"[reproduce]   {bad} point(s) not converged (flagged in the CSV)")
                rows += curve.as_rows()
        tables.write_csv(data / "local_entropy.csv", rows)

    summary = run_info(
        out_dir=str(Path(out_dir)),
        data_dir=str(data),
        files=[str(data / name) for name in FILES],
        parameters=params,
        environment=environment(),
        critical=[{k: r.get(k) for k in ("criterion", "jd", "tolerance", "converged", "seconds")}
                  for r in critical_rows],
        local_entropy_unconverged_points=n_bad,
        failures=failures,
        seconds=timings,
        wall_time=total.seconds,
    )
    with open(data / "summary.json", "w") as fh:
        fh.write(json.dumps(tables.to_jsonable(summary), indent=2, allow_nan=False) + "\n")
    if verbose:
        print(summary_table(summary), file=stream, flush=True)
    return summary


def summary_table(summary: dict) -> str:
    """Readable summary: the critical values with tolerance and seconds, and the wall time."""
    from ..cli.common import format_table

    lines = ["critical self-couplings:",
             format_table(summary["critical"], ["criterion", "jd", "tolerance", "converged",
                                                "seconds"])]
    if summary["local_entropy_unconverged_points"]:
        lines.append(f"local-entropy points not converged: "
                     f"{summary['local_entropy_unconverged_points']} (flagged in the CSV)")
    for f in summary["failures"]:
        lines.append(f"FAILED {f['step']}: {f['error']}")
    lines.append(f"tables written to {summary['data_dir']} "
                 f"(wall time {summary['wall_time']:.1f} s)")
    return "\n".join(lines)
