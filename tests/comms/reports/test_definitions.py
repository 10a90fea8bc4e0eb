"""Every figure's definition is written once for people: the help text and docs/architecture.md say the same."""

import re
from pathlib import Path

from comms.reports import DEFINITIONS

DOC = Path(__file__).resolve().parents[3] / "docs" / "architecture.md"


def test_the_architecture_page_gives_each_definition_in_the_same_words():
    section = DOC.read_text().split("## Metrics: on-call load, pager latency, alert noise (`comms/reports/`)")[1].split("\n## ")[0]
    text = re.sub(r"\s+", " ", section.replace("**", "").replace("`", "").replace("\n- ", "\n"))
    missing = [name for name, sentence in DEFINITIONS.items() if sentence not in text]
    assert missing == []
    assert len(DEFINITIONS) == 12
