"""Gathering per-page results from every rank, whatever the shard sizes.

mmengine's ``collect_results`` interleaves the ranks' lists with ``zip`` and
cuts them to the dataset length: that suits mmengine's ``DefaultSampler``
(equal, padded shards of the whole dataset) but loses the last pages of the
longer shards when a sampler leaves shards unequal (``round_up=False``, as the
val/test subsets of :class:`BookSplitSampler`) and counts padded pages twice
when the subset is smaller than the dataset. Page results are gathered whole,
de-duplicated by page and put in page order instead, so the figures do not
depend on the number of processes.
"""

from __future__ import annotations

from mmengine.dist import all_gather_object, get_world_size


def gather_pages(results: list, key: str = 'img_id') -> list:
    """All ranks' ``results`` (dicts with ``key``) on every rank: each page once, in ``key`` order."""
    parts = all_gather_object(results) if get_world_size() > 1 else [results]
    seen, pages = set(), []
    for part in parts:
        for r in part:
            k = r.get(key)
            if k in seen:
                continue  # a page a sampler padded in twice
            seen.add(k)
            pages.append(r)
    return sorted(pages, key=lambda r: (str(type(r.get(key))), r.get(key)))
