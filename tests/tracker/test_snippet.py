"""`beacon snippet`: the exact HTML, its options, and refusal of hostile input."""

from __future__ import annotations

import pytest

from beacon_cli.main import main
from shared.tracking.script import script_version


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["snippet", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_default_snippet(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "https://www.Example.com/", "--host", "https://stats.example.org/")
    assert code == 0
    assert out == (
        '<script defer data-domain="example.com" src="https://stats.example.org/js/script.js">'
        "</script>\n"
        "<script>window.plausible=window.plausible||function(){(window.plausible.q="
        "window.plausible.q||[]).push(arguments)};window.beacon=window.beacon||"
        "window.plausible</script>\n"
        '<noscript><img src="https://stats.example.org/p.gif?d=example.com" alt="" width="1" '
        'height="1" referrerpolicy="no-referrer-when-downgrade" style="position:absolute">'
        "</noscript>\n"
    )


def test_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "example.com,Shop.example.net", "--host",
                       "https://stats.example.org", "--api", "https://example.com/ev/",
                       "--hash", "--manual", "--no-outbound-links", "--no-file-downloads",
                       "--file-types", "PDF, .epub", "--add-file-types", "mobi",
                       "--track-forms", "--include-localhost", "--no-queue", "--no-pixel",
                       "--404")
    assert code == 0
    first, *rest = out.splitlines()
    assert first == (
        '<script defer data-domain="example.com,shop.example.net" '
        'data-api="https://example.com/ev" data-hash data-manual data-track-forms '
        'data-include-localhost data-outbound-links="false" data-file-downloads="false" '
        'data-file-types="pdf,epub" data-add-file-types="mobi" '
        'src="https://stats.example.org/js/script.js"></script>')
    assert rest == ["<!-- on the 404 page only: -->",
                    "<script>document.addEventListener('DOMContentLoaded',function(){"
                    "plausible('404',{props:{path:document.location.pathname}})})</script>"]


def test_core_and_versioned(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "example.com", "--host", "https://s.example.org", "--core",
                    "--versioned", "--no-pixel", "--no-queue")
    version = script_version(core=True)
    assert out == ('<script defer data-domain="example.com" '
                   f'src="https://s.example.org/js/script.core.js?v={version}"></script>\n')


def test_without_host_uses_first_party_paths_and_says_so(
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "example.com")
    assert code == 0
    assert 'src="/js/script.js"' in out and 'src="/p.gif?d=example.com"' in out
    assert "--host" in err


@pytest.mark.parametrize("args", [
    ['"><script>alert(1)</script>'],
    ["example.com", "--host", "javascript:alert(1)"],
    ["example.com", "--api", "ftp://x"],
    ["example.com", "--file-types", "pdf,<b>"],
], ids=["domain", "host", "api", "file-types"])
def test_hostile_input_is_refused(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    try:
        code = main(["snippet", *args])
    except SystemExit as exc:   # argparse refuses bad option values itself
        code = int(exc.code or 0)
    out, _ = capsys.readouterr()
    assert code == 2
    assert out == ""      # nothing that could be pasted into a page
