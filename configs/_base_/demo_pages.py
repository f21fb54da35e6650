# CPU demo on whole pages: the synthetic pages that `make demo` writes, each resized to fit the
# input (the experiment sets `input_scale` through its pipelines), the demo schedule and runtime,
# the whole-page loops of datasets/kaokore_pages.py. The patched counterpart: demo_patched.py.
_base_ = [
    './datasets/kaokore_pages.py',
    './schedules/schedule_demo.py',
    './demo_runtime.py',
]
data_root = {{_base_.demo_data_root}}
train_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
