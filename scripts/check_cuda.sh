#!/usr/bin/env bash
# The CUDA paths, checked on a machine with a GPU (the library's device tool; CI has none):
# the compute tests with device "auto" (→ cuda), the time of one NRSfM step on cuda and on the
# CPU, the h36m17_train35k teacher fit with device auto (it times both and picks; FIT_DEVICE=cuda
# forces the GPU) and a short distillation benchmark on cuda.
# Logs go to $OUT (default ./cuda_check). Data: ../shared/data, or a copy in .devdata/
# (carried to the device machine). The GPU image has torch but not the GUI and file-format
# packages: the tests that need sleap-io or pytest-qt are left out (they run no CUDA code).
#     bash scripts/check_cuda.sh
#     TESTS="tests/distill/test_train.py" T_FIT=0 DISTILL="--smoke" bash scripts/check_cuda.sh
set -u
OUT=${OUT:-cuda_check}; mkdir -p "$OUT"
PY=${PY:-python3}
if [ ! -d ../shared/data ] && [ -d .devdata ]; then
    mkdir -p ../shared && ln -s "$PWD/.devdata" ../shared/data
fi
export POSELAB_SHARED_DATA=$PWD/../shared/data PYTHONUNBUFFERED=1 OMP_NUM_THREADS=2
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}  # scripts run by tests import poselab
TESTS=${TESTS:-"tests/nrsfm tests/distill tests/metrics tests/synth tests/reliability \
tests/scripts_bench tests/test_core_atomic.py tests/test_core_metric_scale.py \
tests/test_core_normalize.py tests/test_core_process_job.py tests/test_core_skeleton.py"}
nvidia-smi -L
$PY -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), \
torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
$PY -c "from poselab.core.config import resolve_device; print('auto ->', resolve_device('auto'))"
echo "== compute tests, device auto (→ cuda)"
# shellcheck disable=SC2086
timeout "${T_TESTS:-200}" $PY -m pytest -q -p no:pytest-qt -p no:cacheprovider -n 8 \
    --timeout 150 --durations 10 --junitxml "$OUT/junit.xml" \
    --deselect tests/reliability/test_core_guards.py::test_gui_asks_before_replacing_a_protected_file \
    --deselect tests/distill/test_cli_train.py::test_held_out_flags_and_predict_on_unlabelled_images_and_video \
    $TESTS 2>&1 | tee "$OUT/tests.log" | grep -v "PytestConfigWarning\|qt_api\|config/__init__"
echo "== one NRSfM training step"
timeout 90 $PY scripts/bench_nrsfm_step.py --devices cuda,cpu --profile 2>&1 | tee "$OUT/step.log"
if [ "${T_FIT:-150}" != 0 ]; then
    # device auto: extra["device_choice"] in the printed extra says what the fit measured
    # and where it trained (FIT_DEVICE=cuda forces the GPU)
    echo "== teacher fit, h36m17_train35k, device ${FIT_DEVICE:-auto}"
    timeout "${T_FIT:-150}" $PY scripts/bench_nrsfm.py --only mocap \
        --set "device=\"${FIT_DEVICE:-auto}\"" 2>&1 | tee "$OUT/fit.log"
fi
echo "== distillation, cuda"
# shellcheck disable=SC2086
timeout "${T_DISTILL:-150}" $PY scripts/bench_distill.py ${DISTILL:---quick --epochs 5} \
    --device cuda --cache /tmp/poselab_cache --out /tmp/poselab_cache/runs 2>&1 \
    | tee "$OUT/distill.log"
