"""Documentation: the README stays short and its links resolve; every page of the docs
site is in its navigation; the built site loads nothing from another host.

`make test` also runs `mkdocs build --strict`, which fails on a broken link or anchor
inside docs/; these tests cover what that build does not see.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import markdown
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README_MAX_LINES = 300

# A Markdown link or image target: [text](target) / ![alt](target), title and anchor apart.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def _config() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def _nav_pages(nav: Any) -> Iterator[str]:
    """Every page file named in mkdocs.yml's nav, however deeply nested."""
    if isinstance(nav, str):
        yield nav
    elif isinstance(nav, list):
        for item in nav:
            yield from _nav_pages(item)
    elif isinstance(nav, dict):
        for value in nav.values():
            yield from _nav_pages(value)


def test_readme_is_at_most_300_lines() -> None:
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= README_MAX_LINES, (
        f"README.md has {len(lines)} lines; reference belongs in docs/, see docs/development.md")


def _anchors(page: Path) -> set[str]:
    """The heading ids the docs site gives a page (the same Markdown toc extension)."""
    html = markdown.markdown(page.read_text(), extensions=["toc", "tables", "fenced_code"])
    return set(re.findall(r'<h[1-6] id="([^"]+)"', html))


def test_readme_links_point_to_files_and_sections_that_exist() -> None:
    targets = LINK.findall((ROOT / "README.md").read_text())
    local = [t for t in targets if not re.match(r"[a-z]+:", t)]
    assert "docs/img/overview.png" in local, "the README shows the dashboard's screenshot"
    missing = [t for t in local if not (ROOT / t.split("#", 1)[0]).exists()]
    assert not missing, f"README.md links to missing files: {missing}"
    broken = [t for t in local if "#" in t
              and t.split("#", 1)[1] not in _anchors(ROOT / t.split("#", 1)[0])]
    assert not broken, f"README.md links to sections that do not exist: {broken}"


def test_every_docs_page_is_in_the_nav_and_every_nav_page_exists() -> None:
    in_nav = list(_nav_pages(_config()["nav"]))
    on_disk = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    assert sorted(set(on_disk) - set(in_nav)) == [], "pages missing from mkdocs.yml's nav"
    assert sorted(set(in_nav) - set(on_disk)) == [], "nav entries without a page"
    assert len(in_nav) == len(set(in_nav)), "a page is listed twice in the nav"


def test_the_stages_each_have_a_page() -> None:
    titles = {Path(p).stem for p in _nav_pages(_config()["nav"])}
    for page in ("tracking", "ingest", "enrichment", "metrics", "stats-api", "dashboard",
                 "operations", "data-out", "architecture", "benchmarks", "changelog",
                 "security"):
        assert page in titles, f"docs/{page}.md is missing from the nav"


def test_site_config_asks_for_no_third_party_assets() -> None:
    config = _config()
    assert config["strict"] is True
    assert config["theme"]["name"] == "material"
    assert config["theme"]["font"] is False, "web fonts would load from Google's servers"
    assert "repo_url" not in config, "the theme would ask GitHub's API for the repo's stars"
    for key in ("extra_css", "extra_javascript"):
        remote = [u for u in config.get(key, []) if re.match(r"(https?:)?//", str(u))]
        assert not remote, f"{key} loads from another host: {remote}"
    assert "analytics" not in config.get("extra", {})


def _build(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    # Never --quiet: it hides the warnings that --strict counts, and the build passes.
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=project, capture_output=True, text=True, timeout=300,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


@pytest.fixture(scope="module")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    result = _build(ROOT, site)
    assert result.returncode == 0, result.stdout + result.stderr
    return site


@pytest.mark.parametrize("broken", [
    "[a page that is not there](no-such-page.md)",
    "[an anchor that is not there](tracking.md#no-such-section)",
], ids=["missing-page", "missing-anchor"])
def test_strict_build_fails_on_a_broken_link(tmp_path: Path, broken: str) -> None:
    project = tmp_path / "project"
    shutil.copytree(DOCS, project / "docs")
    for name in ("mkdocs.yml", "CHANGELOG.md", "SECURITY.md"):
        shutil.copy(ROOT / name, project / name)
    with (project / "docs" / "design.md").open("a") as page:
        page.write(f"\n{broken}\n")
    result = _build(project, tmp_path / "site")
    assert result.returncode != 0
    assert "design.md" in result.stdout + result.stderr


def test_built_site_loads_nothing_from_another_host(built_site: Path) -> None:
    # What a browser fetches by itself: scripts, stylesheets, images, frames, fonts, and
    # url()/@import in CSS. Plain <a href> links to other sites are not fetched.
    fetched = re.compile(
        r"<(?:script|img|iframe|source|video|audio)\b[^>]*\bsrc=\"(?:https?:)?//"
        r"|<link\b[^>]*\bhref=\"(?:https?:)?//"
        r"|url\(\s*['\"]?(?:https?:)?//"
        r"|@import\s+['\"](?:https?:)?//")
    pages = list(built_site.rglob("*.html"))
    assert len(pages) >= 10
    offending = {}
    for path in [*pages, *built_site.rglob("*.css")]:
        found = fetched.findall(path.read_text(errors="replace"))
        if found:
            offending[path.relative_to(built_site).as_posix()] = found[:3]
    assert not offending, f"the built site would load from other hosts: {offending}"
    # Material loads mermaid from a CDN for a page that has a mermaid diagram: none may.
    assert not [p for p in pages if 'class="mermaid"' in p.read_text(errors="replace")]


def test_built_site_includes_changelog_and_security(built_site: Path) -> None:
    changelog = (built_site / "changelog" / "index.html").read_text()
    assert "Unreleased" in changelog and "0.1.0" in changelog
    security = (built_site / "security" / "index.html").read_text()
    assert "Threat model" in security
