"""Bad input to any tool: one line naming the file or option and the fix, exit 2, never a traceback."""

import json

import pytest

from kaokore_mm.utils.cli import cli_main, input_error_message
from tests.conftest import load_tool


def cases(tmp_path):
    a_file = tmp_path / 'a_file'
    a_file.write_text('x')
    (tmp_path / 'empty.pth').write_bytes(b'')
    a_list = tmp_path / 'list.json'
    a_list.write_text('[1, 2]')
    deep = tmp_path / 'deep.json'
    deep.write_text('[' * 100000 + ']' * 100000)
    ids = tmp_path / 'ids.txt'
    ids.write_text('http://example.org/iiif/p1\n')
    bad_manifest = tmp_path / 'bad_manifest.json'
    bad_manifest.write_text('{"type": "Manifest", "items": 5}')
    string_canvas = tmp_path / 'string_canvas.json'
    string_canvas.write_text('{"type": "Manifest", "items": ["x"]}')
    out = str(tmp_path / 'out')
    string_box = tmp_path / 'string_box.json'
    string_box.write_text(
        json.dumps(dict(images=[dict(id=1, file_name='p.jpg')], annotations=[dict(image_id=1, bbox='5577')]))
    )
    orphan = tmp_path / 'orphan.json'
    orphan.write_text(
        json.dumps(dict(images=[dict(id=1, file_name='p.jpg')], annotations=[dict(image_id=2, bbox=[1, 2, 3, 4])]))
    )
    crop_coco = dict(images=[dict(id=1, file_name='p.jpg', width=100, height=80)], annotations=[])
    face = dict(image_id=1, bbox=[1, 2, 30, 30], crop='00000000.jpg', attributes=dict(gender_id=0, status_id=1))
    escaping = tmp_path / 'escaping_crop.json'
    escaping.write_text(json.dumps(dict(crop_coco, annotations=[dict(face, crop='../../outside.jpg')])))
    string_label = tmp_path / 'string_label.json'
    string_label.write_text(json.dumps(dict(crop_coco, annotations=[dict(face, attributes=dict(gender_id='0'))])))
    crops = ['--pages-root', str(tmp_path), '--out', out]
    ckpt = tmp_path / 'tiny.pth'  # a checkpoint file (never loaded: the config fails first)
    import torch

    torch.save(dict(state_dict={}), ckpt)
    train_out = tmp_path / 'train_book'  # a folder that holds a training COCO, given to the review app
    (train_out).mkdir()
    (train_out / 'annotations.coco.json').write_text(
        json.dumps(dict(images=[dict(id=1, file_name='p.jpg', width=10, height=10)], annotations=[]))
    )
    return {
        'crops: a crop name that leaves its folder': (
            'dataset_converters/kaokore_crops',
            ['--coco', str(escaping), *crops],
            'escaping_crop.json, annotation 0: crop: String should match pattern',
        ),
        'crops: a label id that is a string': (
            'dataset_converters/kaokore_crops',
            ['--coco', str(string_label), *crops],
            "string_label.json, annotation 0: gender_id: Input should be a valid integer, got '0'",
        ),
        'download: --out is a file': (
            'download_pages',
            ['--ids', str(ids), '--out', str(a_file)],
            'a file, not a folder',
        ),
        'download: --workers 0': ('download_pages', ['--ids', str(ids), '--out', out, '--workers', '0'], '--workers'),
        'download: --coco a JSON list': ('download_pages', ['--coco', str(a_list), '--out', out], 'not a COCO file'),
        'download: --coco missing': (
            'download_pages',
            ['--coco', str(tmp_path / 'nope.json'), '--out', out],
            'nope.json',
        ),
        'download: --coco nested too deeply': (
            'download_pages',
            ['--coco', str(deep), '--out', out],
            'nested too deeply',
        ),
        'convert: no metadata folder': (
            'dataset_converters/kaokore_pages',
            ['--kaokore-dir', str(tmp_path / 'none'), '--out', out],
            'no such folder',
        ),
        'convert: --out is a file': (
            'dataset_converters/kaokore_pages',
            ['--kaokore-dir', str(tmp_path), '--out', str(a_file)],
            'a file, not a folder',
        ),
        'convert: no urls.txt': (
            'dataset_converters/kaokore_pages',
            ['--kaokore-dir', str(tmp_path), '--out', out],
            'urls.txt',
        ),
        'synthetic: --pages 0': ('make_synthetic', ['--out', out, '--pages', '0'], "--pages: '0' is out of range"),
        'synthetic: reversed ranges': ('make_synthetic', ['--out', out, '--long-side', '900', '600'], 'bad ranges'),
        'test: a text file as checkpoint': (
            'test',
            ['configs/demo/faster_rcnn_r18_patch512_demo.py', str(a_file), '--work-dir', out],
            'not a PyTorch checkpoint',
        ),
        'test: an empty checkpoint': (
            'test',
            ['configs/demo/faster_rcnn_r18_patch512_demo.py', str(tmp_path / 'empty.pth'), '--work-dir', out],
            'an empty file',
        ),
        'annotate: manifest missing': (
            'annotate',
            [DEMO, str(ckpt), '--iiif-manifest', str(tmp_path / 'nope.json'), '--out', out],
            'nope.json: No such file',
        ),
        'annotate: manifest items not a list': (
            'annotate',
            [DEMO, str(ckpt), '--iiif-manifest', str(bad_manifest), '--out', out],
            'not a IIIF Presentation 2.x or 3.0 manifest',
        ),
        'annotate: a canvas that is a string': (
            'annotate',
            [DEMO, str(ckpt), '--iiif-manifest', str(string_canvas), '--out', out],
            'a str, not a canvas object',
        ),
        # the run's numbers, checked before anything is built (utils/preflight.check_run_settings)
        'train: lr=nan': (
            'train',
            [DEMO, '--work-dir', out, '--cfg-options', 'optim_wrapper.optimizer.lr=nan'],
            'optimizer.lr: not a finite number',
        ),
        'train: batch_size=0': (
            'train',
            [DEMO, '--work-dir', out, '--cfg-options', 'train_dataloader.batch_size=0'],
            'train_dataloader.batch_size',
        ),
        'train: --work-dir is a file': ('train', [DEMO, '--work-dir', str(a_file)], 'is a file, not a folder'),
        # round three, by class: config values by their key's name, before any page
        'annotate: a threshold that is a word': (
            'annotate',
            [
                DEMO,
                str(a_file),
                '--images',
                str(tmp_path),
                '--out',
                out,
                '--cfg-options',
                'model.test_cfg.rcnn.score_thr=abc',
            ],
            "model.test_cfg.rcnn.score_thr: 'abc' is not a number in [-1, 1]",
        ),
        'test: a threshold that is a word': (
            'test',
            [DEMO, str(a_file), '--work-dir', out, '--cfg-options', 'model.test_cfg.rcnn.score_thr=abc'],
            'model.test_cfg.rcnn.score_thr',
        ),
        'test: a backbone depth that does not exist': (
            'test',
            [
                DEMO,
                str(ckpt),
                '--work-dir',
                out,
                '--data-root',
                str(tmp_path),
                '--cfg-options',
                'model.backbone.depth=19',
            ],
            'cannot be built from the config: KeyError',
        ),
        'test: a patch size that is a word': (
            'test',
            [DEMO, str(a_file), '--work-dir', out, '--cfg-options', 'test_dataloader.dataset.patch_size=big'],
            "patch_size: 'big' is not a size in pixels",
        ),
        'test: a NaN anywhere': (
            'test',
            [DEMO, str(a_file), '--work-dir', out, '--cfg-options', 'model.rpn_head.loss_bbox.loss_weight=nan'],
            'loss_weight: not a finite number',
        ),
        "review: a training COCO instead of annotate's output": (
            'review',
            [str(train_out)],
            'not the output of annotate.py',
        ),
        'review: a port that is not one': (
            'review',
            [str(train_out), '--port', '70000'],
            "--port: '70000' is out of range",
        ),
        # the truth of a benchmark: checked before a browser or a model starts
        'correction benchmark: a box that is a string': (
            'benchmark_correction',
            [out, '--truth', str(string_box)],
            'string_box.json, annotation 0: bbox',
        ),
        'correction benchmark: a face on no page': (
            'benchmark_correction',
            [out, '--truth', str(orphan)],
            'annotation 0: image_id: no image has the id 2',
        ),
        'correction benchmark: --truth a JSON list': (
            'benchmark_correction',
            [out, '--truth', str(a_list)],
            'not a COCO',
        ),
    }


