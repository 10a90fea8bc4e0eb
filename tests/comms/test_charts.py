"""The dashboard's and reports' charts: inline SVG a browser or mail client draws without running
anything, titled, with both axes named, and the same figures as a table for those who cannot see it."""

from xml.etree import ElementTree

from comms.reports import charts


def _parsed(chart):
    return ElementTree.fromstring(chart.svg)


def test_a_trend_is_an_svg_without_script_with_its_targets_and_a_table_of_its_figures():
    chart = charts.line(
        "MTTA <by> week", ["30 Nov", "7 Dec"], {"SEV-1": [4.5, None], "SEV-2": [12.0, 9.0]},
        x_title="Week", y_title="Minutes", targets={"SEV-1": 5, "SEV-2": 15}, unit=" min",
    )
    root = _parsed(chart)  # well-formed XML
    assert root.tag.endswith("svg") and root.get("role") == "img" and root.get("aria-label") == "MTTA <by> week"
    assert "<script" not in chart.svg and "href=" not in chart.svg  # nothing to run, nothing to fetch
    texts = " ".join(t for t in root.itertext())
    for words in ("Week", "Minutes", "SEV-1 target", "SEV-2 target", "30 Nov", "7 Dec"):
        assert words in texts
    assert chart.header == ("Week", "SEV-1", "SEV-2", "SEV-1 target", "SEV-2 target")
    assert chart.rows == (("30 Nov", "4.5 min", "12 min", "5 min", "15 min"), ("7 Dec", "—", "9 min", "5 min", "15 min"))


def test_counts_are_stacked_on_whole_number_axes():
    chart = charts.stacked_bars("Incidents by week", ["W1", "W2"], {"SEV-1": [1, 0], "SEV-2": [2, 5]}, x_title="Week", y_title="Incidents")
    y_axis = next(g for g in _parsed(chart).iter() if g.get("class", "").startswith("axis y"))
    labels = sorted({t.strip() for t in y_axis.itertext() if t.strip()}, key=float)
    assert labels[0] == "0" and int(labels[-1]) >= 5 and all(label.isdigit() for label in labels)  # never 0.8, 1.6
    assert chart.rows == (("W1", "1", "2", "3"), ("W2", "0", "5", "5"))


def test_bars_name_each_label_and_shares_are_drawn_to_a_hundred():
    people = charts.bars("Pages per person", {"Alice Ng": 12, "Bob Stone": 3}, x_title="Person", y_title="Pages", horizontal=True)
    texts = list(_parsed(people).itertext())
    assert "Alice Ng" in texts and "Bob Stone" in texts
    assert people.header == ("Person", "Pages") and people.rows == (("Alice Ng", "12"), ("Bob Stone", "3"))
    shares = charts.bars("SLA compliance", {"SEV-1": 80.0, "SEV-2": None}, x_title="Severity", y_title="Met (%)", unit=" %", top=100)
    assert "100" in list(_parsed(shares).itertext())
    assert shares.rows == (("SEV-1", "80 %"), ("SEV-2", "—"))
