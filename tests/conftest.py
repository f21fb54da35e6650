import json

import pytest

from kaokore_mm.synthetic.emaki import make_synthetic


@pytest.fixture(scope='session')
def tiny_data(tmp_path_factory):
    """8 small synthetic pages of 4 books (pages of 600-800 px, faces of 30-60 px)."""
    root = tmp_path_factory.mktemp('tiny_data')
    make_synthetic(root, pages=8, books=4, seed=0, long_side=(600, 800), face_range=(30, 60), progress=False)
    return root


def write_coco(path, images, anns):
    """A COCO file of pages ``images`` (dicts) with face boxes ``anns`` (image_id, [x, y, w, h])."""
    coco = dict(images=images,
                annotations=[dict(id=i + 1, image_id=img_id, category_id=1, bbox=list(b), area=b[2] * b[3], iscrowd=0,
                                  attributes=dict(status='noble', gender='male'))
                             for i, (img_id, b) in enumerate(anns)],
                categories=[dict(id=1, name='face')])
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
