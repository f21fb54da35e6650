import json
from pathlib import Path

import pytest

from kaokore_mm.synthetic.emaki import make_synthetic

# --cfg-options of quick test runs: loaders in the test process, and (SPLIT_OPTS) a split of
# tiny_data's four books that leaves every subset a book
LOADER_OPTS = [
    f'{s}_dataloader.{k}' for s in ('train', 'val', 'test') for k in ('num_workers=0', 'persistent_workers=False')
]
SPLIT_OPTS = [f'{s}_dataloader.sampler.ratios=(0.5,0.25,0.25)' for s in ('train', 'val', 'test')]


@pytest.fixture(autouse=True)
def _loggers_write_to_open_streams():
    """mmengine's loggers are process-wide: one created while pytest captured the output keeps
    the capture's stream, closed after that test, and a later test in the same process (the
    tools run in-process) gets "--- Logging error ---" tracebacks on its stderr. A user's
    process never has a closed stream; the tests give such handlers the real stderr back."""
    yield
    import logging
    import sys

    if 'mmengine.logging' not in sys.modules:
        return
    from mmengine.logging import MMLogger

    for logger in list(MMLogger._instance_dict.values()):
        for h in logger.handlers:
            if type(h) is logging.StreamHandler and getattr(h.stream, 'closed', False):
                h.stream = sys.__stderr__  # setStream would flush the closed one first


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory):
    """8 small synthetic pages of 4 books (pages of 600-800 px, faces of 30-60 px)."""
    root = tmp_path_factory.mktemp('tiny_data')
    make_synthetic(root, pages=8, books=4, seed=0, long_side=(600, 800), face_range=(30, 60), progress=False)
    return root


def blank_pages(root, images):
    """Blank page files under ``root`` for COCO ``images`` (file_name, width, height):
    datasets check every page's file and size before use."""
    from pathlib import Path

    import cv2
    import numpy as np

    for im in images:
        path = Path(root) / im['file_name']
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), np.full((im['height'], im['width'], 3), 230, np.uint8))


def write_coco(path, images, anns, pages_root=None):
    """A COCO file of pages ``images`` (dicts) with face boxes ``anns`` (image_id, [x, y, w, h]);
    with ``pages_root``, blank page files there too."""
    if pages_root is not None:
        blank_pages(pages_root, images)
    coco = dict(
        images=images,
        annotations=[
            dict(
                id=i + 1,
                image_id=img_id,
                category_id=1,
                bbox=list(b),
                area=b[2] * b[3],
                iscrowd=0,
                attributes=dict(status='noble', gender='male'),
            )
            for i, (img_id, b) in enumerate(anns)
        ],
        categories=[dict(id=1, name='face')],
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(coco))
    return path


def load_tool(name):
    """Import ``tools/<name>.py`` as a module (tools/ is not a package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / 'tools' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(f'kaokore_tools_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def crowd_data(tiny_data, tmp_path_factory):
    """``tiny_data``'s pages with every third face marked ``iscrowd`` (an ignored
    region, as a face cut by the page border or a crowd is annotated)."""
    root = tmp_path_factory.mktemp('crowd_data')
    (root / 'pages').symlink_to(tiny_data / 'pages', target_is_directory=True)
    coco = json.loads((tiny_data / 'annotations' / 'pages.json').read_text())
    for k, ann in enumerate(coco['annotations']):
        ann['iscrowd'] = int(k % 3 == 1)
    (root / 'annotations').mkdir()
    (root / 'annotations' / 'pages.json').write_text(json.dumps(coco))
    assert any(a['iscrowd'] for a in coco['annotations'])
    return root


def detector_configs():
    """Every detector config in configs/ (found by globbing: a new config is covered automatically)."""
    from pathlib import Path

    from kaokore_mm.utils.config import load_config

    root = Path(__file__).resolve().parents[1]
    found = []
    for p in sorted(root.glob('configs/**/*.py')):
        if '_base_' in p.parts:
            continue
        if load_config(str(p)).get('default_scope') == 'mmdet':
            found.append(str(p.relative_to(root)))
    return found


STATUS_CLASSIFIER = str(Path(__file__).resolve().parents[1] / 'configs/demo/resnet18_kaokore_status_demo.py')


def status_classifier(path) -> list[str]:
    """The demo status classifier with its initial weights and a label confidence that calls some
    of its labels sure (random weights: many of them wrong, for the annotator to catch)."""
    import torch
    from mmengine.registry import MODELS, init_default_scope

    from kaokore_mm.utils.config import load_config

    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(load_config(STATUS_CLASSIFIER).model)
    meta = dict(label_confidence=dict(temperature=1.0, threshold=0.0))  # every label sure
    torch.save(dict(state_dict=model.state_dict(), meta=meta), path)
    return [STATUS_CLASSIFIER, str(path)]
