#!/usr/bin/env bash
# Create .venv and install the pinned OpenMMLab stack and kaokore_mm into it.
# Idempotent: every step checks what is already there and skips what works.
#
#   VENV=.venv PYTHON=python3 bash tools/setup_env.sh
#
# Environment:
#   VENV_ARGS      extra arguments of `python -m venv` (e.g. --system-site-packages
#                  to keep a torch you already have; it is kept when it imports
#                  together with a working torchvision)
#   TORCH_SPEC     torch requirement when torch must be installed
#                  (default: the registry's CUDA build of 2.13.0, which also runs on CPU;
#                  the local 2.13.0+cpu wheel has no matching torchvision)
#   FORCE_CUDA=1 TORCH_CUDA_ARCH_LIST="8.0;9.0"   build mmcv's CUDA ops (needs nvcc)
#   MAX_JOBS       parallel compile jobs of the mmcv build (default: number of cores)
set -euo pipefail
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
TORCH_SPEC=${TORCH_SPEC:-"torch==2.13.0,!=2.13.0+cpu"}
TORCHVISION_SPEC=${TORCHVISION_SPEC:-"torchvision==0.28.0"}
SETUPTOOLS_SPEC="setuptools>=77,<81"   # torch wants >=77; mmcv's setup.py and mmengine need pkg_resources
say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
PIP() { "$VENV/bin/python" -m pip --disable-pip-version-check "$@"; }

if [[ ! -x "$VENV/bin/python" ]]; then
  say "creating $VENV with $($PYTHON --version)"
  $PYTHON -m venv ${VENV_ARGS:-} "$VENV"
else
  say "$VENV exists"
fi

if ! "$VENV/bin/python" -c "import ninja, wheel, pkg_resources" 2>/dev/null; then
  say "installing build tools ($SETUPTOOLS_SPEC, wheel, ninja)"
  PIP install -q "$SETUPTOOLS_SPEC" wheel ninja
fi

if "$VENV/bin/python" - <<'PY' 2>/dev/null
import torch, torchvision
torchvision.ops.nms(torch.zeros(1, 4), torch.zeros(1), 0.5)
PY
then
  say "keeping torch $("$VENV/bin/python" -c 'import torch; print(torch.__version__)') with a working torchvision"
else
  say "installing $TORCH_SPEC and $TORCHVISION_SPEC (about 5 GB)"
  PIP install -q "$TORCH_SPEC" "$TORCHVISION_SPEC"
fi

if "$VENV/bin/python" -c "import mmcv, mmcv.ops; assert mmcv.__version__ == '2.1.0'" 2>/dev/null; then
  say "mmcv 2.1.0 with ops is installed"
else
  say "building mmcv 2.1.0 with ops from source (about 11 minutes on 2 cores; pip caches the wheel)"
  PIP install -q "$SETUPTOOLS_SPEC"
  MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} PIP install --no-build-isolation "mmcv==2.1.0"
fi

# setup.py's hash marks what was installed: a changed dependency list installs again
SETUP_HASH=$(sha256sum setup.py | cut -c1-16)
if "$VENV/bin/python" -c "import kaokore_mm, mmdet, mmpretrain, pycocotools, pytest" 2>/dev/null \
   && PIP show -q kaokore_mm >/dev/null 2>&1 && [[ "$(cat "$VENV/.kaokore_setup" 2>/dev/null)" == "$SETUP_HASH" ]]; then
  say "kaokore_mm and its dependencies are installed"
else
  say "installing mmengine, mmdet, mmpretrain and kaokore_mm (editable, with test extras)"
  PIP install -q -e ".[tests]" "$SETUPTOOLS_SPEC"
  echo "$SETUP_HASH" > "$VENV/.kaokore_setup"
fi
# the review app's browser tests: Chromium and its driver from Debian's packages, when we may install them
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  say "chromium and chromedriver are installed"
elif [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
  say "installing chromium and chromium-driver (Debian packages) for the browser tests"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver >/dev/null || say "could not install chromium: the browser tests will be skipped"
else
  say "chromium/chromedriver missing and not root: the browser tests will be skipped (CI=true fails them)"
fi
# a later install may have upgraded setuptools past the pkg_resources removal
"$VENV/bin/python" -c "import pkg_resources" 2>/dev/null || PIP install -q "$SETUPTOOLS_SPEC"
say "ready: $("$VENV/bin/python" -c 'import torch, mmcv, mmdet, mmpretrain; print(f"torch {torch.__version__}, mmcv {mmcv.__version__}, mmdet {mmdet.__version__}, mmpretrain {mmpretrain.__version__}")')"
