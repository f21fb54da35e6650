# FCOS R50-caffe GN-head (mmdet's model zoo) on the patches and views of the Faster R-CNN experiment, with
# FCOS's SGD.
_base_ = ['./_base_/model_zoo_patched.py']
model_from = dict(config='mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py', take={{_base_.zoo_take}})
