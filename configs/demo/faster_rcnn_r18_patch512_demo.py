# CPU demo: the patched Faster R-CNN experiment with a small detector trained from
# scratch on 512x512 patches of the synthetic pages that `make demo` writes.
_base_ = ['../_base_/models/faster_rcnn_r18_demo.py', '../_base_/demo_patched.py']
