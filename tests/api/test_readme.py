"""README.md against the code: the settings table names every variable the
server reads, and every file it points at is in the repository."""

import glob
import re

from conftest import REPO

README = REPO / "README.md"


def section(title):
    text = README.read_text()
    m = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## )", text, re.S | re.M)
    assert m, f"README has no section {title!r}"
    return m.group(1)


def variables_read():
    """Every CABINET_* name of the settings table and of getenv() calls."""
    names = set()
    for path in sorted((REPO / "server").rglob("*.c")):
        text = path.read_text()
        names |= set(re.findall(r'\{"(CABINET_[A-Z0-9_]+)", "--', text))
        names |= set(re.findall(r'getenv\("(CABINET_[A-Z0-9_]+)"\)', text))
    assert "CABINET_DATABASE_URL" in names and "CABINET_PASSWORD" in names, names
    return names


def test_the_configuration_table_names_every_variable_the_code_reads():
    rows = set(re.findall(r"^\| `(CABINET_[A-Z0-9_]+)` \|", section("Configuration"), re.M))
    read = variables_read()
    assert read - rows == set(), "read by the server, missing from README's Configuration table"
    assert rows - read == set(), "in README's Configuration table, read nowhere"


def test_every_setting_has_a_flag_the_table_promises():
    text = (REPO / "server" / "config.c").read_text()
    pairs = re.findall(r'\{"(CABINET_([A-Z0-9_]+))", "--([a-z0-9-]+)"', text)
    assert pairs
    for _, tail, flag in pairs:
        assert flag == tail.lower().replace("_", "-"), f"--{flag} for CABINET_{tail}"


def test_every_file_the_readme_names_is_in_the_repository():
    text = README.read_text()
    paths = set(re.findall(r"`((?:server|tests|sql|web|docker)/[^`\s]*)`", text))
    assert len(paths) > 30
    missing = sorted(p for p in paths if not glob.glob(str(REPO / p.rstrip("/"))))
    assert missing == []


def test_the_readme_points_at_nothing_outside_the_repository():
    text = README.read_text()
    for outside in ("DESIGN.md", "STYLE.md", "/work/", "/root/"):
        assert outside not in text
    # no path in backquotes climbs out of the repository
    assert not re.findall(r"`\.\./[^`]*`", text)
    links = re.findall(r"\]\(([^)]+)\)", text)
    for link in links:
        if link.startswith(("#", "https://", "http://")):
            continue
        assert not link.startswith(".."), link
        assert (REPO / link.split("#")[0]).exists(), link
