# Face gender (male, female): the status experiment with another task.
_base_ = ['./resnext50_kaokore_status.py']
model = dict(head=dict(num_classes=2))
data_preprocessor = dict(num_classes=2)
train_dataloader = dict(dataset=dict(dataset=dict(task='gender')))
val_dataloader = dict(dataset=dict(task='gender'))
test_dataloader = dict(dataset=dict(task='gender'))
