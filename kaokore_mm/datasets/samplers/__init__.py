from .book_split_sampler import BookSplitSampler, split_indices

__all__ = ['BookSplitSampler', 'split_indices']
