import pytest
from mmengine.registry import init_default_scope

import kaokore_mm  # noqa: F401
from kaokore_mm.datasets import BookSplitSampler, KaoKoreFaceDataset, PatchedPageDataset


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmdet')


def sampler_or_empty(*args, **kwargs):
    try:
        return BookSplitSampler(*args, **kwargs)
    except ValueError as e:  # an empty subset is refused with a clear message
        assert 'is empty' in str(e)
        return []


def datasets(tiny_data, empty_patch_ratio=1.0):
    kw = dict(
        ann_file=str(tiny_data / 'annotations/pages.json'),
        data_root=str(tiny_data),
        data_prefix=dict(img=''),
        pipeline=[],
    )
    return KaoKoreFaceDataset(**kw), PatchedPageDataset(
        patch_size=(256, 256), empty_patch_ratio=empty_patch_ratio, **kw
    )


# empty_patch_ratio=0: pages without faces keep no patch, yet their books are split as the whole-page
# datasets of the val/test loaders split them (else a book could be in train and in test)
@pytest.mark.parametrize('empty_patch_ratio', [1.0, 0.0])
@pytest.mark.parametrize('split', ['random', 'inter_book', 'intra_book'])
def test_subsets_partition_pages_and_patches_follow_pages(tiny_data, split, empty_patch_ratio):
    pages, patches = datasets(tiny_data, empty_patch_ratio)
    if empty_patch_ratio == 0:
        assert len({patches.get_data_info(i)['img_id'] for i in range(len(patches))}) < len(pages)
    page_subset = {}
    for subset in ('train', 'val', 'test'):
        s = sampler_or_empty(pages, split=split, subset=subset, ratios=(0.5, 0.25, 0.25), shuffle=False, round_up=False)
        for i in s:
            info = pages.get_data_info(i)
            assert info['img_id'] not in page_subset
            page_subset[info['img_id']] = subset
    assert len(page_subset) == len(pages)
    seen = set()
    for subset in ('train', 'val', 'test'):
        s = sampler_or_empty(
            patches, split=split, subset=subset, ratios=(0.5, 0.25, 0.25), shuffle=True, seed=1, round_up=False
        )
        for i in s:
            info = patches.get_data_info(i)
            assert page_subset[info['img_id']] == subset
            seen.add(i)
    assert seen == set(range(len(patches)))
    if split == 'inter_book':
        books = {}
        for img_id, subset in page_subset.items():
            book = next(
                pages.get_data_info(i)['book_id']
                for i in range(len(pages))
                if pages.get_data_info(i)['img_id'] == img_id
            )
            books.setdefault(book, set()).add(subset)
        assert all(len(v) == 1 for v in books.values())


def test_shuffle_is_seeded_and_epochs_differ(tiny_data):
    _, patches = datasets(tiny_data)
    a = BookSplitSampler(patches, split='random', subset='train', seed=3)
    b = BookSplitSampler(patches, split='random', subset='train', seed=3)
    assert list(a) == list(b)
    first = list(a)
    a.set_epoch(1)
    assert sorted(list(a)) == sorted(first) and list(a) != first


def test_distributed_ranks_share_the_subset(tiny_data, monkeypatch):
    _, patches = datasets(tiny_data)
    import kaokore_mm.datasets.samplers.book_split_sampler as mod

    parts = []
    for rank in range(2):
        monkeypatch.setattr(mod, 'get_dist_info', lambda rank=rank: (rank, 2))
        s = BookSplitSampler(patches, split='inter_book', subset='train', seed=0, round_up=True)
        parts.append(list(s))
        assert len(s) == len(parts[-1])
    monkeypatch.undo()
    full = BookSplitSampler(patches, split='inter_book', subset='train', seed=0, round_up=False)
    assert len(parts[0]) == len(parts[1])
    assert set(parts[0]) | set(parts[1]) == set(full)


def test_bad_values_and_missing_books(tiny_data, tmp_path):
    pages, _ = datasets(tiny_data)
    with pytest.raises(ValueError, match='valid values: random, inter_book, intra_book'):
        BookSplitSampler(pages, split='books')
    with pytest.raises(ValueError, match='valid values: train, val, test'):
        BookSplitSampler(pages, subset='dev')
    import cv2
    import numpy as np

    from tests.conftest import write_coco

    cv2.imwrite(str(tmp_path / 'a.jpg'), np.full((10, 10, 3), 255, np.uint8))
    ann = write_coco(tmp_path / 'nobook.json', [dict(id=1, file_name='a.jpg', width=10, height=10)], [])
    ds = KaoKoreFaceDataset(ann_file=str(ann), data_root=str(tmp_path), pipeline=[], test_mode=True)
    with pytest.raises(ValueError, match='nobook.json'):
        BookSplitSampler(ds, split='inter_book')
    assert list(BookSplitSampler(ds, split='random', subset='train', ratios=(1, 0, 0), shuffle=False)) == [0]


