"""A DefaultSampler over one subset of a book-aware train/val/test split."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import torch
from mmdet.registry import DATA_SAMPLERS
from mmengine.dataset import DefaultSampler
from mmengine.dist import get_dist_info, sync_random_seed

from kaokore_mm.core.splits import SPLITS, SUBSETS, assign_splits, check_choice, normalize_ratios
from kaokore_mm.errors import SplitError


def page_keys(dataset) -> tuple[list, list]:
    """``(page_ids, book_ids)`` of every sample: the patches of a page share its page id."""
    page_ids, book_ids = [], []
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        page_ids.append(info.get('img_id', info.get('img_path')))
        book_ids.append(info.get('book_id'))
    return page_ids, book_ids


def split_pages(dataset) -> tuple[list, list, list]:
    """``(page_id of every sample, pages, book of each page)``: the pages a split deals out."""
    page_ids, book_ids = page_keys(dataset)
    pages = list(dict.fromkeys(page_ids))
    first_book = dict(zip(reversed(page_ids), reversed(book_ids)))
    books = [first_book[p] for p in pages]
    every = getattr(dataset, 'split_pages', None)  # all pages of the annotations, with or without samples
    if every:
        # the split of the pages, not of the samples: a patched dataset that keeps no sample of a page
        # splits the books exactly as the whole-page datasets of its val/test loaders do
        pages, books = [p for p, _ in every], [b for _, b in every]
    return page_ids, pages, books


def page_assignment(dataset, split: str, ratios, split_seed: int, pin_books=None) -> tuple[list, dict, list]:
    """``(page_id of every sample, {page: subset index}, borrowed (book or page, subset) pairs)``."""
    page_ids, pages, books = split_pages(dataset)
    if split != 'random' and any(b is None for b in books):
        missing = sum(b is None for b in books)
        raise ValueError(
            f'split={split!r} needs a book_id for every page, but {missing} of {len(pages)} pages of '
            f'{getattr(dataset, "ann_file", "the dataset")} have none; add "book_id" to the COCO '
            "images or use split='random'"
        )
    subsets, borrowed = assign_splits(pages, books, split, ratios, split_seed, pin_books, return_borrowed=True)
    return page_ids, dict(zip(pages, subsets)), borrowed


def split_indices(
    dataset, split: str, subset: str, ratios, split_seed: int, return_pages: bool = False, pin_books=None
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Sample indices of ``dataset`` whose page falls in ``subset`` (and, with
    ``return_pages``, the page index of each of them)."""
    page_ids, assignment, borrowed = page_assignment(dataset, split, ratios, split_seed, pin_books)
    mine = [k for k, s in borrowed if s == subset]
    if mine:
        from mmengine.logging import print_log

        print_log(
            f'{subset} of the {split} split has no {"book" if split == "inter_book" else "page"} in its own '
            f'hash band and borrowed the nearest: {", ".join(mine)}; adding books may move it '
            f'(pin it: sampler pin_books=dict({subset}=[...]) or --{subset}-books)',
            logger='current',
            level=30,
        )
    want = SUBSETS.index(subset)
    idx = np.array([i for i, p in enumerate(page_ids) if assignment[p] == want], dtype=np.int64)
    if not return_pages:
        return idx
    page_no = {p: k for k, p in enumerate(assignment)}
    return idx, np.array([page_no[page_ids[i]] for i in idx], dtype=np.int64)


def sampler_split_args(sampler_cfg) -> dict | None:
    """The split arguments of a BookSplitSampler config with the sampler's defaults
    (``None`` for other samplers)."""
    s = sampler_cfg or {}
    if s.get('type') != 'BookSplitSampler':
        return None
    return dict(
        split=s.get('split', 'inter_book'),
        ratios=s.get('ratios', (0.8, 0.1, 0.1)),
        split_seed=s.get('split_seed', 0),
        pin_books=s.get('pin_books'),
    )


def loader_subset_indices(dataset, sampler_cfg, subset: str) -> np.ndarray:
    """Sample indices of ``subset`` as a loader's ``sampler_cfg`` (a BookSplitSampler
    config, with its defaults) splits ``dataset``; every index for other samplers."""
    args = sampler_split_args(sampler_cfg)
    if args is None:
        return np.arange(len(dataset))
    return split_indices(dataset, subset=subset, **args)


