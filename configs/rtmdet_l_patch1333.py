# RTMDet-l (mmdet's model zoo) on the patches and views of the Faster R-CNN experiment, with RTMDet's AdamW.
_base_ = ['./_base_/model_zoo_patched.py']
model_from = dict(config='mmdet::rtmdet/rtmdet_l_8xb32-300e_coco.py', take={{_base_.zoo_take}})
