import pytest
from mmengine.registry import init_default_scope

import kaokore_mm  # noqa: F401
from kaokore_mm.interpretation import KaoKoreCrops


def labels(tmp_path, text):
    (tmp_path / 'labels.csv').write_text(text)
    return str(tmp_path)


def test_splits_tasks_and_skipped_rows(tmp_path):
    init_default_scope('mmpretrain')
    root = labels(
        tmp_path,
        'image,gender,status,set\n00000000.jpg,1,0,train\n00000001.jpg,0,3,train\n'
        '00000002.jpg,,2,train\n00000003.jpg,0,,dev\n00000004.jpg,1,9,test\n00000005.jpg,0,1,test\n',
    )
    train = KaoKoreCrops(data_root=root, task='status', split='train', lazy_init=False)
    assert [d['gt_label'] for d in (train.get_data_info(i) for i in range(len(train)))] == [0, 3, 2]
    assert train.get_data_info(0)['img_path'].endswith('images_256/00000000.jpg')
    assert train.metainfo['classes'] == ('noble', 'warrior', 'incarnation', 'commoner')
    gender = KaoKoreCrops(data_root=root, task='gender', split='train')
    assert len(gender) == 2 and gender.num_skipped == 1 and gender.metainfo['classes'] == ('male', 'female')
    dev = KaoKoreCrops(data_root=root, task='status', split='dev')
    assert len(dev) == 0 and dev.num_skipped == 1
    test = KaoKoreCrops(data_root=root, task='status', split='test')
    assert len(test) == 1 and test.num_skipped == 1  # status 9 is not a KaoKore id


def test_bad_arguments_and_files(tmp_path):
    init_default_scope('mmpretrain')
    with pytest.raises(ValueError, match='valid values: status, gender'):
        KaoKoreCrops(data_root=str(tmp_path), task='age')
    with pytest.raises(ValueError, match='valid values: train, dev, test'):
        KaoKoreCrops(data_root=str(tmp_path), split='val')
    with pytest.raises(FileNotFoundError, match='labels.csv'):
        KaoKoreCrops(data_root=str(tmp_path))
    root = labels(tmp_path, 'image,label\n0.jpg,1\n')
    with pytest.raises(ValueError, match='missing columns'):
        KaoKoreCrops(data_root=root)


@pytest.mark.parametrize('encoding', ['utf-8-sig', 'utf-16', 'cp932'])
def test_labels_saved_by_a_spreadsheet(tmp_path, encoding):
    """Excel's "CSV UTF-8" (BOM), "Unicode text" (UTF-16 with BOM) and Shift-JIS, CRLF line ends."""
    init_default_scope('mmpretrain')
    text = 'image,gender,status,set\r\n00000000.jpg,1,0,train\r\n00000001.jpg,0,3,train\r\n'
    (tmp_path / 'labels.csv').write_bytes(text.encode(encoding))
    train = KaoKoreCrops(data_root=str(tmp_path), task='status', split='train')
    assert [train.get_data_info(i)['gt_label'] for i in range(len(train))] == [0, 3]


@pytest.mark.parametrize(
    'second, needle',
    [
        ('00000000.jpg,0,2,train', 'listed on lines 2 and 3 with other labels or sets'),
        ('00000000.jpg,1,0,test', 'with other labels or sets'),  # one face in train and test: a leak
        ('00000000.jpg,1,0,train', 'listed on lines 2 and 3: keep one row per crop'),
    ],
)
def test_a_crop_listed_twice_is_named_not_resolved(tmp_path, second, needle):
    init_default_scope('mmpretrain')
    root = labels(tmp_path, f'image,gender,status,set\n00000000.jpg,1,0,train\n{second}\n')
    with pytest.raises(ValueError, match=needle):
        KaoKoreCrops(data_root=root, task='status', split='train', lazy_init=False)
