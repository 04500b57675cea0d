// Deployment reads the frontier's estimates: with nothing worth a round for
// the frontier's membership (min-value=1), the candidates of frontier
// configurations whose estimate still moves over the drawn rates by at least
// `precision` (a standard deviation) keep getting rounds; precision=0 turns
// that off.
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=32 min-value=1 precision=0.001 cache=none}' 2>&1 >/dev/null | filecheck %s
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=32 min-value=1 precision=0 cache=none}' 2>&1 >/dev/null | filecheck %s --check-prefix=OFF
// RUN: not flowcompile-opt %examples/chain.mlir -p 'profile{precision=-1}' 2>&1 | filecheck %s --check-prefix=BAD

// CHECK: profile @chain (adaptive): 3 rounds (8 queries/{{[0-9]+}} calls/54 in play, 16 queries/
// OFF: profile @chain (adaptive): 1 rounds (8 queries/{{[0-9]+}} calls/54 in play)
// BAD: profile: option precision=-1: must be >= 0