def test_page_window_keeps_patches_of_a_page_together(tiny_data):
    _, patches = datasets(tiny_data)
    s = BookSplitSampler(
        patches, split='random', subset='train', ratios=(1, 0, 0), seed=0, round_up=False, page_window=2
    )
    order = list(s)
    assert sorted(order) == list(range(len(patches)))
    pages = [patches.get_data_info(i)['img_id'] for i in order]
    # every run of consecutive samples spans at most 2 pages between window borders
    seen = []
    for p in pages:
        if p not in seen:
            seen.append(p)
    firsts = {p: pages.index(p) for p in seen}
    lasts = {p: len(pages) - 1 - pages[::-1].index(p) for p in seen}
    for k in range(0, len(seen), 2):
        group = seen[k : k + 2]
        lo, hi = min(firsts[p] for p in group), max(lasts[p] for p in group)
        assert set(pages[lo : hi + 1]) <= set(group)
    s.set_epoch(1)
    assert list(s) != order and sorted(list(s)) == sorted(order)
    with pytest.raises(ValueError, match='page_window'):
        BookSplitSampler(patches, split='random', page_window=0)


@pytest.mark.parametrize('split', ['random', 'inter_book', 'intra_book'])
@pytest.mark.parametrize('world_size', [1, 2, 3])
def test_shards_for_every_split_and_world_size(tiny_data, monkeypatch, split, world_size):
    """val/test (round_up off): shards disjoint, together exactly the subset; train
    (round_up on): equal shards covering the subset; patches never change subset."""
    pages, patches = datasets(tiny_data)
    import kaokore_mm.datasets.samplers.book_split_sampler as mod

    ratios = (0.5, 0.25, 0.25)
    for dataset in (pages, patches):
        for subset, shuffle, round_up in (('val', False, False), ('test', False, False), ('train', True, True)):
            monkeypatch.setattr(mod, 'get_dist_info', lambda: (0, 1))
            whole = list(
                sampler_or_empty(
                    dataset, split=split, subset=subset, ratios=ratios, shuffle=False, seed=0, round_up=False
                )
            )
            if not whole:  # intra_book on 2 pages per book: no val pages (refused with a message)
                assert split == 'intra_book' and subset == 'val'
                continue
            shards = []
            for rank in range(world_size):
                monkeypatch.setattr(mod, 'get_dist_info', lambda rank=rank: (rank, world_size))
                s = BookSplitSampler(
                    dataset, split=split, subset=subset, ratios=ratios, shuffle=shuffle, seed=0, round_up=round_up
                )
                shards.append(list(s))
                assert len(s) == len(shards[-1])
            merged = [i for shard in shards for i in shard]
            if round_up:
                assert len({len(s) for s in shards}) == 1 and set(merged) == set(whole)
            else:
                assert sorted(merged) == sorted(whole) and len(set(merged)) == len(merged)
            # every page's samples (a page's patches) belong to this subset only
            page_of = {i: dataset.get_data_info(i)['img_id'] for i in range(len(dataset))}
            assert {page_of[i] for i in merged} == {page_of[i] for i in whole}


def write_books(path, n_books, pages_per_book=3):
    import json

    import cv2
    import numpy as np

    for b in range(n_books):
        for k in range(pages_per_book):
            (path.parent / f'b{b}').mkdir(exist_ok=True)
            cv2.imwrite(str(path.parent / f'b{b}/{k}.jpg'), np.zeros((64, 64, 3), np.uint8))
    images = [
        dict(id=b * 100 + k, file_name=f'b{b}/{k}.jpg', width=64, height=64, book_id=f'book{b:03d}')
        for b in range(n_books)
        for k in range(pages_per_book)
    ]
    path.write_text(json.dumps(dict(images=images, annotations=[], categories=[dict(id=1, name='face')])))
    return path


def book_subsets(ann_file, **split):
    ds = KaoKoreFaceDataset(
        ann_file=str(ann_file), data_root=str(ann_file.parent), data_prefix=dict(img=''), pipeline=[]
    )
    where = {}
    for subset in ('train', 'val', 'test'):
        for i in BookSplitSampler(ds, subset=subset, shuffle=False, round_up=False, **split):
            where.setdefault(ds.get_data_info(i)['book_id'], set()).add(subset)
    return where


def test_a_merged_book_moves_no_other_book(tmp_path):
    # what merge_corrections does to the training COCO: one more book, every other page unchanged;
    # the test and val books of the old split stay there (the old model never meets its training books in test)
    split = dict(split='inter_book', ratios=(0.8, 0.1, 0.1), split_seed=0)
    before = book_subsets(write_books(tmp_path / 'a.json', 30), **split)
    for added in (31, 40):
        after = book_subsets(write_books(tmp_path / 'b.json', added), **split)
        assert {b: after[b] for b in before} == before
    assert {'test'} in before.values() and {'val'} in before.values()
    # a handful of books: pinned books stay put whatever is added
    pins = dict(split, pin_books=dict(test=['book001'], val=['book002']))
    few = book_subsets(write_books(tmp_path / 'c.json', 4), **pins)
    more = book_subsets(write_books(tmp_path / 'd.json', 9), **pins)
    assert few['book001'] == more['book001'] == {'test'} and few['book002'] == more['book002'] == {'val'}
