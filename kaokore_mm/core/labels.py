"""The label vocabulary of KaoKore faces, defined once.

Names and ids are those of KaoKore 1.0's ``labels.metadata.en.txt``
(``gender``: 0 male, 1 female; ``status``: 0 noble, 1 warrior, 2 incarnation,
3 commoner): the position in each tuple is the label id in ``labels.csv``, in
the classifiers' outputs and in checkpoints. Imported by the converters, the
synthetic pages, the crops dataset and the annotation tools.
"""

from __future__ import annotations

GENDERS = ('male', 'female')
STATUSES = ('noble', 'warrior', 'incarnation', 'commoner')
TASKS = {'status': STATUSES, 'gender': GENDERS}

# words other annotation tools write for the same labels (KaoKore's Japanese tags), to the names above
STATUS_WORDS = {
    **{s: s for s in STATUSES},
    '貴族': 'noble',
    '武士': 'warrior',
    '化身': 'incarnation',
    '庶民': 'commoner',
}
GENDER_WORDS = {**{g: g for g in GENDERS}, '男': 'male', '女': 'female'}
