from setuptools import find_packages, setup

with open('README.md', encoding='utf-8') as f:
    long_description = f.read()

setup(
    name='kaokore_mm',
    version='0.1.0',
    description='Face detection (image patching, book-aware splits) and interpretation (Guided Grad-CAM) '
    'for pre-modern Japanese picture scrolls and books, as MMDetection 3.x / mmpretrain plugins',
    long_description=long_description,
    long_description_content_type='text/markdown',
    packages=find_packages(include=['kaokore_mm', 'kaokore_mm.*']),
    python_requires='>=3.9',
    install_requires=[
        'torch>=2.1',
        'torchvision',
        'numpy',
        'opencv-python',
        'matplotlib',
        'pycocotools',
        'pydantic>=2',
        'tqdm',
        'mmengine==0.10.7',
        'mmcv>=2.0.0rc4,<2.2.0',  # built from source with ops, see tools/setup_env.sh
        'mmdet==3.3.0',
        'mmpretrain==1.2.0',
        'grad-cam>=1.5',
        'iiif-prezi3>=2.0',
        'starlette>=0.37',  # the review app (tools/review.py)
        'uvicorn>=0.29',
    ],
    # the review app's front end (vendored OpenSeadragon and Annotorious, with their licences)
    package_data={
        'kaokore_mm.review': [
            'static/*.html',
            'static/*.js',
            'static/*.css',
            'static/vendor/VERSIONS',
            'static/vendor/*/*',
            'static/vendor/openseadragon/images/*',
        ]
    },
    include_package_data=True,
    extras_require={
        'tests': ['pytest>=7', 'pytest-xdist>=3', 'httpx', 'selenium>=4.10', 'ruff==0.17.6', 'jsonschema>=4'],
        'bench': ['sahi>=0.11'],
    },
    license='Apache-2.0',
)
