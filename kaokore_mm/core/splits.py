"""Book-aware train/val/test assignment of pages (NumPy only).

Three policies, as in the papers on KaoKore face detection:

* ``random``: each page goes to a subset by its own hash, books ignored;
* ``inter_book``: a book (or scroll) lies wholly in one subset, so the test set
  measures generalisation to unseen books; each book goes to a subset by its own
  hash;
* ``intra_book``: every book is cut by the ratios on its own (in the order of its
  pages' hashes), so every book with at least two pages has pages in train and in
  test (and, with three, in val when val has a share).

**Stable**: a key's hash (:func:`unit_hash`, of the seed and the page or book id)
falls in the train, val or test band of width ``ratios``; adding books or pages
never moves another book (``inter_book``, ``intra_book``) or page (``random``),
so figures before and after a merge of corrections are comparable and a model
never meets the books it trained on in a later test set. Shares are met on
average, not exactly. A subset with a share that no hash reaches (a handful of
books) borrows the book nearest its band; such a borrowed book may move when books
are added, so the split report names it and ``pin_books`` fixes it. Within an
``intra_book`` cut, each subset with a share gets one page first (train, then
test, then val), the rest going to the subset furthest below its share.

The assignment is a pure function of the ids, the ratios and the seed: the order
in which pages are given does not matter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence

import numpy as np

SPLITS = ('random', 'inter_book', 'intra_book')
SUBSETS = ('train', 'val', 'test')


def check_choice(value, valid: Sequence[str], name: str) -> str:
    if value not in valid:
        raise ValueError(f'{name}={value!r} is not valid; valid values: {", ".join(valid)}')
    return value


def normalize_ratios(ratios) -> np.ndarray:
    """``(train, val, test)`` ratios or a mapping with those keys, normalised to sum 1."""
    if isinstance(ratios, Mapping):
        unknown = set(ratios) - set(SUBSETS)
        if unknown:
            raise ValueError(f'unknown subsets in ratios: {sorted(unknown)}; valid: {", ".join(SUBSETS)}')
        ratios = [ratios.get(s, 0.0) for s in SUBSETS]
    r = np.asarray(ratios, dtype=np.float64)
    if r.shape != (3,) or np.any(r < 0) or not np.isfinite(r).all() or r.sum() <= 0:
        raise ValueError(
            f'ratios must be three non-negative numbers (train, val, test) with a positive sum, got {ratios!r}'
        )
    return r / r.sum()


def _cut(n: int, ratios: np.ndarray, at_least_one: bool) -> np.ndarray:
    """Sizes of the subsets of ``n`` items, each item going to the subset furthest
    below its share (ties: train, test, val). With ``at_least_one``, every subset
    with a positive share first gets one item while items last, train and test
    before val."""
    priority = [i for i in (0, 2, 1) if ratios[i] > 0]
    sizes = np.zeros(3, dtype=int)
    if at_least_one:
        for i in priority[:n]:
            sizes[i] = 1
    target = ratios * n
    for _ in range(n - int(sizes.sum())):
        deficit = [target[i] - sizes[i] for i in priority]
        sizes[priority[int(np.argmax(deficit))]] += 1
    return sizes


def unit_hash(seed, key) -> float:
    """A number in ``[0, 1)`` that depends only on ``seed`` and ``key`` (BLAKE2b, the
    same on every machine and Python run, unlike ``hash``)."""
    digest = hashlib.blake2b(f'{seed}\x00{key}'.encode(), digest_size=8).digest()
    return int.from_bytes(digest, 'big') / 2.0**64


def _hash_deal(keys: Sequence[str], r: np.ndarray, seed, pinned: Mapping | None = None) -> tuple[np.ndarray, list]:
    """Subset of each key from its own hash: ``u < r_train`` is train, then val,
    then test, so a key's subset depends only on it and the seed and adding keys
    never moves another. ``pinned`` (key -> subset index) overrides the hash.

    A subset with a share that no key's hash reaches (a handful of books) borrows
    the unpinned key whose hash lies nearest its band from a subset that keeps one;
    returns the borrowed ``(key, subset)`` pairs (those can move when keys are added)."""
    pinned = dict(pinned or {})
    u = np.array([unit_hash(seed, k) for k in keys], dtype=np.float64)
    edges = np.cumsum(r)
    out = np.minimum(np.searchsorted(edges, u, side='right'), 2)
    for i, k in enumerate(keys):
        if k in pinned:
            out[i] = pinned[k]
    lo = np.concatenate([[0.0], edges[:-1]])
    borrowed = []
    for s in (2, 1, 0):  # test first: the held-out figures need one most
        if r[s] <= 0 or np.any(out == s):
            continue
        counts = np.bincount(out, minlength=3)
        free = [i for i, k in enumerate(keys) if k not in pinned and counts[out[i]] > 1]
        if not free:
            continue
        dist = [max(lo[s] - u[i], u[i] - edges[s], 0.0) for i in free]
        i = free[int(np.argmin(dist))]
        out[i] = s
        borrowed.append((keys[i], SUBSETS[s]))
    return out, borrowed


def assign_splits(
    page_ids: Sequence,
    book_ids: Sequence,
    split: str = 'inter_book',
    ratios=(0.8, 0.1, 0.1),
    seed: int = 0,
    pin_books: Mapping | None = None,
    return_borrowed: bool = False,
) -> np.ndarray | tuple[np.ndarray, list]:
    """Subset index (0 train, 1 val, 2 test) of every page.

    Args:
        page_ids: one unique id per page.
        book_ids: the book of each page (same length).
        split: ``'random'``, ``'inter_book'`` or ``'intra_book'``.
        ratios: ``(train, val, test)`` shares.
        seed: the split's own seed (keep it fixed across runs).
        pin_books: ``inter_book`` only: ``{'test': ['book005'], 'val': [...]}``
            puts these books in these subsets whatever their hash.
        return_borrowed: also return the ``(key, subset)`` pairs that a subset
            with no key of its own borrowed (see :func:`_hash_deal`).
    """
    check_choice(split, SPLITS, 'split')
    r = normalize_ratios(ratios)
    page_ids = [str(p) for p in page_ids]
    if len(page_ids) != len(book_ids):
        raise ValueError(f'{len(page_ids)} page ids but {len(book_ids)} book ids')
    if len(set(page_ids)) != len(page_ids):
        raise ValueError('page ids must be unique')
    pinned = _pins(pin_books, split)
    out = np.full(len(page_ids), -1, dtype=np.int64)
    borrowed: list = []
    books = [str(b) for b in book_ids]
    if not page_ids:
        pass
    elif split == 'random':
        out, borrowed = _hash_deal(page_ids, r, seed)
    elif split == 'intra_book':
        by_book: dict[str, list[int]] = {}
        for i, b in enumerate(books):
            by_book.setdefault(b, []).append(i)
        for name, idx in by_book.items():
            # each book cut on its own, in an order of its pages' hashes: other books never move it
            order = sorted(idx, key=lambda i: (unit_hash(f'{seed}/{name}', page_ids[i]), page_ids[i]))
            sizes = _cut(len(order), r, at_least_one=True)
            out[order] = np.repeat(np.arange(3), sizes)
    else:
        names = sorted(set(books))
        unknown = set(pinned) - set(names)
        if unknown:
            raise ValueError(f'pin_books names books that have no page: {sorted(unknown)}; books: {names}')
        subset_of, borrowed = _hash_deal(names, r, seed, pinned)
        where = dict(zip(names, subset_of))
        out = np.array([where[b] for b in books], dtype=np.int64)
    return (out, borrowed) if return_borrowed else out


def _pins(pin_books: Mapping | None, split: str) -> dict:
    """``{'test': [books]}`` -> ``{book: subset index}``, validated."""
    if not pin_books:
        return {}
    if split != 'inter_book':
        raise ValueError(f'pin_books applies to split=inter_book only, not {split!r}')
    if not isinstance(pin_books, Mapping):
        raise ValueError(
            f"pin_books must map subsets to lists of books, e.g. dict(test=['book005']), got {pin_books!r}"
        )
    pinned: dict = {}
    for subset, names in pin_books.items():
        s = SUBSETS.index(check_choice(subset, SUBSETS, 'pin_books subset'))
        if isinstance(names, str) or not isinstance(names, Sequence):
            raise ValueError(f'pin_books[{subset!r}] must be a list of book ids, got {names!r}')
        for name in names:
            if str(name) in pinned and pinned[str(name)] != s:
                raise ValueError(f'book {name!r} is pinned to two subsets')
            pinned[str(name)] = s
    return pinned


def subset_mask(assignment: np.ndarray, subset: str) -> np.ndarray:
    return assignment == SUBSETS.index(check_choice(subset, SUBSETS, 'subset'))
