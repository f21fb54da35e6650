"""DATA_SAMPLERS: ``BookSplitSampler`` (random / inter_book / intra_book subsets, page windows)."""

from .book_split_sampler import BookSplitSampler, split_indices

__all__ = ['BookSplitSampler', 'split_indices']
