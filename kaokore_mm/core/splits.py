"""Book-aware train/val/test assignment of pages (NumPy only).

Three policies, as in the papers on KaoKore face detection:

* ``random``: pages are shuffled and cut by the ratios, books ignored;
* ``inter_book``: a book (or scroll) lies wholly in one subset, so the test set
  measures generalisation to unseen books; books are dealt out largest-deficit
  first so that page counts follow the ratios as closely as whole books allow;
* ``intra_book``: every book is cut by the ratios on its own, so every book with
  at least two pages has pages in train and in test (and, with three, in val
  when val has a share).

Within a cut, each subset with a share gets one item first (train, then test,
then val), and the rest go one by one to the subset furthest below its share.

Assignment is a pure function of the page list, the ratios and the seed: the
order in which pages are given does not matter (pages are sorted by id first).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

SPLITS = ('random', 'inter_book', 'intra_book')
SUBSETS = ('train', 'val', 'test')


class SplitError(ValueError):
    """A split that cannot be made from these pages (a subset would be empty, ...)."""


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


def _order(keys: Sequence[str], rng: np.random.Generator) -> np.ndarray:
    """Indices of ``keys`` in a seeded random order independent of input order."""
    sorted_idx = np.argsort(np.asarray(keys, dtype=object).astype(str), kind='stable')
    return sorted_idx[rng.permutation(len(keys))]


def assign_splits(
    page_ids: Sequence, book_ids: Sequence, split: str = 'inter_book', ratios=(0.8, 0.1, 0.1), seed: int = 0
) -> np.ndarray:
    """Subset index (0 train, 1 val, 2 test) of every page.

    Args:
        page_ids: one unique id per page.
        book_ids: the book of each page (same length).
        split: ``'random'``, ``'inter_book'`` or ``'intra_book'``.
        ratios: ``(train, val, test)`` shares.
        seed: the split's own seed (keep it fixed across runs).
    """
    check_choice(split, SPLITS, 'split')
    r = normalize_ratios(ratios)
    page_ids = [str(p) for p in page_ids]
    if len(page_ids) != len(book_ids):
        raise ValueError(f'{len(page_ids)} page ids but {len(book_ids)} book ids')
    if len(set(page_ids)) != len(page_ids):
        raise ValueError('page ids must be unique')
    out = np.full(len(page_ids), -1, dtype=np.int64)
    if not page_ids:
        return out
    rng = np.random.default_rng(seed)
    books = [str(b) for b in book_ids]

    if split == 'random':
        order = _order(page_ids, rng)
        sizes = _cut(len(order), r, at_least_one=True)
        out[order] = np.repeat(np.arange(3), sizes)
        return out

    by_book: dict[str, list[int]] = {}
    for i, b in enumerate(books):
        by_book.setdefault(b, []).append(i)
    names = sorted(by_book)

    if split == 'intra_book':
        for name in names:
            idx = np.asarray(by_book[name])
            order = idx[_order([page_ids[i] for i in idx], rng)]
            sizes = _cut(len(order), r, at_least_one=True)
            out[order] = np.repeat(np.arange(3), sizes)
        return out

    # inter_book: deal books (in seeded order, larger first among equals of the
    # random order) to the subset that is furthest below its target page count.
    total = len(page_ids)
    target = r * total
    have = np.zeros(3)
    nonzero = [i for i in (2, 0, 1) if r[i] > 0]
    book_order = [names[i] for i in rng.permutation(len(names))]
    book_order.sort(key=lambda b: -len(by_book[b]))
    for k, name in enumerate(book_order):
        empty = [i for i in nonzero if have[i] == 0]
        remaining = len(book_order) - k
        if empty and remaining <= len(empty):
            s = empty[0]  # make sure every subset with a share gets a book
        else:
            deficit = np.where(r > 0, (target - have) / np.maximum(target, 1e-9), -np.inf)
            s = int(np.argmax(deficit))
        out[by_book[name]] = s
        have[s] += len(by_book[name])
    return out


def subset_mask(assignment: np.ndarray, subset: str) -> np.ndarray:
    return assignment == SUBSETS.index(check_choice(subset, SUBSETS, 'subset'))
