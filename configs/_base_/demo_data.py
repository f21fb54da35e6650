# Where `make demo` writes its synthetic pages and face crops: the one place the demo configs
# (detection and classification) name it; `--data-root` points any config elsewhere.
demo_data_root = 'work_dirs/demo/data/'
