"""Mutations of valid JSON documents for the fuzz tests (types, NaN, huge numbers, deep nesting,
duplicates, missing keys), deterministic per seed."""

import copy
import random

HOSTILE_VALUES = [
    None,
    True,
    False,
    '',
    'high',
    '5577',
    -1,
    0,
    10**30,
    float('nan'),
    float('inf'),
    -float('inf'),
    1.5,
    [],
    {},
    [1, 2, 3, 4],
    '\x00',
    '../../../etc/hostname',
]


def paths(doc, prefix=()):
    """Every path (tuple of keys and indices) to a value inside ``doc``."""
    out = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.append((*prefix, k))
            out += paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.append((*prefix, i))
            out += paths(v, (*prefix, i))
    return out


DEEP = '__deeply_nested__'  # stands for 100000 nested lists in the JSON text (see to_json)


def to_json(doc) -> str:
    """``doc`` as JSON text (NaN and Infinity as careless writers leave them), the
    :data:`DEEP` marker as 100000 nested lists: more than any parser's recursion."""
    import json

    return json.dumps(doc, allow_nan=True).replace(json.dumps(DEEP), '[' * 100000 + ']' * 100000)


def mutate(doc, rng: random.Random):
    """A copy of ``doc`` with one hostile change; returns ``(mutated, description)``."""
    doc = copy.deepcopy(doc)
    where = rng.choice(paths(doc))
    parent = doc
    for k in where[:-1]:
        parent = parent[k]
    key = where[-1]
    kind = rng.choice(['value', 'value', 'value', 'delete', 'duplicate', 'deep'])
    if kind == 'delete' and isinstance(parent, dict):
        del parent[key]
    elif kind == 'duplicate' and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]))
    elif kind == 'deep':
        parent[key] = DEEP
    else:
        kind = 'value'
        parent[key] = copy.deepcopy(rng.choice(HOSTILE_VALUES))
    return doc, f'{kind} at {"/".join(map(str, where))}'
