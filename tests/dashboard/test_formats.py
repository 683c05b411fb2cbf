"""The one number formatter, the ranked list chart (pure Plotly) and Streamlit's options
as `beacon dashboard` loads them."""

from __future__ import annotations

import pytest

from beacon_cli.streamlit_options import FIXED_OPTIONS, environment_options
from dashboard_app import charts, formats


@pytest.mark.parametrize(("name", "value", "shown"), [
    ("visitors", 1234567, "1,234,567"),
    ("visitors", None, "–"),
    ("views_per_visit", 3.2812, "3.28"),
    ("views_per_visit", 17.9, "17.90"),
    ("bounce_rate", 51.4, "51%"),
    ("bounce_rate", None, "–"),
    ("visit_duration", 77, "1m 17s"),
    ("visit_duration", 9.4, "9s"),
    ("visit_duration", 3725, "1h 02m"),
    ("time_on_page", float("nan"), "–"),
], ids=lambda v: str(v))
def test_metric_formats(name: str, value: float | None, shown: str) -> None:
    assert formats.metric(name, value) == shown


def test_cells_money_changes_and_countries() -> None:
    assert formats.cell("revenue", 2430.7000000000003) == 2430.7
    assert formats.cell("visitors", 12.0) == 12 and isinstance(formats.cell("visits", 3.0), int)
    assert formats.cell("bounce_rate", None) is None
    assert formats.money(19.9, "eur") == "EUR 19.90"
    assert formats.money(19.9, None) == "–"      # no sum over unknown currencies
    assert formats.change(12.345) == "+12.3%" and formats.change(-2, points=True) == "-2.0 pt"
    assert formats.change(None) is None
    assert formats.country_name("DE") == "Germany"
    assert formats.country_name("XX") == "XX" and formats.country_name("") == "–"


def test_ranked_list_escapes_names_and_highlights_the_filtered_row() -> None:
    fig = charts.ranked_list(["/pricing", "<img src=x onerror=alert(1)>"], [30, 3],
                             ["30", "3"], selected=frozenset({"/pricing"}))
    ticks = list(fig.layout.yaxis.ticktext)
    assert ticks[0] == "<b>/pricing</b>" and "<img" not in ticks[1]
    track, bars = fig.data
    assert list(track.text) == ["30", "3"]               # the numbers, at the right edge
    assert list(bars.customdata) == ["/pricing", "<img src=x onerror=alert(1)>"]
    assert bars.marker.color[0] == charts.LIST_SELECTED != bars.marker.color[1]
    # The longest bar leaves room for the numbers.
    assert fig.layout.xaxis.range[1] == pytest.approx(30 / charts.LIST_BAR_SHARE)


def test_counts_have_integer_axes() -> None:
    import pandas as pd

    df = pd.DataFrame({"bucket": [1, 2], "visitors": [1, 2]})
    assert charts.timeseries(df, "visitors", "Visitors").layout.yaxis.tickformat == ",d"


def test_streamlit_options_from_the_environment_and_fixed_ones() -> None:
    found = environment_options({"STREAMLIT_SERVER_MAX_UPLOAD_SIZE": "5",
                                 "STREAMLIT_CLIENT_TOOLBAR_MODE": "viewer",
                                 "UNRELATED": "x"})
    assert found == {"server.maxUploadSize": 5, "client.toolbarMode": "viewer"}
    assert FIXED_OPTIONS["browser.gatherUsageStats"] is False
    with pytest.raises(SystemExit, match="STREAMLIT_SERVER_MAX_UPLOAD_SIZE"):
        environment_options({"STREAMLIT_SERVER_MAX_UPLOAD_SIZE": "many"})


def test_csv_cells_go_through_the_formatter_and_stay_formula_safe() -> None:
    import csv
    import io

    import pandas as pd

    from dashboard_app.downloads import to_csv_bytes

    df = pd.DataFrame({
        "Page": ["=1+2", "\tcmd", "\r@SUM(A1)", "/ok"],
        "Visitors": [3, 4, 5, 6],
        "Views per visit": [2.3333333, 1.0, None, 17.9],
        "Bounce rate (%)": [33.333333, 50.0, 0.1 + 0.2, None],
        "Visit duration (s)": [76.6, 12.5000001, 3.0, None],
        "Conversion rate (%)": [2430.7000000000003, 1.25, 0.0, None],
        "amount": [0.1 + 0.2, 19.99, -5.0, None],     # no metric: value kept, noise gone
    })
    header, *rows = list(csv.reader(io.StringIO(to_csv_bytes(df).decode(), newline="")))
    assert header == list(df.columns)
    assert [r[0] for r in rows] == ["'=1+2", "'\tcmd", "'\r@SUM(A1)", "/ok"]
    assert [r[1:] for r in rows] == [
        ["3", "2.33", "33", "77", "2430.7", "0.3"],
        ["4", "1.0", "50", "13", "1.2", "19.99"],
        ["5", "", "0", "3", "0.0", "-5.0"],
        ["6", "17.9", "", "", "", ""],
    ]


def test_revenue_is_one_amount_per_currency() -> None:
    from dashboard_app.tables import amounts_text

    assert amounts_text({"USD": 3.0, "EUR": 1234.5}) == "EUR 1,234.50; USD 3.00"
    assert amounts_text({}) == "–" and amounts_text({"EUR": 0.0}) == "–"
