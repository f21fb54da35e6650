"""The benchmarks, one module each, at the top of the package (they may use every room below):
``inference`` (our patched inference against the pure forward, the page at its own scale and
SAHI), ``patching`` (the patching regimes, trained and tested side by side), ``device`` (the
same on a CUDA device), ``train_input`` (patches per second of the training pipeline),
``merge`` (the merges' timings), ``review_open`` (the review app's tiles against the whole
JPEG). The correction effort is measured by the scripted annotator
(:func:`kaokore_mm.review.scripted_annotator.correct_book`), which the campaign uses too.
Each benchmark tool is a command line over one of them; the figures are printed
side by side in one run, never checked by timed unit tests.
"""
