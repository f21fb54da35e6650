# CPU demo family: YOLOX-tiny from mmdet's zoo (model_from), from scratch, on the demo patches and views.
_base_ = ['../_base_/demo_patched.py']
model_from = 'mmdet::yolox/yolox_tiny_8xb8-300e_coco.py'
