// Adaptive profiling on the chain example: a uniform first round on 8
// queries, then rounds doubling the query count (16, 32) for the candidates
// whose measurements can still change the proxy's frontier by enough
// (`min-value`, a share of its hypervolume). The pass states
// every round (queries, calls so far, candidates in play), and per agent how
// many candidates ran on all 32 queries; the others keep the counts of the
// round they dropped out in (acc_n differs between candidates of one agent),
// and the profiling record lists the 32 queries used.
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=32 cache=none}' 2>%t.err | filecheck %s
// RUN: filecheck %s --check-prefix=SPENT < %t.err

// SPENT: profile @chain (adaptive): 3 rounds (8 queries/{{[0-9]+}} calls/54 in play, 16 queries/{{[0-9]+}} calls/{{[0-9]+}} in play, 32 queries/{{[0-9]+}} calls/{{[0-9]+}} in play); candidates on all 32 queries: checker {{[0-9]+}}/18, planner {{[0-9]+}}/18, solver {{[0-9]+}}/18

// CHECK: flow.workflow @chain
// CHECK-SAME: profiled = {backend = "sim", simulation = "qwen3-dense-sim", world_digest = "{{[0-9a-f]+}}", flowcompile = "{{[^"]+}}", queries = ["q00000", {{.*}}, "q00031"], queries_digest = "{{[0-9a-f]+}}", calls = {{[0-9]+}}, judged = "reference answers", concurrency = 8}
// CHECK: flow.agent @planner
// CHECK-SAME: acc_n = 32,
// CHECK-SAME: acc_n = {{8|16}},
// CHECK-SAME: acc_n = 32,
