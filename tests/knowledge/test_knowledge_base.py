"""The curated knowledge base and its checks: the real one passes; broken ones are explained."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from knowledge.check import check_copied, check_knowledge_base
from knowledge.loader import TEMPLATES_DIR, THEMES_DIR, KnowledgeError, load_knowledge_base, load_theme_file
from knowledge.sources import SEED_TITLES

GOOD_ENTRY = """
  - id: {id}
    question: {question}
    alternates: [one way, another way, a third way, a fourth way]
    keywords: [test]
    answer: A short answer that is long enough to pass the schema.
    source: "001_ff8aba5cfa945d73.txt: Lessons Learned"
    related: [{related}]
"""


def test_the_real_knowledge_base_passes_with_every_seed_cited() -> None:
    report = check_knowledge_base()
    assert report.problems == []
    assert report.entries >= 150
    assert set(report.seeds_cited) == set(SEED_TITLES)
    assert report.templates >= 4


def test_every_answer_names_its_source_and_templates_exist() -> None:
    kb = load_knowledge_base()
    for entry in kb.entries.values():
        assert entry.source
        if entry.document:
            assert kb.template_path(entry) is not None, entry.id


def _theme(tmp_path: Path, name: str, body: str) -> Path:
    folder = tmp_path / "themes"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("theme: Test theme\nentries:\n" + body, encoding="utf-8")
    return folder


def test_a_broken_entry_is_reported_with_file_entry_and_field(tmp_path: Path) -> None:
    folder = _theme(tmp_path, "broken.yaml", GOOD_ENTRY.format(id="fine-entry", question="Is this fine?",
                                                               related="fine-entry").replace(
        "alternates: [one way, another way, a third way, a fourth way]", "alternates: [only one]"))
    with pytest.raises(KnowledgeError) as caught:
        load_theme_file(folder / "broken.yaml")
    message = str(caught.value)
    assert "broken.yaml" in message and "fine-entry" in message and "alternates" in message


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    folder = tmp_path / "themes"
    folder.mkdir()
    (folder / "bad.yaml").write_text("theme: x\nentries:\n  - id: [unclosed\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"bad.yaml: is not valid YAML at line \d+"):
        load_theme_file(folder / "bad.yaml")


def test_kb_check_lists_every_problem_not_just_the_first(tmp_path: Path) -> None:
    body = (GOOD_ENTRY.format(id="entry-one", question="How do partners share risk?", related="missing-entry")
            + GOOD_ENTRY.format(id="entry-two", question="How do partners share risks?", related="entry-one")
            .replace("001_ff8aba5cfa945d73.txt", "999_nothing.txt")
            + "    document: no-such-template.md\n")
    folder = _theme(tmp_path, "a.yaml", body)
    (folder / "b.yaml").write_text("theme: Other\nentries:\n" + GOOD_ENTRY.format(
        id="entry-one", question="A different question here?", related="entry-two"), encoding="utf-8")
    report = check_knowledge_base(folder, TEMPLATES_DIR)
    text = "\n".join(report.problems)
    assert "related 'missing-entry' does not exist" in text
    assert "'999_nothing.txt', which is not a seed file" in text
    assert "template 'no-such-template.md' not found" in text
    assert "id already used in a.yaml" in text
    assert "ask nearly the same question" in text


def test_the_bot_will_not_start_on_a_broken_knowledge_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.core import startup

    copy = tmp_path / "themes"
    shutil.copytree(THEMES_DIR, copy)
    (copy / "getting-started.yaml").write_text("theme: Broken\nentries: []\n", encoding="utf-8")
    monkeypatch.setattr(startup, "load_knowledge_base", lambda: load_knowledge_base(copy))
    with pytest.raises(startup.StartupError, match=r"^Knowledge base: getting-started.yaml: entries"):
        startup.load_kb()


def test_kb_check_finds_an_answer_copied_from_a_seed(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "001_ff8aba5cfa945d73.txt").write_text(
        "Intro. Partners must take control from the outset and not allow the funding to take control of them. "
        "End.", encoding="utf-8")
    copied = GOOD_ENTRY.format(id="copied", question="Should money drive us?", related="own-words").replace(
        "A short answer that is long enough to pass the schema.",
        "'Partners must take control from the outset, and not allow the funding to take control!'")
    own = GOOD_ENTRY.format(id="own-words", question="Who is in charge?", related="copied").replace(
        "A short answer that is long enough to pass the schema.",
        "Partners should lead from day one; the money must never steer the partnership.")
    folder = _theme(tmp_path, "a.yaml", copied + own)
    entries = {e.id: (e, "a.yaml") for e in load_theme_file(folder / "a.yaml").entries}
    problems = check_copied(entries, seeds)
    assert len(problems) == 1 and "'copied'" in problems[0] and "copies 15 words" in problems[0]
