#!/usr/bin/env bash
# The checks that need a CUDA device, in one run (a lent GPU machine has minutes, not hours):
#   1. the CUDA tests (tests/pipeline/test_devices.py, FK on CUDA): the CUDA path agrees with the CPU;
#   2. the sample clip through `process` on CUDA, scored against its ground truth;
#   3. speed on CUDA against the CPU (2 threads, the CPU goals' machine) in the same process.
# Needs python3 with a CUDA build of torch, numpy, opencv-python-headless and pytest; nothing else
# (the core imports no Qt, VTK or trimesh). Run from the repository root; logs go to $OUT (default
# /tmp/device_check). benchmarks/README.md records what it printed.
set -u
OUT=${OUT:-/tmp/device_check}
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
status=0
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 -c "import torch, numpy; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available(), 'numpy', numpy.__version__)"
echo "== CUDA tests"
python3 -m pytest -q -p no:cacheprovider -rs tests/pipeline/test_devices.py tests/hand/test_kinematics.py 2>&1 | tee "$OUT/pytest.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
echo "== sample clip on CUDA"
python3 benchmarks/bench_pipeline.py --only-eval --device cuda 2>&1 | tee "$OUT/eval_cuda.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
echo "== whole clip through \`handviewer process\` on CUDA, without metrics (summary: frames_per_second)"
for batch in 32 100; do
  rm -rf /tmp/device_check_process
  python3 -m handviewer process assets/sample/video.mp4 --out /tmp/device_check_process --device cuda \
    --batch $batch --no-metrics 2>/dev/null | tr -d '\n' | tee -a "$OUT/process.log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  echo
done
echo "== speed, CUDA vs CPU"
python3 benchmarks/bench_pipeline.py --compare-devices --cpu-threads 2 2>&1 | tee "$OUT/speed.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
exit $status
