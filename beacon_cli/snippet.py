"""`beacon snippet DOMAIN`: print the HTML a site pastes into its pages.

Three parts: the script tag (with one data- attribute per chosen option), a queue stub
so `plausible(...)` calls made before the script has loaded are kept, and a
`<noscript>` pixel so visitors without JavaScript still count as a pageview.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode, urlsplit

from shared.sites import normalise_domain

# Defines window.plausible (and its alias window.beacon) as a function that queues its
# arguments; the tracker replays the queue when it loads.
QUEUE_STUB = ("<script>window.plausible=window.plausible||function(){(window.plausible.q="
              "window.plausible.q||[]).push(arguments)};window.beacon=window.beacon||"
              "window.plausible</script>")

NOT_FOUND = ("<script>document.addEventListener('DOMContentLoaded',function(){"
             "plausible('404',{props:{path:document.location.pathname}})})</script>")


@dataclass(frozen=True)
class SnippetOptions:
    domains: tuple[str, ...]
    host: str = ""                 # the beacon's public origin; "" = first-party proxy paths
    api: str = ""
    hash: bool = False
    manual: bool = False
    outbound_links: bool = True
    file_downloads: bool = True
    track_forms: bool = False
    include_localhost: bool = False
    file_types: str = ""
    add_file_types: str = ""
    core: bool = False
    version: str = ""              # appended as ?v= for a year-long browser cache
    queue: bool = True
    pixel: bool = True
    not_found: bool = False


def _attr(name: str, value: str) -> str:
    return f' {name}="{escape(value, quote=True)}"'


def script_tag(o: SnippetOptions) -> str:
    src = f"{o.host}/js/{'script.core.js' if o.core else 'script.js'}"
    if o.version:
        src += "?" + urlencode({"v": o.version})
    attrs = _attr("data-domain", ",".join(o.domains))
    if o.api:
        attrs += _attr("data-api", o.api)
    for flag, name in ((o.hash, "data-hash"), (o.manual, "data-manual"),
                       (o.track_forms, "data-track-forms"),
                       (o.include_localhost, "data-include-localhost")):
        if flag:
            attrs += f" {name}"
    if not o.core:
        if not o.outbound_links:
            attrs += _attr("data-outbound-links", "false")
        if not o.file_downloads:
            attrs += _attr("data-file-downloads", "false")
        if o.file_types:
            attrs += _attr("data-file-types", o.file_types)
        if o.add_file_types:
            attrs += _attr("data-add-file-types", o.add_file_types)
    return f'<script defer{attrs}{_attr("src", src)}></script>'


def pixel_tag(o: SnippetOptions) -> str:
    # Without u=, the beacon takes the page from the Referer header; the referrer policy
    # asks the browser to send the full URL, not just the origin.
    src = f"{o.host}/p.gif?" + urlencode({"d": ",".join(o.domains)})
    return (f'<noscript><img{_attr("src", src)} alt="" width="1" height="1" '
            'referrerpolicy="no-referrer-when-downgrade" style="position:absolute"></noscript>')


def render_snippet(o: SnippetOptions) -> str:
    parts = [script_tag(o)]
    if o.queue:
        parts.append(QUEUE_STUB)
    if o.pixel:
        parts.append(pixel_tag(o))
    if o.not_found:
        parts += ["<!-- on the 404 page only: -->", NOT_FOUND]
    return "\n".join(parts) + "\n"


def _origin(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(f"{value!r} is not an http(s) URL such as "
                                         "https://stats.example.com")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _file_types(value: str) -> str:
    types = [t.strip().lstrip(".").lower() for t in value.split(",") if t.strip()]
    if not types or not all(t.replace("-", "").isalnum() for t in types):
        raise argparse.ArgumentTypeError(f"{value!r} is not a comma list of extensions")
    return ",".join(types)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("snippet", help="print the HTML to paste into a site's pages")
    p.add_argument("domain", help="the site's domain; a comma list sends to several sites")
    p.add_argument("--host", type=_origin,
                   help="public URL of the beacon, e.g. https://stats.example.com "
                        "(default: first-party paths for a proxy, see docs/tracking.md)")
    p.add_argument("--api", type=_origin,
                   help="event endpoint if not <script origin>/api/event")
    p.add_argument("--hash", action="store_true", help="hash-based routing (#/page)")
    p.add_argument("--manual", action="store_true",
                   help="no automatic pageviews; call plausible('pageview') yourself")
    p.add_argument("--no-outbound-links", dest="outbound_links", action="store_false",
                   help="do not track clicks on links to other sites")
    p.add_argument("--no-file-downloads", dest="file_downloads", action="store_false",
                   help="do not track clicks on file links")
    p.add_argument("--file-types", type=_file_types,
                   help="replace the list of tracked file extensions (comma list)")
    p.add_argument("--add-file-types", type=_file_types,
                   help="track these extensions besides the default list (comma list)")
    p.add_argument("--track-forms", action="store_true", help="track form submissions")
    p.add_argument("--include-localhost", action="store_true",
                   help="also track on localhost (development)")
    p.add_argument("--core", action="store_true",
                   help="the smaller script without click and form tracking")
    p.add_argument("--versioned", action="store_true",
                   help="add ?v=<version> so browsers cache the script for a year (paste "
                        "the snippet again after each upgrade)")
    p.add_argument("--no-queue", dest="queue", action="store_false",
                   help="leave out the stub that queues calls made before the script loads")
    p.add_argument("--no-pixel", dest="pixel", action="store_false",
                   help="leave out the <noscript> pixel")
    p.add_argument("--404", dest="not_found", action="store_true",
                   help="also print the line for the 404 page")
    p.set_defaults(func=run_snippet)


def options_from_args(args: argparse.Namespace) -> SnippetOptions:
    domains = tuple(dict.fromkeys(normalise_domain(d) for d in args.domain.split(",")
                                  if d.strip()))
    if not domains:
        raise ValueError("no domain given")
    version = ""
    if args.versioned:
        from beacon_app.tracker import script_version

        version = script_version(core=args.core)
    return SnippetOptions(
        domains=domains, host=args.host or "", api=args.api or "", hash=args.hash,
        manual=args.manual,
        outbound_links=args.outbound_links, file_downloads=args.file_downloads,
        track_forms=args.track_forms, include_localhost=args.include_localhost,
        file_types=args.file_types or "", add_file_types=args.add_file_types or "", core=args.core,
        version=version, queue=args.queue, pixel=args.pixel, not_found=args.not_found,
    )


def run_snippet(args: argparse.Namespace) -> int:
    options = options_from_args(args)
    sys.stdout.write(render_snippet(options))
    if not options.host:
        print("note: no --host given, so the snippet uses paths on the site itself; proxy "
              "/js/ and /api/event to the beacon (docs/tracking.md) or pass --host",
              file=sys.stderr)
    return 0
