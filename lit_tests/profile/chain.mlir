// The profile pass on the chain example (planner -> solver -> checker), 8
// simulated queries. The reference configuration (every agent at qwen3-32b@4096)
// is accepted on 6 of them, so each of the 18 candidates of each agent is
// measured on 6 recorded inputs (acc_n = 6). The sim is deterministic: the
// numbers are exact.
// RUN: rm -f %t.sqlite %t.sqlite-wal %t.sqlite-shm
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=0 cache="%t.sqlite"}' | filecheck %s

// CHECK-LABEL: %planner = flow.agent @planner(%query)
// CHECK-SAME: budgets = [0, 1024, 4096], profiles = {"qwen3-0.6b@0" = #flow.profile<acc = 0.333333, acc_n = 6, lat = 0.953934, lat_p95 = 1.581192, tok_in = 50.5, tok_out = 381.666667, cost = 1.1854e-05{{[>,]}}
// CHECK-SAME: "qwen3-32b@4096" = #flow.profile<acc = 1.0, acc_n = 6, lat = 79.923579, lat_p95 = 97.958546, tok_in = 50.5, tok_out = 3298.166667, cost = 0.0007956{{[>,]}}
// CHECK-LABEL: %solver = flow.agent @solver(%query, %planner)
// CHECK-SAME: profiles = {"qwen3-0.6b@0" = #flow.profile<acc = 0.666667, acc_n = 6,
// CHECK-SAME: "qwen3-32b@4096" = #flow.profile<acc = 0.833333, acc_n = 6,
// CHECK-LABEL: %checker = flow.agent @checker(%query, %planner, %solver)
// CHECK-SAME: profiles = {"qwen3-0.6b@0" = #flow.profile<acc = 0.666667, acc_n = 6,
// CHECK-SAME: "qwen3-32b@4096" = #flow.profile<acc = 0.833333, acc_n = 6,
// CHECK-NEXT: flow.return %checker
