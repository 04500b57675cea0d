// Successive halving: with shrink=0.5, round k + 1 measures at most half to
// the power k of the 54 candidates (27, then 14), the most valuable in play;
// min-value=0 puts every uncertain candidate in play, so the cap decides.
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=32 min-value=0 shrink=0.5 cache=none}' 2>&1 >/dev/null | filecheck %s
// RUN: not flowcompile-opt %examples/chain.mlir -p 'profile{shrink=0}' 2>&1 | filecheck %s --check-prefix=BAD

// CHECK: profile @chain (adaptive): 3 rounds (8 queries/{{[0-9]+}} calls/54 in play, 16 queries/{{[0-9]+}} calls/27 in play, 32 queries/{{[0-9]+}} calls/14 in play)
// BAD: option shrink=0: must be > 0
