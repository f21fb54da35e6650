"""The pure core: patch geometry, splits, box overlaps and merges, page-level metrics, the IIIF grammar,
the label vocabulary, page arrays and page file checks. NumPy, torch tensors and Pillow only, no mm*
imports: each module is tested with plain pytest.
"""
