// The dry run states its bound on calls and calls nothing: on the chain, 8
// queries, 3 agents x 8 reference calls, 54 candidates x 8 candidate calls, and
// (recovery is on by default) one recovery call per candidate call of the two
// agents that read another agent's output, 36 x 8, and judged by the reference
// answers, one more for the checker's mixed inputs (it reads the plan beside the
// answer built on it), 18 x 8.
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=0 dry-run=true}' 2>&1 >/dev/null | filecheck %s
// An adaptive dry run bounds the whole pool and says the rounds spend less:
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=16 budget=500 dry-run=true}' 2>&1 >/dev/null | filecheck %s --check-prefix=ADAPTIVE

// CHECK: profile @chain (dry run): at most 888 calls (24 reference + 432 candidate + 432 recovery) on 8 queries, {{.*}}; no call was made
// ADAPTIVE: profile @chain (dry run): at most 1776 calls (48 reference + 864 candidate + 864 recovery) on 16 queries (adaptive: the candidates out of play make fewer; the budget caps it at 500 after the first round), {{.*}}; no call was made
