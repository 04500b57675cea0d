// A failed call is never a measurement: when every call is refused, profiling
// stops at the workflow with exit 1 and the provider's message, and prints no IR.
// RUN: not flowcompile-opt %examples/chain.mlir -p 'profile{world="%S/Inputs/refusing_world.yaml" samples=4 max-samples=0 cache=none retries=1}' 2>&1 | filecheck %s
// The threshold is an option, bounded to [0, 1]:
// RUN: not flowcompile-opt %examples/chain.mlir -p 'profile{max-failures=1.5 dry-run=true}' 2>&1 | filecheck %s --check-prefix=BOUND

// CHECK: chain.mlir:2:3: error: profile: profiling stopped: 1 of 4 reference runs failed after retries (max-failures=0.05 allows 0); the provider said: agent @planner failed: rate_limit; lost: run q{{[0-9]+}}; every finished call is in the cache: rerun to resume
// CHECK-NOT: flow.workflow
// BOUND: error: {{.*}}max-failures=1.5: must be <= 1
