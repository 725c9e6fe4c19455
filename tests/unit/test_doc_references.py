"""Every pointer into the documentation leads somewhere a reader of this repository can go.

Code and docs cite sections as ``design.md §5.2`` or ``containerd-store.md §2.8`` (several on
one line: ``containerd-store.md §2.3, §2.4``); each cited file must be in ``docs/`` and each
section number must be a heading of that file.  Files that are not in the repository
(DESIGN.md, TEAM.md, "the spec") must not be cited at all, and paths to the repository's own
files named in the docs must exist.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
SKIP_DIRS = {".git", ".venv", "__pycache__", "_pb", "_artifacts", "dist", "build"}
SUFFIXES = {".py", ".md", ".toml", ".sh", ".txt", ".cfg", ".spec", ".qss"}

CITATION = re.compile(r"([\w./-]+\.md)((?:[^§\n]{0,12}?§\s*\d+(?:\.\d+)*)+)")
SECTION = re.compile(r"§\s*(\d+(?:\.\d+)*)")
HEADING = re.compile(r"^#{1,6}\s+(\d+(?:\.\d+)*)[.\s]")
GONE = re.compile(r"\bDESIGN\.md\b|\bTEAM\.md\b|\bspec\s*§|\bDEVELOPERS\.md\b|\.\./shared/(?:DESIGN|spec)")
REPO_PATH = re.compile(r"`((?:store|gui|tests|scripts|packaging|resources|docs)/[\w./-]+)`")


def _files() -> list[Path]:
    out = []
    for p in REPO.rglob("*"):
        if p.is_file() and p.suffix in SUFFIXES and not SKIP_DIRS.intersection(p.relative_to(REPO).parts):
            out.append(p)
    return sorted(out)


def _sections(doc: Path) -> set[str]:
    found = set()
    for line in doc.read_text(encoding="utf-8").splitlines():
        m = HEADING.match(line)
        if m:
            found.add(m.group(1))
    return found


def _citations(text: str) -> list[tuple[int, str, str]]:
    """(line, file, section) for every section cited; a § with no file before it is ('', n)."""
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        covered = set()
        for m in CITATION.finditer(line):
            for s in SECTION.finditer(m.group(2)):
                out.append((lineno, Path(m.group(1)).name, s.group(1)))
                covered.add(m.start(2) + s.start())
        for s in SECTION.finditer(line):
            if s.start() not in covered:
                out.append((lineno, "", s.group(1)))
    return out


def test_the_citation_reader_reads_what_code_writes():
    assert _citations("x (containerd-store.md §2.3, §2.4, §2.9) y") == [
        (1, "containerd-store.md", "2.3"), (1, "containerd-store.md", "2.4"), (1, "containerd-store.md", "2.9")]
    assert _citations("see docs/design.md §5.2 and §3") == [(1, "design.md", "5.2"), (1, "design.md", "3")]
    assert _citations("a bare §4 here") == [(1, "", "4")]
    assert "1.2" in _sections(DOCS / "containerd-store.md")


@pytest.mark.parametrize("doc", ["design.md", "containerd-store.md"])
def test_the_design_documents_exist_and_are_numbered(doc):
    assert len(_sections(DOCS / doc)) >= 8


def test_every_section_cited_exists():
    bad = []
    docs = {p.name: _sections(p) for p in DOCS.glob("*.md")}
    for path in _files():
        if path == Path(__file__):
            continue  # its own examples
        rel = path.relative_to(REPO)
        for line, name, section in _citations(path.read_text(encoding="utf-8", errors="replace")):
            if not name:
                if path.parent == DOCS and path.name in docs and section in docs[path.name]:
                    continue  # a doc citing its own section
                bad.append(f"{rel}:{line}: §{section} names no document")
            elif name not in docs:
                bad.append(f"{rel}:{line}: {name} is not in docs/")
            elif section not in docs[name]:
                bad.append(f"{rel}:{line}: {name} has no §{section}")
    assert bad == [], "\n".join(bad)


def test_nothing_cites_documents_that_are_not_in_the_repository():
    bad = []
    for path in _files():
        if path == Path(__file__):
            continue
        for lineno, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if GONE.search(line):
                bad.append(f"{path.relative_to(REPO)}:{lineno}: {line.strip()[:100]}")
    assert bad == [], "\n".join(bad)


GENERATED = ("tests/_artifacts/",)


def test_repository_paths_named_in_the_docs_exist():
    bad = []
    for doc in [*DOCS.glob("*.md"), REPO / "README.md", REPO / "CONTRIBUTING.md"]:
        if not doc.exists():
            continue
        for lineno, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            for m in REPO_PATH.finditer(line):
                target = m.group(1).rstrip(".,")
                if any(ch in target for ch in "*<>{}") or target.endswith("/..."):
                    continue
                # tests/_artifacts/ is made by the test run itself (and ignored by git)
                if target.startswith(GENERATED):
                    continue
                if not (REPO / target).exists():
                    bad.append(f"{doc.name}:{lineno}: {target}")
    assert bad == [], "\n".join(bad)
