import pytest
from mmengine.registry import init_default_scope

import kaokore_mm  # noqa: F401
from kaokore_mm.datasets import KaoKoreFaceDataset
from tests.conftest import blank_pages, write_coco


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmdet')


def pages_coco(tmp_path):
    images = [
        dict(id=1, file_name='a.jpg', width=1000, height=700, book_id='b1', book_title='T1'),
        dict(id=2, file_name='b.jpg', width=500, height=400, book_id='b2', book_title='T2'),
    ]
    anns = [(1, [390, 10, 20, 20]), (1, [395, 40, 20, 20]), (1, [10, 10, 10, 10]), (1, [900, 650, 40, 40])]
    return write_coco(tmp_path / 'ann.json', images, anns, pages_root=tmp_path)


def test_page_dataset_keeps_books_attributes_and_empty_pages(tmp_path):
    ds = KaoKoreFaceDataset(ann_file=str(pages_coco(tmp_path)), data_prefix=dict(img=str(tmp_path)), pipeline=[])
    assert len(ds) == 2  # the page without faces is kept
    info = ds.get_data_info(0)
    assert (info['book_id'], info['book_title'], info['width'], info['height']) == ('b1', 'T1', 1000, 700)
    assert [i['bbox'] for i in info['instances']] == [
        [390, 10, 410, 30],
        [395, 40, 415, 60],
        [10, 10, 20, 20],
        [900, 650, 940, 690],
    ]
    assert all(i['attributes'] == dict(status='noble', gender='male') for i in info['instances'])
    assert ds.get_data_info(1)['instances'] == []
    assert ds.metainfo['classes'] == ('face',)


def test_a_category_that_does_not_match_is_warned_about(tmp_path, caplog):
    import json
    import logging

    from mmengine.logging import MMLogger
    from mmengine.registry import init_default_scope

    from kaokore_mm.datasets import KaoKoreFaceDataset

    init_default_scope('mmdet')
    ann = tmp_path / 'pages.json'
    ann.write_text(
        json.dumps(
            dict(
                images=[dict(id=1, file_name='p.jpg', width=50, height=40, book_id='b')],
                annotations=[dict(id=1, image_id=1, category_id=3, bbox=[1, 1, 9, 9], area=81, iscrowd=0)],
                categories=[dict(id=3, name='Face')],
            )
        )
    )
    blank_pages(tmp_path, [dict(file_name='p.jpg', width=50, height=40)])
    logger = MMLogger.get_instance('kaokore_test_category', log_level='WARNING')
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger.addHandler(handler)
    MMLogger._instance_dict['kaokore_test_category'] = logger
    ds = KaoKoreFaceDataset(ann_file=str(ann), data_root=str(tmp_path), pipeline=[])
    assert sum(len(ds.get_data_info(i)['instances']) for i in range(len(ds))) == 0
    msgs = [r.getMessage() for r in records]
    assert any("categories are ['Face']" in m and "expects ['face']" in m for m in msgs), msgs
