"""Start-up: ``fplandscape --version``, ``--help`` and ``COMMAND --help`` import no heavy package,
and a command imports only what it uses.

Each check runs the command line in a fresh interpreter and inspects ``sys.modules`` afterwards
(which packages were imported, never how long it took: the timings are in the notes of
issue 14, measured with ``python -X importtime -m fplandscape --version``).
"""
import json
import subprocess
import sys

import pytest

from fplandscape.cli import COMMANDS, build_parser

#: Packages that cost tens to hundreds of milliseconds to import.
HEAVY = ("scipy", "matplotlib", "sympy", "mpmath", "flint", "numba", "torch", "sklearn",
         "dask", "distributed", "tqdm")


def imported_after(argv) -> list:
    """Top-level package names (and ``fplandscape.*`` modules) imported by running the command
    line ``argv`` (stdout and stderr discarded) in a fresh interpreter."""
    code = (
        "import contextlib, io, json, sys\n"
        "from fplandscape.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        f"    rc = main({list(argv)!r})\n"
        "names = sorted({m.split('.')[0] for m in sys.modules} | "
        "{m for m in sys.modules if m.startswith('fplandscape.')})\n"
        "print(json.dumps({'rc': rc, 'modules': names}))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["rc"] == 0, (argv, out)
    return out["modules"]


def heavy_in(modules, allowed=()) -> list:
    return [m for m in modules if m in HEAVY + ("numpy",) and m not in allowed]


# --------------------------------------------------------------------------------------------
# --version and --help


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_top_level_imports_no_numpy(argv):
    modules = imported_after(argv)
    assert heavy_in(modules) == []
    # and no package of the study: only the command line and the ground floor it stands on
    ours = [m for m in modules if m.startswith("fplandscape.")]
    assert not [m for m in ours if m.split(".")[1] in ("theory", "sim", "validate", "learn",
                                                       "attractors", "figures", "reproduce")]


def test_import_cli_and_build_parser_imports_no_numpy():
    code = ("import sys\nfrom fplandscape.cli import build_parser\nbuild_parser('')\n"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert heavy_in(proc.stdout.split()) == []


#: ``COMMAND --help`` that must not even import NumPy (learn, fep and dynamics write their
#: library defaults out: test_written_out_defaults_match_the_library).
LIGHT_HELP = [["theory"], ["theory", "entropy"], ["theory", "moments"],
              ["theory", "local-entropy"], ["theory", "critical"], ["reproduce"], ["figures"],
              ["attractors"], ["attractors", "fixed-points"], ["attractors", "census"],
              ["learn"], ["fep"], ["fep", "demo"], ["fep", "sequence"], ["fep", "train"],
              ["fep", "relax"], ["fep", "analyse"], ["dynamics"], ["accessibility"],
              ["bp-entropy"], ["validate"], ["validate", "accessibility"], ["enumerate"]]


@pytest.mark.parametrize("argv", LIGHT_HELP, ids=" ".join)
def test_command_help_imports_no_numpy(argv):
    assert heavy_in(imported_after([*argv, "--help"])) == []


def test_a_command_imports_only_what_it_uses():
    modules = imported_after(["theory", "entropy", "--jd", "0.1", "--json"])
    assert "fplandscape.theory" in modules
    assert not [m for m in modules if m.startswith(("fplandscape.sim", "fplandscape.figures",
                                                    "fplandscape.learn",
                                                    "fplandscape.attractors"))]
    assert "matplotlib" not in modules


# --------------------------------------------------------------------------------------------
# what the lazy start-up relies on: the written-out names agree with the library


def _subparsers(parser):
    (action,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return action


def test_commands_table_matches_the_registered_help():
    """cli.COMMANDS (the top-level help without importing the groups) says what each group
    registers, in the same order."""
    action = _subparsers(build_parser())
    registered = {a.dest: a.help for a in action._choices_actions}
    assert list(registered) == list(COMMANDS)
    for name, (_, text) in COMMANDS.items():
        assert registered[name] == text, f"update COMMANDS[{name!r}] in fplandscape/cli"


def test_lazy_parser_has_the_full_top_level_help():
    assert build_parser("").format_help() == build_parser().format_help()
    for name in COMMANDS:
        lazy = _subparsers(build_parser(name)).choices[name]
        full = _subparsers(build_parser()).choices[name]
        assert lazy.format_help() == full.format_help(), name


def test_written_out_choices_match_the_library():
    from fplandscape import figures, theory
    from fplandscape.attractors.phi import PHI_NAMES
    from fplandscape.cli import attractors as cli_attractors, theory as cli_theory

    assert cli_theory.KINDS == tuple(theory.KINDS)
    assert cli_theory.CRITERIA == tuple(theory.CRITERIA)
    assert cli_attractors.PHI_NAMES == tuple(PHI_NAMES)
    assert figures.NAMES == tuple(figures.FIGURES)

    from fplandscape import stats
    from fplandscape.cli import dynamics as cli_dynamics, learn as cli_learn
    from fplandscape.learn import baselines, data, network, rule

    assert cli_dynamics.EXTRAPOLATIONS == tuple(stats.EXTRAPOLATIONS)
    from fplandscape.cli import enumerate as cli_enumerate
    from fplandscape.sim import enumerate as sim_enumerate

    assert cli_enumerate.METHODS == tuple(sim_enumerate.METHODS)
    assert cli_learn.DATASETS == tuple(data.DATASETS)
    assert cli_learn.MLXTEND_HINT == data.MLXTEND_HINT
    assert cli_learn.INPUT_TO == tuple(network.INPUT_TO)
    assert cli_learn.FEEDBACK_CODES == tuple(network.FEEDBACK_CODES)
    assert cli_learn.MODES == tuple(network.MODES)
    assert cli_learn.WARMUPS == tuple(network.WARMUPS)
    assert cli_learn.FEEDBACK_FROM == tuple(network.FEEDBACK_FROM)
    assert cli_learn.LR_SCALES == tuple(rule.LR_SCALES)
    assert cli_learn.BASELINES == tuple(baselines.BASELINES)


def _typed(values: dict) -> dict:
    """{key: (type, value)}: 30 and 30.0 are equal but print differently in --help."""
    return {k: (type(v), v) for k, v in values.items()}


def test_written_out_defaults_match_the_library():
    """The option defaults learn and fep write out (so that --help imports no NumPy) are the
    library's: Plasticity() and the FEP studies' protocols."""
    from fplandscape.cli import fep as cli_fep, learn as cli_learn
    from fplandscape.learn.fep import studies
    from fplandscape.learn.rule import Plasticity

    rule = Plasticity()
    assert _typed(cli_learn.PLASTICITY_DEFAULTS) == _typed(
        {k: getattr(rule, k) for k in cli_learn.PLASTICITY_DEFAULTS})
    for cli_values, library in ((cli_fep.DEMO, studies.DEMO), (cli_fep.SEQUENCE, studies.SEQUENCE)):
        assert _typed(cli_values) == _typed({k: library[k] for k in cli_values})
