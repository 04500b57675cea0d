// Adaptive profiling weighs what another round is worth: a candidate stays in
// play while the uncertain configurations that use it hold at least
// `min-value` of a drawn frontier's hypervolume. No configuration holds all
// of it, so with min-value=1 nothing is worth a second round, and with 0 every
// candidate of a configuration on some but not all drawn frontiers is.
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=32 min-value=1 cache=none}' 2>&1 >/dev/null | filecheck %s --check-prefix=NONE
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=32 min-value=0 cache=none}' 2>&1 >/dev/null | filecheck %s --check-prefix=ALL
// RUN: not flowcompile-opt %examples/chain.mlir -p 'profile{min-value=-1}' 2>&1 | filecheck %s --check-prefix=BAD

// NONE: profile @chain (adaptive): 1 rounds (8 queries/{{[0-9]+}} calls/54 in play); candidates on all 8 queries: checker 18/18, planner 18/18, solver 18/18
// ALL: profile @chain (adaptive): 3 rounds (8 queries/{{[0-9]+}} calls/54 in play, 16 queries/
// BAD: profile: option min-value=-1: must be >= 0
