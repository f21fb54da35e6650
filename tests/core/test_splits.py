import numpy as np
import pytest

from kaokore_mm.core.splits import assign_splits, normalize_ratios, subset_mask, unit_hash


def pages(books=(('a', 10), ('b', 6), ('c', 4), ('d', 3), ('e', 2))):
    ids, bks = [], []
    for b, n in books:
        for k in range(n):
            ids.append(f'{b}{k}')
            bks.append(b)
    return ids, bks


def test_inter_book_keeps_books_whole_and_is_deterministic():
    ids, bks = pages()
    a = assign_splits(ids, bks, 'inter_book', (0.6, 0.2, 0.2), seed=3)
    for b in set(bks):
        assert len({a[i] for i in range(len(ids)) if bks[i] == b}) == 1
    assert set(a.tolist()) == {0, 1, 2}
    assert np.array_equal(a, assign_splits(ids, bks, 'inter_book', (0.6, 0.2, 0.2), seed=3))
    # input order does not matter
    perm = np.random.default_rng(0).permutation(len(ids))
    b = assign_splits([ids[i] for i in perm], [bks[i] for i in perm], 'inter_book', (0.6, 0.2, 0.2), seed=3)
    assert np.array_equal(b, a[perm])


def test_intra_book_puts_every_book_in_train_and_test():
    ids, bks = pages()
    a = assign_splits(ids, bks, 'intra_book', (0.8, 0.1, 0.1), seed=0)
    for b in set(bks):
        subsets = {a[i] for i in range(len(ids)) if bks[i] == b}
        assert {0, 2} <= subsets
        if sum(x == b for x in bks) >= 3:
            assert subsets == {0, 1, 2}


def test_random_follows_ratios_on_average():
    ids = [str(i) for i in range(20000)]
    a = assign_splits(ids, ['x'] * len(ids), 'random', (0.7, 0.1, 0.2), seed=1)
    assert np.allclose(np.bincount(a) / len(ids), [0.7, 0.1, 0.2], atol=0.01)
    assert subset_mask(a, 'val').sum() == np.sum(a == 1)
    assert not np.array_equal(a, assign_splits(ids, ['x'] * len(ids), 'random', (0.7, 0.1, 0.2), seed=2))


def books_of(ids, bks, a):
    return {b: int(a[bks.index(b)]) for b in set(bks)}


@pytest.mark.parametrize('seed', range(5))
def test_adding_a_book_leaves_every_other_book_where_it_was(seed):
    # 40 books: every subset has books of its own hash band, so nothing is borrowed
    ids, bks = pages(tuple((f'book{k:03d}', 3 + k % 5) for k in range(40)))
    before, borrowed = assign_splits(ids, bks, 'inter_book', (0.8, 0.1, 0.1), seed, return_borrowed=True)
    assert not borrowed
    more_ids, more_bks = pages(tuple((f'book{k:03d}', 3 + k % 5) for k in range(41)))
    after = assign_splits(more_ids, more_bks, 'inter_book', (0.8, 0.1, 0.1), seed)
    old, new = books_of(ids, bks, before), books_of(more_ids, more_bks, after)
    assert {b: new[b] for b in old} == old
    # intra_book: the old books' pages stay where they were
    ia = assign_splits(ids, bks, 'intra_book', (0.8, 0.1, 0.1), seed)
    ib = assign_splits(more_ids, more_bks, 'intra_book', (0.8, 0.1, 0.1), seed)
    assert ib[: len(ids)].tolist() == ia.tolist()
    # random: the old pages stay where they were
    ra = assign_splits(ids, bks, 'random', (0.8, 0.1, 0.1), seed)
    rb = assign_splits(more_ids, more_bks, 'random', (0.8, 0.1, 0.1), seed)
    assert rb[: len(ids)].tolist() == ra.tolist()


def test_few_books_borrow_the_nearest_and_pins_hold():
    ids, bks = pages()  # 5 books, shares (0.6, 0.2, 0.2)
    a, borrowed = assign_splits(ids, bks, 'inter_book', (0.8, 0.1, 0.1), 0, return_borrowed=True)
    assert set(a.tolist()) == {0, 1, 2}  # every subset with a share has a book
    assert borrowed  # 5 books rarely reach both 10% bands by hash
    for book, subset in borrowed:
        assert books_of(ids, bks, a)[book] == ('train', 'val', 'test').index(subset)
    pinned = assign_splits(ids, bks, 'inter_book', (0.8, 0.1, 0.1), 0, pin_books=dict(test=['a'], val=['e']))
    where = books_of(ids, bks, pinned)
    assert where['a'] == 2 and where['e'] == 1
    with pytest.raises(ValueError, match='no page'):
        assign_splits(ids, bks, 'inter_book', pin_books=dict(test=['zzz']))
    with pytest.raises(ValueError, match='two subsets'):
        assign_splits(ids, bks, 'inter_book', pin_books=dict(test=['a'], val=['a']))
    with pytest.raises(ValueError, match='inter_book only'):
        assign_splits(ids, bks, 'random', pin_books=dict(test=['a']))


def test_unit_hash_is_fixed():
    # the split of a dataset must not change between machines or Python runs (not Python's hash())
    assert unit_hash(0, 'book005') == pytest.approx(0.6439472743752005, abs=1e-15)  # BLAKE2b of seed, NUL, id
    assert round(unit_hash(0, 'book005'), 12) == round(unit_hash('0', 'book005'), 12)
    assert 0 <= unit_hash(1, 'x') < 1 and unit_hash(1, 'x') != unit_hash(2, 'x')


def test_ratios_mapping_and_zero_share():
    assert normalize_ratios(dict(train=3, test=1)).tolist() == [0.75, 0.0, 0.25]
    ids, bks = pages()
    a = assign_splits(ids, bks, 'inter_book', dict(train=3, test=1), seed=0)
    assert 1 not in a


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(split='by_book'), 'valid values: random, inter_book, intra_book'),
        (dict(ratios=(1, -1, 1)), 'non-negative'),
        (dict(ratios=(1, 1)), 'three'),
    ],
)
def test_bad_values_raise(kwargs, match):
    ids, bks = pages()
    with pytest.raises(ValueError, match=match):
        assign_splits(ids, bks, **kwargs)
    with pytest.raises(ValueError, match='valid values: train, val, test'):
        subset_mask(np.zeros(1), 'dev')
