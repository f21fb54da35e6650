"""The campaign end to end on tiny data: every strategy, two rounds, the real review app in
Chromium, the merge; then resumed after a kill in the middle of a round."""

import json
import shutil
from pathlib import Path

import pytest

from kaokore_mm.apis.campaign import (
    Plan,
    book_subset,
    choose_book,
    choose_pages,
    finetune_hooks,
    finetune_options,
    split_books,
)
from kaokore_mm.utils.cli import UserError
from tests.conftest import LOADER_OPTS, load_tool, status_classifier
from tests.test_compat import DEMO

OPTS = [*LOADER_OPTS, 'train_dataloader.batch_size=2', 'train_dataloader.dataset.patch_size=(256,256)']


def test_books_split_in_collection_order(tiny_data):
    truth = json.loads((tiny_data / 'annotations' / 'pages.json').read_text())
    start, pool, held = split_books(truth, 1, 1)
    assert (start, pool, held) == (['book000'], ['book001', 'book002'], ['book003'])
    sub = book_subset(truth, held)
    assert {im['book_id'] for im in sub['images']} == {'book003'}
    assert {a['image_id'] for a in sub['annotations']} <= {im['id'] for im in sub['images']}
    with pytest.raises(UserError, match='need at least one start book'):
        split_books(truth, 2, 2)


def test_the_strategies_choose_by_the_forecast_cost_per_face():
    pool = ['b1', 'b2', 'b3']
    expected = {'b1': dict(share=0.2), 'b2': dict(share=0.4), 'b3': dict(share=0.1)}
    assert choose_book('in_order', pool, expected) == 'b1'
    assert choose_book('active', pool, expected) == 'b2'  # the costliest per face: the most to learn
    assert choose_book('easy_first', pool, expected) == 'b3'  # the cheapest: the costly ones left to better models
    tie = {b: dict(share=0.3) for b in pool}
    assert choose_book('active', pool, tie) == choose_book('easy_first', pool, tie) == 'b1'  # the pool's order


def test_active_pages_takes_the_costliest_page_of_every_book_in_turn():
    pool = [(1, 'a'), (2, 'a'), (3, 'b'), (4, 'b'), (5, 'c')]
    expected = {1: dict(share=0.5), 2: dict(share=0.9), 3: dict(share=0.2), 4: dict(share=0.1), 5: dict(share=0.3)}
    # every book's costliest page first (costliest first), then every book's second
    assert choose_pages(pool, expected, 3) == [2, 5, 3]
    assert choose_pages(pool, expected, 4) == [2, 5, 3, 1]  # a's second before the cheaper b's, c has none left
    assert choose_pages(pool, expected, 9) == [2, 5, 3, 1, 4]  # a budget beyond the pool takes it all
    # one book holding every costly page still gives up its turn: b's page before a's second
    lopsided = {1: dict(share=0.9), 2: dict(share=0.8), 3: dict(share=0.1), 4: dict(share=0.05), 5: dict(share=0.0)}
    assert choose_pages(pool, lopsided, 2) == [1, 3]
    tie = {pid: dict(share=0.3) for pid, _ in pool}
    assert choose_pages(pool, tie, 4) == [1, 3, 5, 2]  # the pool's order


def test_the_fine_tunes_scale_the_configs_learning_rate():
    assert finetune_options(Plan(DEMO)) == ['optim_wrapper.optimizer.lr=0.0002']  # AdamW at 1e-3, a fifth
    # the rate the campaign's own --cfg-options set is the one scaled
    assert finetune_options(Plan(DEMO, cfg_options=('optim_wrapper.optimizer.lr=0.02',), finetune_lr_scale=0.5)) == [
        'optim_wrapper.optimizer.lr=0.01'
    ]
    assert finetune_options(Plan(DEMO, finetune_lr_scale=1.0)) == []  # the full rate: nothing added
    with pytest.raises(UserError, match='no optim_wrapper.optimizer.lr'):
        finetune_options(Plan(DEMO, cfg_options=('optim_wrapper.optimizer.lr=None',)))


