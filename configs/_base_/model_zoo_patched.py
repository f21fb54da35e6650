# The model-zoo families (model_from): the project's patched data and views, 12 epochs and the runtime;
# the optimizer comes from the zoo config (model_from = dict(config=..., take=zoo_take)), its learning
# rate scaled linearly from the zoo's batch (its auto_scale_lr.base_batch_size) to ours.
_base_ = ['./datasets/kaokore_patched_pages.py', './schedules/schedule_12e.py', './default_runtime.py']
zoo_take = ['optim_wrapper', 'auto_scale_lr']
auto_scale_lr = dict(enable=True)
