"""`beacon snippet DOMAIN`: print the HTML a site pastes into its pages.

The command parses the options; shared.tracking.snippet renders the HTML.
"""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit

from shared.sites import normalise_domain
from shared.tracking.script import script_version
from shared.tracking.snippet import SnippetOptions, render_snippet


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
