"""One label vocabulary: KaoKore's own ids, used by every module that names labels."""

from pathlib import Path

from kaokore_mm.core.labels import GENDER_WORDS, GENDERS, STATUS_WORDS, STATUSES, TASKS

ROOT = Path(__file__).resolve().parents[2]


def test_ids_are_kaokores():
    text = ROOT.parent / 'shared/data/kaokore-v1.0/labels.metadata.en.txt'
    if text.is_file():  # the official metadata, where this checkout has it
        lines = [ln.split('\t') for ln in text.read_text().splitlines() if ln.startswith('\t')]
        names = [ln[2].strip() for ln in lines]
        assert names == [*GENDERS, *STATUSES]
    assert TASKS == dict(status=STATUSES, gender=GENDERS)
    assert all(STATUS_WORDS[s] == s for s in STATUSES) and all(GENDER_WORDS[g] == g for g in GENDERS)
    assert set(STATUS_WORDS.values()) == set(STATUSES) and set(GENDER_WORDS.values()) == set(GENDERS)


def test_no_other_module_spells_the_vocabulary_out():
    spelled = "'noble', 'warrior', 'incarnation', 'commoner'"
    hits = [p for p in (ROOT / 'kaokore_mm').rglob('*.py') if spelled in p.read_text() and p.name != 'labels.py']
    hits += [
        p
        for p in (ROOT / 'kaokore_mm').rglob('*.js')
        if "'noble', 'warrior'" in p.read_text() and 'vendor' not in p.parts
    ]
    assert hits == []
