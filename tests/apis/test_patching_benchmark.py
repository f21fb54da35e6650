"""The patching benchmark's test settings: the papers' grid, the defaults, and the rule's overlap."""

import json

from kaokore_mm.apis.experiments import parse_cfg_options
from kaokore_mm.apis.patching_benchmark import PATCH_TEST_SETTINGS, REGIMES, regime_settings


def test_settings_parse_and_name_the_papers_grid_and_the_defaults():
    for opts in PATCH_TEST_SETTINGS.values():
        parsed = parse_cfg_options(opts)
        assert 'test_cfg.overlap' in parsed and parsed.get('test_cfg.merge.type') in ('nms', 'nmm')
    grid = parse_cfg_options(PATCH_TEST_SETTINGS['grid, nms'])
    assert grid['test_cfg.overlap'] == 0.0 and grid['test_cfg.merge.ioa_thr'] is None
    assert REGIMES['realistic']['look'] == 'realistic' and REGIMES['realistic']['long_side'] == (4000, 6000)


def test_the_rules_overlap_joins_the_settings_when_the_faces_need_it(tmp_path):
    ann = tmp_path / 'pages.json'
    for size, extra in ((150, None), (300, 'overlap 0.6 (from the faces), containment nms')):
        ann.write_text(json.dumps(dict(annotations=[dict(bbox=[0, 0, size, size * 0.8])] * 20)))
        names = set(regime_settings(ann)) - set(PATCH_TEST_SETTINGS)
        assert names == ({extra} if extra else set())


def test_the_configs_own_setting_is_not_tested_twice():
    from kaokore_mm.apis.patching_benchmark import TRAININGS, without_default

    config = dict(TRAININGS)['patch512']
    kept, same = without_default(config, PATCH_TEST_SETTINGS)
    assert same == 'overlap 0.3, containment nms'  # the demo config's defaults (configs/demo)
    assert set(kept) == set(PATCH_TEST_SETTINGS) - {same}
