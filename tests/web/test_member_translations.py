"""The Persian catalog covers every member-facing string, nothing in it is
fuzzy or untranslated, and the compiled .mo matches the .po beside it."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "webapp" / "translations" / "fa" / "LC_MESSAGES"


def _po():
    with open(CATALOG / "messages.po", "rb") as f:
        return read_po(f, locale="fa")


def _source_messages() -> set[str | tuple[str, ...]]:
    """Extract exactly as babel.cfg says, including templates/_partials (Babel
    skips folders starting with "_" unless told otherwise)."""
    with open(ROOT / "babel.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

    def directory_filter(path: str) -> bool:
        name = Path(path).name
        return not (name.startswith(".") or name in {"__pycache__", "node_modules", "instance"})

    found = extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords,
                             directory_filter=directory_filter)
    return {message for _file, _line, message, _comments, _context in found}


def test_fa_catalog_has_no_untranslated_or_fuzzy_entries():
    catalog = _po()
    assert len(catalog) > 50
    untranslated = [m.id for m in catalog if m.id and not m.string]
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert untranslated == [] and fuzzy == []
    assert not catalog.obsolete


def test_fa_catalog_covers_every_member_facing_string():
    catalog = _po()
    extracted = _source_messages()
    assert "Log in" in extracted and "optional" in extracted  # a page and a partial
    missing = [m for m in extracted if (m if isinstance(m, str) else m[0]) not in catalog]
    assert missing == [], "run the pybabel commands in babel.cfg"


def test_fa_translations_keep_their_placeholders():
    catalog = _po()
    problems = [(message.id, errors) for message, errors in catalog.check() if errors]
    assert problems == []


def test_compiled_catalog_matches_the_po_file():
    po = _po()
    with open(CATALOG / "messages.mo", "rb") as f:
        mo = read_mo(f)
    # plural messages come back as lists from .mo files and as tuples from .po files
    po_pairs = {_key(m.id): _key(m.string) for m in po if m.id}
    mo_pairs = {_key(m.id): _key(m.string) for m in mo if m.id}
    assert mo_pairs == po_pairs, "run: pybabel compile -d webapp/translations"


def _key(value):
    return tuple(value) if isinstance(value, list | tuple) else value
