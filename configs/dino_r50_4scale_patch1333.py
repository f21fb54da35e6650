# DINO-4scale R50 (mmdet's model zoo) on the patches and views of the Faster R-CNN experiment, with DINO's
# AdamW (gradient clipping, backbone lr x 0.1). Hungarian matching cannot ignore regions (warned at load).
_base_ = ['./_base_/model_zoo_patched.py']
model_from = dict(config='mmdet::dino/dino-4scale_r50_8xb2-12e_coco.py', take={{_base_.zoo_take}})