@DATA_SAMPLERS.register_module()
class BookSplitSampler(DefaultSampler):
    """Iterate over the samples of one subset of a ``random``, ``inter_book`` or
    ``intra_book`` split (see :mod:`kaokore_mm.core.splits`).

    Each book (page, for ``random``) goes where its hash with ``split_seed`` says,
    so adding books never moves another; ``pin_books=dict(test=['book005'])``
    fixes books by name. The split depends only on the pages, ``ratios`` and ``split_seed`` (not on the
    runner's seed), so train, val and test loaders built from the same dataset
    see disjoint pages. Patches of a page go where the page goes. Shuffling,
    ``round_up`` and the distributed split across ranks follow mmengine's
    :class:`DefaultSampler`; ``seed`` is the shuffle seed only.

    ``page_window=K`` (with ``shuffle``) shuffles the pages, then the samples
    within each run of ``K`` consecutive pages: a batch still mixes patches of
    several pages, while a page's patches come close together, so that
    :class:`LoadPageFromFile` with ``cache_size >= K`` decodes each page about
    once per worker and epoch instead of once per patch.
    """

    def __init__(
        self,
        dataset,
        split: str = 'inter_book',
        subset: str = 'train',
        ratios=(0.8, 0.1, 0.1),
        split_seed: int = 0,
        shuffle: bool = True,
        seed: int | None = None,
        round_up: bool = True,
        page_window: int | None = None,
        pin_books: dict | None = None,
    ):
        if page_window is not None and page_window < 1:
            raise ValueError(f'page_window must be None or >= 1, got {page_window!r}')
        self.page_window = page_window
        check_choice(split, SPLITS, 'split')
        check_choice(subset, SUBSETS, 'subset')
        normalize_ratios(ratios)
        rank, world_size = get_dist_info()
        self.rank, self.world_size = rank, world_size
        self.dataset = dataset
        self.shuffle = shuffle
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0
        self.round_up = round_up
        self.split, self.subset, self.ratios, self.split_seed = split, subset, tuple(ratios), split_seed
        self.pin_books = pin_books
        self.indices, self.pages = split_indices(
            dataset, split, subset, ratios, split_seed, return_pages=True, pin_books=pin_books
        )
        if len(self.indices) == 0:
            _, books = page_keys(dataset)
            n_books = len({b for b in books if b is not None})
            hint = (
                f'{n_books} books cannot fill the subsets of an inter_book split: use split=intra_book, more '
                'books, or ratios without this subset'
                if split == 'inter_book'
                else 'change the ratios (e.g. --cfg-options test_dataloader.sampler.ratios=(0.6,0.2,0.2)), or add pages'
            )
            raise SplitError(
                f'subset {subset!r} of split {split!r} with ratios {tuple(ratios)} is empty '
                f'({len(dataset)} samples in the dataset): {hint}'
            )
        n = len(self.indices)
        if round_up:
            self.num_samples = math.ceil(n / world_size)
            self.total_size = self.num_samples * world_size
        else:
            self.num_samples = math.ceil((n - rank) / world_size)
            self.total_size = n

    def __iter__(self) -> Iterator[int]:
        if self.shuffle and self.page_window:
            order = self._page_window_order()
        elif self.shuffle:
            g = torch.Generator()
            g.manual_seed(self.seed + self.epoch)
            order = torch.randperm(len(self.indices), generator=g).tolist()
        else:
            order = list(range(len(self.indices)))
        if self.round_up:
            order = (order * int(self.total_size / len(order) + 1))[: self.total_size]
        order = order[self.rank : self.total_size : self.world_size]
        return iter(int(self.indices[i]) for i in order)

    def _page_window_order(self) -> list:
        rng = np.random.default_rng([self.seed, self.epoch])
        pages = np.unique(self.pages)
        pages = pages[rng.permutation(len(pages))]
        rank = np.empty(self.pages.max() + 1, dtype=np.int64)
        rank[pages] = np.arange(len(pages))
        window = rank[self.pages] // self.page_window
        order = []
        for w in range(int(window.max()) + 1):
            members = np.flatnonzero(window == w)
            order.extend(members[rng.permutation(len(members))].tolist())
        return order
