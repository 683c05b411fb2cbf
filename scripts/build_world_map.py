"""Build dashboard_app/static/maps/world_110m.json, the world map outlines the dashboard
serves itself (Plotly would otherwise fetch them from its CDN at run time).

Input: countries-110m.json of the npm package world-atlas 2.x (Natural Earth 1:110m admin
0 boundaries, public domain, as TopoJSON; ISC licence), e.g. from `npm pack world-atlas@2`.
Plotly's geo maps look countries up by ISO 3166 alpha-3 id in the `countries` object;
world-atlas keys them by the numeric code, so the ids are rewritten with pycountry.

    python scripts/build_world_map.py path/to/countries-110m.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pycountry

OUT = Path(__file__).resolve().parent.parent / "dashboard_app" / "static" / "maps"


def alpha3_ids(topology: dict) -> dict:
    for geometry in topology["objects"]["countries"]["geometries"]:
        found = pycountry.countries.get(numeric=str(geometry.get("id", "")))
        if found is None:     # e.g. Kosovo, N. Cyprus: no ISO code; drawn, not matched
            geometry.pop("id", None)
        else:
            geometry["id"] = found.alpha_3
        geometry.pop("properties", None)   # names come from pycountry in the dashboard
    return topology


def main(source: str) -> None:
    topology = alpha3_ids(json.loads(Path(source).read_text()))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "world_110m.json").write_text(json.dumps(topology, separators=(",", ":")))


if __name__ == "__main__":
    main(sys.argv[1])
