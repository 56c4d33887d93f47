"""The repository documents itself: docs/ defines every formula label and section the code cites.

* Nothing cites a document outside the repository (the old external specification: "spec §N",
  "spec learning.md", "theory.md", "shared/spec", "the spec's …").
* A bare section sign outside paper_notes.md must be a paper_notes section ("paper_notes §8");
  the numbered sections of the model, the formulas, … are pages of docs/ now.
* Every formula label used in the code — (E1) … (E7), (E2η), (E2λ), (E-RS) — has an anchor in
  docs/formulas.md.
* Every ``docs/<page>.md#<anchor>`` cited in the code, and every relative link inside docs/,
  points to an existing file and anchor.
* Every ``fplandscape.…`` name that docs/ gives as the implementing function exists.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
THIS = Path(__file__).resolve()

SCANNED = ("fplandscape", "tests", "benchmarks", "README.md", "figures/README.md", "paper_notes.md")
SUFFIXES = {".py", ".pyx", ".pxd", ".md", ".txt", ".cfg", ".toml", ".ini"}
SKIP_PARTS = {"__pycache__", "build", ".pytest_cache"}

# citations of the external specification (case-insensitive)
EXTERNAL = [
    (r"\bspec(?:ification)?\s*§", "spec §N"),
    (r"(?<![\w./-])(?:theory|learning)\.md\b(?!\]\(docs/)", "theory.md / learning.md outside docs/"),
    (r"shared/spec", "shared/spec"),
    (r"\bthe spec\b|\bspec's\b", "the spec / spec's"),
    (r"\bspec\s*(?:\(E|E\d|:|\"|``|table\b)", "spec (E…) / spec: / spec \"…\""),
    (r"\bspecification\b", "specification"),
]


def _files():
    for entry in SCANNED:
        p = ROOT / entry
        paths = [p] if p.is_file() else sorted(p.rglob("*"))
        for f in paths:
            if (f.is_file() and f.suffix in SUFFIXES and f.resolve() != THIS
                    and not SKIP_PARTS.intersection(f.relative_to(ROOT).parts)
                    and not any(part.endswith(".egg-info") for part in f.parts)):
                yield f


def _lines():
    for f in _files():
        rel = f.relative_to(ROOT).as_posix()
        for i, line in enumerate(f.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            yield rel, i, line


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    h = re.sub(r"<[^>]+>", "", heading).strip().lower()
    h = re.sub(r"[^\w\- ]", "", h)
    return h.replace(" ", "-")


def _anchors(md: Path) -> set:
    text = md.read_text(encoding="utf-8")
    ids = set(re.findall(r"""<a\s+(?:id|name)=["']([^"']+)["']""", text))
    slugs = {_slug(m) for m in re.findall(r"^#{1,6}\s+(.*?)\s*#*\s*$", text, flags=re.M)}
    return ids | slugs


def _label_anchor(digits: str, suffix: str) -> str:
    if digits == "-RS":
        return "e-rs"
    suffix = {"η": "eta", "λ": "lambda"}.get(suffix, suffix)
    return f"e{digits}{suffix}"


# (E1), E2η, E2eta, E2$\\lambda$ (matplotlib legends), E-RS; not 1E4, not E[…]
LABEL = re.compile(r"(?<![A-Za-z0-9_\\])E(-RS|\d)(?:(η|λ|eta|lambda)|\$\\+(eta|lambda)\$)?"
                   r"(?![A-Za-z0-9_])")
DOC_REF = re.compile(r"(?<![\w./-])docs/([\w./-]*?\.md)(?:#([\w\-]+))?")


def test_docs_pages_exist():
    for page in ("README.md", "model.md", "formulas.md", "critical.md", "observables.md",
                 "algorithms.md", "figures.md", "learning.md"):
        assert (DOCS / page).is_file(), page


def test_no_citation_of_an_external_document():
    bad = []
    for rel, i, line in _lines():
        for pattern, what in EXTERNAL:
            if re.search(pattern, line, flags=re.I):
                bad.append(f"{rel}:{i}: [{what}] {line.strip()[:110]}")
    assert not bad, ("cite docs/ instead of the external specification:\n" + "\n".join(bad))


def test_section_signs_name_their_document():
    """Outside paper_notes.md, "§N" must be a paper_notes section (the word on the same line,
    before the sign); the numbered sections of the old specification are docs/ pages now."""
    bad = []
    for rel, i, line in _lines():
        if rel == "paper_notes.md":
            continue
        for m in re.finditer(r"§", line):
            if "paper_notes" not in line[:m.start()]:
                bad.append(f"{rel}:{i}: {line.strip()[:110]}")
                break
    assert not bad, "a bare § (use docs/<page>.md or 'paper_notes §N'):\n" + "\n".join(bad)


def test_every_formula_label_has_an_anchor():
    anchors = _anchors(DOCS / "formulas.md")
    found = {}
    for rel, i, line in _lines():
        if rel == "paper_notes.md":
            continue
        for m in LABEL.finditer(line):
            a = _label_anchor(m.group(1), m.group(2) or m.group(3) or "")
            found.setdefault(a, f"{rel}:{i}")
    assert {"e1", "e2", "e2eta", "e2lambda", "e3", "e4", "e5", "e6", "e7", "e-rs"} <= set(found)
    missing = {a: where for a, where in found.items() if a not in anchors}
    assert not missing, f"labels without an anchor in docs/formulas.md: {missing}"


def test_docs_references_in_the_code_resolve():
    bad = []
    for rel, i, line in _lines():
        for m in DOC_REF.finditer(line):
            page, anchor = DOCS / m.group(1), m.group(2)
            if not page.is_file():
                bad.append(f"{rel}:{i}: no page docs/{m.group(1)}")
            elif anchor and anchor not in _anchors(page):
                bad.append(f"{rel}:{i}: no anchor #{anchor} in docs/{m.group(1)}")
    assert not bad, "\n".join(bad)


def test_links_inside_docs_resolve():
    bad = []
    for md in sorted(DOCS.glob("*.md")):
        for target in re.findall(r"\]\(([^)\s]+)\)", md.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # external URL
            path, _, anchor = target.partition("#")
            dest = (md.parent / path).resolve() if path else md
            if not dest.exists():
                bad.append(f"{md.name}: {target} (no file)")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                bad.append(f"{md.name}: {target} (no anchor)")
    assert not bad, "\n".join(bad)


def _resolve(dotted: str):
    parts = dotted.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ImportError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def _doc_names():
    names = set()
    for md in sorted(DOCS.glob("*.md")):
        names |= set(re.findall(r"`(fplandscape(?:\.\w+)+)", md.read_text(encoding="utf-8")))
    return sorted(names)


@pytest.mark.parametrize("dotted", _doc_names())
def test_functions_named_in_docs_exist(dotted):
    try:
        _resolve(dotted)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"docs/ names {dotted}, which does not exist ({exc})")
