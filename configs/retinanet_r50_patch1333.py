# RetinaNet R50-FPN (mmdet's model zoo; its MaxIoUAssigner ignores the ignored faces) on the patches and
# views of the Faster R-CNN experiment, with its SGD.
_base_ = ['./_base_/model_zoo_patched.py']
model_from = dict(config='mmdet::retinanet/retinanet_r50_fpn_1x_coco.py', take={{_base_.zoo_take}})