DEMO = 'configs/demo/faster_rcnn_r18_patch512_demo.py'
# the case names, written once: the cases themselves need the test's tmp_path
CASES = [
    'crops: a crop name that leaves its folder',
    'crops: a label id that is a string',
    'download: --out is a file',
    'download: --workers 0',
    'download: --coco a JSON list',
    'download: --coco missing',
    'download: --coco nested too deeply',
    'convert: no metadata folder',
    'convert: --out is a file',
    'convert: no urls.txt',
    'synthetic: --pages 0',
    'synthetic: reversed ranges',
    'test: a text file as checkpoint',
    'test: an empty checkpoint',
    'annotate: manifest missing',
    'annotate: manifest items not a list',
    'annotate: a canvas that is a string',
    'train: lr=nan',
    'train: batch_size=0',
    'train: --work-dir is a file',
    'annotate: a threshold that is a word',
    'test: a threshold that is a word',
    'test: a backbone depth that does not exist',
    'test: a patch size that is a word',
    'test: a NaN anywhere',
    "review: a training COCO instead of annotate's output",
    'review: a port that is not one',
    'correction benchmark: a box that is a string',
    'correction benchmark: a face on no page',
    'correction benchmark: --truth a JSON list',
]


def test_every_case_is_run(tmp_path):
    assert sorted(cases(tmp_path)) == sorted(CASES)


@pytest.mark.parametrize('case', CASES)
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, case):
    tool, args, needle = cases(tmp_path)[case]
    rc = cli_main(load_tool(tool).main, args)
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith('error: ') and err.count('\n') == 1 and needle in err, err
    assert 'Traceback' not in err


def test_input_errors_are_named_and_bugs_are_not():
    assert 'f.json: No such file' in input_error_message(FileNotFoundError(2, 'No such file or directory', 'f.json'))
    assert 'not valid JSON' in input_error_message(json.JSONDecodeError('Expecting value', 'x', 0))
    assert 'nested too deeply' in input_error_message(RecursionError())
    assert input_error_message(ZeroDivisionError()) is None and input_error_message(KeyError('x')) is None
