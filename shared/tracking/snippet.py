"""The HTML a site pastes into its pages: the script tag, a queue stub, a noscript pixel.

Three parts: the script tag (with one data- attribute per chosen option), a queue stub
so `plausible(...)` calls made before the script has loaded are kept, and a
`<noscript>` pixel so visitors without JavaScript still count as a pageview.
Rendered by `beacon snippet` and by the dashboard's settings page.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

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
