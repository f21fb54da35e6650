import numpy as np
import pytest

from kaokore_mm.core.splits import assign_splits, normalize_ratios, subset_mask


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


def test_random_follows_ratios():
    ids = [str(i) for i in range(100)]
    a = assign_splits(ids, ['x'] * 100, 'random', (0.7, 0.1, 0.2), seed=1)
    assert np.bincount(a).tolist() == [70, 10, 20]
    assert subset_mask(a, 'val').sum() == 10
    assert not np.array_equal(a, assign_splits(ids, ['x'] * 100, 'random', (0.7, 0.1, 0.2), seed=2))


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
