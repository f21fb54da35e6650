"""PatchedValLoop and PatchedTestLoop with a mocked runner: whole pages from the dataloader, the
predictor's patching from the training set unless the loop says otherwise, page-level boxes to the
evaluator, and the stage's hooks called around each page."""

from unittest.mock import MagicMock

import pytest
import torch
from mmdet.structures import DetDataSample
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.registry import init_default_scope

from kaokore_mm.engine.runner import PatchedTestLoop, PatchedValLoop
from tests.inference.test_patched_predictor import WhiteSquareDetector, page_with_faces


@pytest.fixture(autouse=True)
def scope():
    init_default_scope('mmdet')


class Pages(list):
    metainfo = dict(classes=('face',))


class PageLoader(list):
    """Batches of one whole page each, as the page dataloaders give them (uint8 C x H x W, no resize)."""

    def __init__(self, pages):
        super().__init__()
        self.dataset = Pages(pages)
        for k, img in enumerate(pages):
            sample = DetDataSample(metainfo=dict(img_id=k, img_path=f'p{k}.jpg', ori_shape=img.shape[:2]))
            self.append(dict(inputs=[torch.from_numpy(img).permute(2, 0, 1)], data_samples=[sample]))


def runner_with(model, patch_size=(400, 300)):
    runner = MagicMock()
    runner.model = model
    runner.cfg = Config(
        dict(train_dataloader=dict(dataset=dict(type='PatchedPageDataset', patch_size=patch_size, overlap=0.0)))
    )
    return runner


@pytest.mark.parametrize('loop_cls, stage', [(PatchedValLoop, 'val'), (PatchedTestLoop, 'test')])
def test_the_loop_predicts_whole_pages_patch_by_patch_and_the_evaluator_sees_page_boxes(loop_cls, stage):
    img, faces = page_with_faces()  # 1000 x 700: 3 x 3 patches of 400 x 300
    model = WhiteSquareDetector()
    model.eval = lambda: None
    runner = runner_with(model)
    evaluator = MagicMock(spec=Evaluator)
    evaluator.evaluate.return_value = {'face/AP50': 1.0}
    loop = loop_cls(runner, PageLoader([img]), evaluator)
    assert loop.predictor.patch_size == (400, 300)  # the training set's patching, written once
    loop.run()
    (call,) = evaluator.process.call_args_list
    (sample,) = call.kwargs['data_samples']
    assert sorted(sample.pred_instances.bboxes.tolist()) == sorted(faces)  # page pixels, one box per face
    assert len(model.batches) == 9  # every patch went through the model
    hooks = [c.args[0] for c in runner.call_hook.call_args_list]
    assert f'before_{stage}_iter' in hooks and f'after_{stage}_iter' in hooks
    after = next(c for c in runner.call_hook.call_args_list if c.args[0] == f'after_{stage}_iter')
    assert after.kwargs['outputs'][0] is sample


def test_the_loops_own_settings_win_over_the_training_sets():
    loop = PatchedTestLoop(
        runner_with(WhiteSquareDetector()), PageLoader([]), MagicMock(spec=Evaluator), patch_size=(256, 256)
    )
    assert loop.predictor.patch_size == (256, 256)
