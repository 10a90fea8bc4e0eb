"""The README tells a new user who they can sign in as: every demo user, with their group."""

import re
from pathlib import Path

from incidents.demo.catalogue import DEMO_USERS

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_demo_logins_table_lists_every_demo_user_with_their_group():
    section = README.read_text().split("## Demo logins", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\w+) \| ([^|]+?) \|", section, flags=re.MULTILINE)
    listed = {user: group for user, group in rows if user != "user"}
    assert listed == {username: group for username, *_, group in DEMO_USERS}
