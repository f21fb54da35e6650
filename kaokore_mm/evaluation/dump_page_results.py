"""mmdet's ``DumpDetResults`` with the pages of every rank, each once, in page order."""

from __future__ import annotations

from mmdet.evaluation import DumpDetResults
from mmdet.registry import METRICS
from mmengine.dist import broadcast_object_list, is_main_process

from .gather import gather_pages


@METRICS.register_module()
class DumpPageResults(DumpDetResults):
    """Dump page predictions to a pickle (``test.py --out``).

    Unlike ``DumpDetResults`` it gathers whole shards (see
    :mod:`kaokore_mm.evaluation.gather`), so a run on several processes dumps
    the same pages in the same order as one process; rank 0 writes the file.
    """

    def process(self, data_batch, data_samples) -> None:
        for ds in data_samples:
            if isinstance(ds, dict):
                ds.pop('page_gt_instances', None)  # the faces are in the annotation file
        super().process(data_batch, data_samples)

    def evaluate(self, size: int) -> dict:
        pages = gather_pages(self.results)
        if is_main_process():
            self.compute_metrics(pages)
        broadcast_object_list([None])  # the others wait for the file
        self.results.clear()
        return {}
