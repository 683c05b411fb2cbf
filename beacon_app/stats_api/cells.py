"""Stats API, run step: a *cell* - one result row before its metrics are chosen - and
how its dimension values are shown (the API's names: "Direct / None", country names)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from beacon_app.stats_api.filters import DIRECT
from beacon_app.stats_api.names import country_name
from beacon_app.stats_api.request import TIME_DIMENSIONS, ApiQuery
from shared.stats.results import Metrics


@dataclass
class Cell:
    dims: list[str]              # as stored (the query layer's values)
    metrics: Metrics
    time_index: int | None = None


def key_of(cell: Cell) -> tuple[Any, ...]:
    """What matches a cell across queries: its values, a time bucket by its position."""
    return (cell.time_index, *cell.dims[1:]) if cell.time_index is not None \
        else tuple(cell.dims)


def shown(api: ApiQuery, cell: Cell) -> list[str]:
    """The cell's dimension values in the asked order, named as the API names them."""
    values = list(cell.dims)
    out: list[str] = []
    for name in api.dimensions:
        if name in TIME_DIMENSIONS:
            out.append(values.pop(0) if cell.time_index is not None else "")
            continue
        value = values.pop(0) if values else ""
        if name == "visit:source" and value == "":
            value = DIRECT
        elif name == "visit:country_name":
            value = country_name(value)
        out.append(value)
    return out
