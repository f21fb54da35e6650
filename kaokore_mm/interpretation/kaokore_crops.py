"""The KaoKore crop layout (images_256/, labels.csv) as an mmpretrain dataset."""

from __future__ import annotations

import csv
import io
import os.path as osp

from mmengine.logging import MMLogger
from mmpretrain.datasets import BaseDataset
from mmpretrain.registry import DATASETS

from kaokore_mm.core.labels import TASKS
from kaokore_mm.core.splits import check_choice
from kaokore_mm.core.text import read_text

CLASSES = TASKS  # task -> class names, in KaoKore's label order
SPLITS = ('train', 'dev', 'test')


@DATASETS.register_module()
class KaoKoreCrops(BaseDataset):
    """Face crops with their status or gender label, in KaoKore's official split.

    Args:
        data_root: folder with ``labels.csv`` and the crop folder.
        task: ``'status'`` (noble, warrior, incarnation, commoner) or ``'gender'``
            (male, female), with KaoKore's label ids.
        split: ``'train'``, ``'dev'`` or ``'test'`` (the ``set`` column).
        ann_file: the labels file; data_prefix: the crop folder.

    Rows whose label for the task is missing or not a valid id are skipped and
    counted (``num_skipped``, logged); a missing labels file or column raises
    an error naming the file.
    """

    def __init__(
        self,
        data_root: str = '',
        task: str = 'status',
        split: str = 'train',
        ann_file: str = 'labels.csv',
        data_prefix: str = 'images_256',
        **kwargs,
    ):
        self.task = check_choice(task, tuple(CLASSES), 'task')
        self.split = check_choice(split, SPLITS, 'split')
        self.num_skipped = 0
        kwargs.setdefault('metainfo', dict(classes=CLASSES[task]))
        super().__init__(ann_file=ann_file, data_root=data_root, data_prefix=data_prefix, **kwargs)

    def _serialize_data(self):
        if not self.data_list:  # an empty split (e.g. no dev rows) is a valid, empty dataset
            import numpy as np

            return np.zeros(0, np.uint8), np.zeros(0, np.int64)
        return super()._serialize_data()

    def load_data_list(self) -> list[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'{self.ann_file}: no labels file')
        reader = csv.DictReader(io.StringIO(read_text(self.ann_file)))  # BOM, CRLF, Shift-JIS as spreadsheets save
        missing = {'image', self.task, 'set'} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f'{self.ann_file}: missing columns {sorted(missing)} (need image,gender,status,set)')
        rows = list(reader)
        first = {}
        for line, row in enumerate(rows, 2):  # a crop is one face: listed twice it would count twice, or in two sets
            name = (row.get('image') or '').strip()
            if name in first:
                k, other = first[name]
                same = all(other.get(c) == row.get(c) for c in ('gender', 'status', 'set'))
                raise ValueError(
                    f'{self.ann_file}: crop {name} is listed on lines {k} and {line}'
                    + ('' if same else ' with other labels or sets')
                    + ': keep one row per crop'
                )
            first[name] = (line, row)
        n_classes = len(CLASSES[self.task])
        data_list = []
        for row in rows:
            if row['set'] != self.split:
                continue
            value = (row.get(self.task) or '').strip()
            if not value.isdigit() or int(value) >= n_classes:
                self.num_skipped += 1
                continue
            data_list.append(dict(img_path=osp.join(self.img_prefix, row['image']), gt_label=int(value)))
        if self.num_skipped:
            MMLogger.get_current_instance().info(
                f'{self.ann_file}: {self.num_skipped} {self.split} rows without a valid {self.task} label skipped'
            )
        return data_list