def test_the_fine_tunes_average_their_weights_when_asked(tmp_path):
    from kaokore_mm.apis.experiments import run_cfg

    assert finetune_hooks(Plan(DEMO)) == []  # the default: the last iterate
    hooks = finetune_hooks(Plan(DEMO, finetune_ema=0.02))
    assert hooks == [dict(type='EMAHook', momentum=0.02, update_buffers=True)]
    cfg = run_cfg(DEMO, tmp_path / 'run', tmp_path / 'data', ('default_hooks.logger.interval=3',), hooks=hooks)
    assert cfg.custom_hooks == hooks and cfg.default_hooks.logger.interval == 3
    assert not run_cfg(DEMO, tmp_path / 'run', tmp_path / 'data').get('custom_hooks')
    # the batch-norm statistics recomputed once, at the last iteration, before the checkpoint and the average
    both = finetune_hooks(Plan(DEMO, finetune_iters=50, finetune_ema=0.02, finetune_precise_bn=200))
    assert both == [
        dict(type='mmpretrain.PreciseBNHook', num_samples=200, interval=50, priority='ABOVE_NORMAL'),
        *hooks,
    ]
    # a config's own hooks stay, the average joins them
    cls = 'configs/demo/resnet18_kaokore_status_demo.py'
    assert [h['type'] for h in run_cfg(cls, tmp_path / 'run', tmp_path / 'data', hooks=hooks).custom_hooks] == [
        'GuidedGradCAMHook',
        'EMAHook',
    ]


