#!/usr/bin/env bash
# One call on the GPU machine (see bench/README.md): set up, then run the named steps, writing
# logs under $OUT. Usage: bash bench/gpu_session.sh STEP [STEP ...]
#   tests     the GPU tests (tests/gpu, -m gpu)
#   dispatch  bench/bench_dispatch.py (custom-op overhead vs direct launch)
#   bundle    curated kernels for this GPU through batch import -> cache/ (tarred to $OUT)
#   bundle-level1|2|3  the curated Triton kernels of bench/curated/catalog.py for that level -> cache/
#   model     tests/gpu/test_model_gpu.py only
#   launch    tests/gpu/test_triton_launch_gpu.py only (Triton fast launch stays right)
#   graphs    tests/gpu/test_cuda_graph_gpu.py and test_model_gpu.py (CUDA-graph replay stays right)
#   suite-level1, suite-level2-3, ...  the suite for those levels only -> $OUT/<step>.json
#             (BENCH_BACKENDS=eager,inductor,llm,dynamo adds the no-op torch.compile backend)
#   shapes    bench/bench_shapes.py: a transformer block and a CNN at a sweep of batch sizes and
#             sequence lengths (dynamic shapes; SHAPES_K=pytest -k expression) -> $OUT/shapes.json
#   models    bench/bench_models.py: torchvision/transformers/timm models (MODELS_K=pytest -k
#             expression to pick some) -> $OUT/models.json
#   demo      llmbackend demo
#   suite     bench/bench_problems.py (eager, inductor, llm) -> $OUT/suite.json
set -uo pipefail
export PYTHONUNBUFFERED=1 OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl 2>/dev/null
export PYTHONPATH=/tmp/site:$PWD
python3 -m pip install -q --no-deps --no-build-isolation -e . >/dev/null 2>&1 || echo "editable install failed"
python3 -c "import torch, triton; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'triton', triton.__version__, torch.cuda.get_device_name())"
for step in "$@"; do
  echo "=== $step"
  case $step in
    tests) python3 -m pytest tests/gpu -m gpu -q -rs -s -p no:cacheprovider 2>&1 | tee "$OUT/tests.log" | tail -60 ;;
    tests-fast) python3 -m pytest tests/gpu -m gpu -q -rs -s -p no:cacheprovider -k "not fastest" 2>&1 | tee "$OUT/tests.log" | tail -60 ;;
    tests-fastest) python3 -m pytest tests/gpu -m gpu -q -rs -s -p no:cacheprovider -k fastest 2>&1 | tee "$OUT/tests_fastest.log" | tail -40 ;;
    dispatch) python3 -m pytest bench/bench_dispatch.py --benchmark-enable -q -s -p no:cacheprovider --benchmark-json "$OUT/dispatch.json" 2>&1 | tail -25 ;;
    bundle) python3 -m bench.make_bundle --model demo --target cuda 2>&1 | tail -8; tar czf "$OUT/bundle.tgz" cache ;;
    bundle-level1|bundle-level2|bundle-level3)
           python3 -m bench.make_bundle --problems "${step#bundle-}" --target triton 2>&1 | grep -v Warning | tee "$OUT/$step.log" | tail -60
           tar czf "$OUT/bundle.tgz" cache ;;
    model) python3 -m pytest tests/gpu/test_model_gpu.py -m gpu -q -rs -p no:cacheprovider 2>&1 | tail -8 ;;
    graphs) python3 -m pytest tests/gpu/test_cuda_graph_gpu.py tests/gpu/test_model_gpu.py -m gpu -q -s -rs -p no:cacheprovider 2>&1 | grep -v Warning | tail -30 ;;
    launch) python3 -m pytest tests/gpu/test_triton_launch_gpu.py -m gpu -q -s -rs -p no:cacheprovider 2>&1 | grep -E "passed|failed|Error" ;;
    shapes) python3 -m pytest bench/bench_shapes.py --benchmark-enable -q -p no:cacheprovider --bench-rounds 10 \
              --bench-warmup 2 ${SHAPES_K:+-k "$SHAPES_K"} --benchmark-json "$OUT/shapes.json" 2>&1 | grep -v Warning | tail -15
            python3 -m bench.bench_shapes "$OUT/shapes.json" ;;
    models) python3 -m pytest bench/bench_models.py --benchmark-enable -q -p no:cacheprovider --bench-rounds 10 \
              --bench-warmup 1 ${MODELS_K:+-k "$MODELS_K"} --benchmark-json "$OUT/models.json" 2>&1 | grep -v Warning | tail -25 ;;
    demo) llmbackend demo 2>&1 | tail -12 ;;
    suite) python3 -m pytest bench/bench_problems.py --benchmark-enable -q -p no:cacheprovider --benchmark-json "$OUT/suite.json" 2>&1 | tail -15
           python3 -m bench.summary "$OUT/suite.json" --png "$OUT/suite.png" 2>&1 | tail -30 ;;
    suite-level*)  # one or more levels, e.g. suite-level1 or suite-level2-3 -> $OUT/suite-level2-3.json
           levels=${step#suite-level}; expr=$(echo "$levels" | sed 's/-/ or level/g; s/^/level/')
           python3 -m pytest bench/bench_problems.py --benchmark-enable -q -p no:cacheprovider -k "$expr" \
             ${BENCH_BACKENDS:+--bench-backends "$BENCH_BACKENDS"} --benchmark-json "$OUT/$step.json" 2>&1 | tail -8
           python3 -m bench.summary "$OUT/$step.json" 2>&1 | tail -14 ;;
    *) echo "unknown step $step" ;;
  esac
done
