"""Python API: which books, pages and faces each subset of a config's book-aware split gets."""

from __future__ import annotations

from collections import Counter, defaultdict

from kaokore_mm.core.splits import SUBSETS
from kaokore_mm.datasets.samplers.book_split_sampler import loader_subset_indices, page_assignment, sampler_split_args
from kaokore_mm.utils.config import LOADERS, page_dataset_cfg


def split_table(cfg) -> dict:
    """``{subset: {book_id: (pages, faces)}}`` for the config's train/val/test loaders
    (whole pages, whatever the patching)."""
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope

    init_default_scope(cfg.get('default_scope', 'mmdet'))
    table = {}
    for subset, loader in zip(SUBSETS, LOADERS):
        lc = cfg[loader]
        dataset = DATASETS.build(dict(page_dataset_cfg(lc.dataset), test_mode=True))
        idx = loader_subset_indices(dataset, lc.sampler, subset)
        pages, faces = Counter(), Counter()
        for i in idx:
            info = dataset.get_data_info(int(i))
            pages[info['book_id']] += 1
            faces[info['book_id']] += len(info['instances'])
        table[subset] = {b: (pages[b], faces[b]) for b in pages}
    return table


def split_notes(cfg) -> list[str]:
    """Lines on the train loader's split that a reader should know: the books a
    subset borrowed (they may move when books are added: pin them) and the pinned ones."""
    from mmdet.registry import DATASETS
    from mmengine.registry import init_default_scope

    init_default_scope(cfg.get('default_scope', 'mmdet'))
    lc = cfg[LOADERS[0]]
    args = sampler_split_args(lc.sampler)
    if args is None:
        return []
    dataset = DATASETS.build(dict(page_dataset_cfg(lc.dataset), test_mode=True))
    _, _, borrowed = page_assignment(dataset, **args)
    notes = [f'pinned: {s} <- {", ".join(map(str, books))}' for s, books in (args['pin_books'] or {}).items()]
    what = 'book' if args['split'] == 'inter_book' else 'page'
    for key, subset in borrowed:
        flag = '--test-books' if subset == 'test' else '--val-books' if subset == 'val' else None
        fix = f'; pin it ({flag} {key}) to keep it there' if flag and what == 'book' else ''
        notes.append(
            f'{subset} has no {what} in its own hash band; it borrowed {key}, the nearest '
            f'(adding {what}s may move it{fix})'
        )
    return notes


def format_split_table(table: dict) -> str:
    """The table as text: one row per book, pages and faces per subset, totals."""
    books = sorted({b for t in table.values() for b in t})
    lines = [f'{"book":<16}{"subset":<8}' + ''.join(f'{s + " pages":>13}{s + " faces":>13}' for s in SUBSETS)]
    totals = defaultdict(int)
    for b in books:
        where = '+'.join(s for s in SUBSETS if b in table[s])
        row = f'{b:<16}{where:<8}'
        for s in SUBSETS:
            p, f = table[s].get(b, (0, 0))
            totals[s, 0] += p
            totals[s, 1] += f
            row += f'{p:>13}{f:>13}'
        lines.append(row)
    lines.append(f'{"total":<24}' + ''.join(f'{totals[s, 0]:>13}{totals[s, 1]:>13}' for s in SUBSETS))
    return '\n'.join(lines)