@pytest.mark.processes
def test_a_campaign_of_two_rounds_per_strategy_then_resumed(tiny_data, tmp_path, capsys):
    pytest.importorskip('selenium.webdriver')
    if not shutil.which('chromedriver'):
        pytest.skip('needs chromium and chromedriver')
    work = tmp_path / 'campaign'
    args = [DEMO, '--data-root', str(tiny_data), '--work-dir', str(work), '--rounds', '2']
    args += ['--max-iters', '2', '--finetune-iters', '2', '--scout-pages', '1', '--finetune-ema', '0.5']
    args += ['--finetune-precise-bn', '4']
    args += ['--classifier', *status_classifier(tmp_path / 'status.pth'), '--cfg-options', *OPTS]
    records = load_tool('campaign').main(args)
    assert [(r['strategy'], r['round']) for r in records] == [
        ('in_order', 0),
        ('in_order', 1),
        ('active', 0),
        ('active', 1),
        ('easy_first', 0),
        ('easy_first', 1),
        ('active_pages', 0),
        ('active_pages', 1),
    ]
    truth = json.loads((tiny_data / 'annotations' / 'pages.json').read_text())
    for r in records:
        pages = r.get('pages') or [im['id'] for im in truth['images'] if im['book_id'] == r['book']]
        faces = sum(a['image_id'] in pages for a in truth['annotations'])
        assert r['faces'] == faces > 0  # the scripted annotator corrected the whole book (or pages) to its truth
        acts = r['accept'] + r['resize'] + r['delete'] + r['draw']
        assert acts > 0 and 0.0 < r['effort_share'] <= r['draw'] / faces + 0.5 * r['resize'] / faces + 1
        assert r['heldout_AP50'] is not None and r['train_books'] == 1 + r['round']
        assert r['heldout_effort'] >= 0  # the held-out books at the round's operating point
        # every face's status: confirmed in bulk (the sure ones that were right) or set by hand
        n = r['labels']
        assert r['labels_bulk'] + r['labels_by_hand'] == faces and r['labels_bulk'] == n['sure_right'] <= n['sure']
        assert n['one_by_one'] == faces - n['sure_right']
        assert n['proposed'] == r['accept'] + r['resize'] + r['draw']  # a face drawn gets its label proposed too
    assert [r['book'] for r in records[:2]] == ['book001', 'book002']  # in order
    active = records[2]
    assert set(active['expected']) == {'book001', 'book002'}
    # the book whose faces its model expects to cost most each, its forecast recorded beside the share paid
    assert active['book'] == max(active['expected'], key=lambda b: active['expected'][b]['share'])
    assert active['forecast'] == active['expected'][active['book']]['share'] > 0
    assert all(e['faces_per_page'] >= 0 and e['cost_per_page'] >= 0 for e in active['expected'].values())
    assert records[0]['forecast'] is None  # in order: nothing scouted
    easy = records[4]  # the same start model, the same forecast: the book it expects to cost least
    assert easy['expected'] == active['expected']
    assert easy['book'] == min(easy['expected'], key=lambda b: easy['expected'][b]['share'])
    # active_pages: as many pages a round as a book holds, the costliest of every book in turn
    pool_pages = [(im['id'], im['book_id']) for im in truth['images'] if im['book_id'] in ('book001', 'book002')]
    by_pages = records[6:]
    assert len(by_pages[0]['pages']) == len(pool_pages) // 2 and not set(by_pages[0]['pages']) & set(
        by_pages[1]['pages']
    )
    assert set(by_pages[0]['pages']) | set(by_pages[1]['pages']) == {pid for pid, _ in pool_pages}
    seen = {int(pid): e for pid, e in by_pages[0]['expected'].items()}  # every page left scouted
    assert set(seen) == {pid for pid, _ in pool_pages}
    assert by_pages[0]['pages'] == choose_pages(sorted(pool_pages), seen, len(pool_pages) // 2)
    assert by_pages[0]['book'] == 'book001 book002'  # one page of each: the label says whose pages were annotated
    # the training set grew by the corrected books (or pages), held-out book never in it
    book_pages = {im['file_name'] for im in truth['images'] if im['book_id'] in ('book000', 'book001', 'book002')}
    for s in ('in_order', 'active', 'easy_first', 'active_pages'):
        train = json.loads((work / s / 'data' / 'annotations' / 'pages.json').read_text())
        assert {Path(im['file_name']).name for im in train['images']} == {Path(f).name for f in book_pages}
        # each corrected part keeps the proposals deleted on it: the next round's hard negatives
        for r in (x for x in records if x['strategy'] == s):
            part = r.get('part', r['book'])
            kept = sum(len(im.get('rejected', [])) for im in train['images'] if im['book_id'] == part)
            merged = json.loads((work / s / 'data' / 'annotations' / f'merge_{part}.json').read_text())
            assert kept == merged['rejected'] <= r['delete']
    # no training mined its pages: a round's hard negatives are its deletions
    assert not [d for d in work.rglob('hard_negatives') if d.is_dir()]
    # round 0 trained once for both strategies; round 1 fine-tuned from it at a fifth of the rate
    assert records[0]['checkpoint'] == records[2]['checkpoint'] == records[4]['checkpoint']
    from mmengine.config import Config

    def ran_with(run_dir):
        return Config.fromfile(str(run_dir / 'train' / Path(DEMO).name))

    start, tuned = ran_with(work / 'start'), ran_with(work / 'in_order' / 'round_1')
    assert start.optim_wrapper.optimizer.lr == 1e-3 and start.get('load_from') is None
    assert tuned.optim_wrapper.optimizer.lr == pytest.approx(2e-4) and tuned.load_from == records[0]['checkpoint']
    # the fine-tune's checkpoint is the average of its weights (mmengine's EMAHook), the start model's is not
    import torch

    assert [h['type'] for h in tuned.custom_hooks] == ['mmpretrain.PreciseBNHook', 'EMAHook']
    assert not start.get('custom_hooks')
    ckpt = {r['round']: torch.load(r['checkpoint'], map_location='cpu', weights_only=False) for r in records[:2]}
    assert 'ema_state_dict' not in ckpt[0] and 'ema_state_dict' in ckpt[1]
    ema, last = ckpt[1]['state_dict'], ckpt[1]['ema_state_dict']  # saved swapped: the last iterate kept aside
    assert any(not torch.equal(ema[k], last['module.' + k]) for k in ema if ema[k].is_floating_point())
    report = (work / 'campaign.md').read_text()
    assert report.count('cumulative effort') == 4 and report.count('labels confirmed in bulk') == 4
    # (the sure and doubtful paths of the labels: tests/review/test_review_browser.py, with known proposals)
    assert (work / 'effort.png').stat().st_size > 0
    # killed while correcting round 1: its effort and record gone, its corrections half written
    here = work / 'in_order' / 'round_1'
    (here / 'round.json').unlink()
    (here / 'effort.json').unlink()
    # active_pages killed after merging round 1's pages, before recording it
    (work / 'active_pages' / 'round_1' / 'round.json').unlink()
    # and round 0 recorded before the held-out effort was: read back from its test
    first = work / 'in_order' / 'round_0' / 'round.json'
    first.write_text(json.dumps({k: v for k, v in records[0].items() if k != 'heldout_effort'}))
    again = load_tool('campaign').main(args)
    assert again[0]['heldout_effort'] == records[0]['heldout_effort']
    redone = again[1]
    for key in ('book', 'faces', 'accept', 'resize', 'delete', 'draw', 'effort_share'):
        assert redone[key] == records[1][key], key
    for key in ('book', 'pages', 'faces', 'delete', 'effort_share'):
        assert again[7][key] == records[7][key], key  # the same pages, not chosen again
    for s in ('in_order', 'active_pages'):
        train = json.loads((work / s / 'data' / 'annotations' / 'pages.json').read_text())
        assert len(train['images']) == len({im['file_name'] for im in train['images']})  # merged once
    # other settings in the same work dir are refused, one line
    from kaokore_mm.utils.cli import cli_main

    other = list(args)
    other[other.index('--rounds') + 1] = '1'  # one book left in the pool once two are held out
    rc = cli_main(load_tool('campaign').main, [*other, '--heldout', '2'])
    # the differences named (the rounds may grow: not a setting)
    assert rc == 2 and 'other settings (heldout 1 -> 2)' in capsys.readouterr().err
    # a campaign begun before the fine-tunes' rate was an option ran them at the full rate: resumed as such
    meta = work / 'settings.json'
    written = json.loads(meta.read_text())
    assert written['finetune_lr_scale'] == 0.2
    meta.write_text(json.dumps({k: v for k, v in written.items() if k != 'finetune_lr_scale'}))
    assert cli_main(load_tool('campaign').main, args) == 2
    assert 'other settings (finetune_lr_scale 1.0 -> 0.2)' in capsys.readouterr().err
    # and before the average was: resumed without one
    meta.write_text(json.dumps({k: v for k, v in written.items() if k != 'finetune_ema'}))
    assert cli_main(load_tool('campaign').main, args) == 2
    assert 'other settings (finetune_ema 0.0 -> 0.5)' in capsys.readouterr().err
    meta.write_text(json.dumps({k: v for k, v in written.items() if k != 'finetune_precise_bn'}))
    assert cli_main(load_tool('campaign').main, args) == 2
    assert 'other settings (finetune_precise_bn 0 -> 4)' in capsys.readouterr().err
    gone = list(args)
    gone[gone.index('--classifier') + 2] = str(tmp_path / 'missing.pth')
    assert cli_main(load_tool('campaign').main, gone) == 2
    assert 'missing.pth not found' in capsys.readouterr().err


def test_the_validation_takes_the_last_pages_of_each_annotated_book_with_the_held_out_books(tiny_data, tmp_path):
    from kaokore_mm.apis.campaign import join_sets, make_root, round_roots, split_pages

    truth = json.loads((tiny_data / 'annotations' / 'pages.json').read_text())
    start, pool, held = split_books(truth, 2, 1)
    data = make_root(tmp_path / 'data', truth, tiny_data, start)
    heldout = make_root(tmp_path / 'heldout', truth, tiny_data, held)
    coco = json.loads((data / 'annotations' / 'pages.json').read_text())
    train, val = split_pages(coco, 1)
    for book in start:  # one page per book, its last, and at least one page left to train on
        pages = sorted(im['id'] for im in coco['images'] if im['book_id'] == book)
        assert [im['id'] for im in val['images'] if im['book_id'] == book] == pages[-1:]
        assert len([im for im in train['images'] if im['book_id'] == book]) == len(pages) - 1 >= 1
    assert len(train['annotations']) + len(val['annotations']) == len(coco['annotations'])
    assert split_pages(coco, 0)[1]['images'] == [] and split_pages(coco, 99)[0]['images']  # never a book emptied
    train_root, val_root = round_roots(tmp_path / 'round', data, heldout, 1)
    joined = json.loads((val_root / 'annotations' / 'pages.json').read_text())
    assert {im['book_id'] for im in joined['images']} == {*start, *held}
    assert len({im['id'] for im in joined['images']}) == len(joined['images'])  # ids afresh, no clash
    assert {a['image_id'] for a in joined['annotations']} <= {im['id'] for im in joined['images']}
    assert all((val_root / im['file_name']).is_file() for im in joined['images'])
    trained = json.loads((train_root / 'annotations' / 'pages.json').read_text())
    assert not {im['file_name'] for im in trained['images']} & {im['file_name'] for im in joined['images']}
    assert round_roots(tmp_path / 'none', data, heldout, 0) == (data, heldout)
    with pytest.raises(UserError, match='two of the sets'):
        join_sets(val, val)
