# YOLOX-l (mmdet's model zoo) on the patches and views of the Faster R-CNN experiment, with YOLOX's SGD
# (Nesterov); its random batch resize is left out (the views set the scales).
_base_ = ['./_base_/model_zoo_patched.py']
model_from = dict(config='mmdet::yolox/yolox_l_8xb8-300e_coco.py', take={{_base_.zoo_take}})
