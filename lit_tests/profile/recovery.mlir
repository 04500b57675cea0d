// recovery=true: the solver and the checker (the agents with an upstream agent)
// also run on their 6 recorded inputs with one upstream output made wrong:
// 2 agents x 18 candidates x 6 = 216 more calls. The planner has no upstream
// agent, so nothing is measured for it. compose shrinks the measured rate
// toward the agent's pooled recovery rate and passes it on as `rec`.
// by-answers=false: every agent judged by the reference run's accepted outputs,
// as the paper does (profile/by-answers.mlir tests the default).
// RUN: rm -f %t.sqlite %t.sqlite-wal %t.sqlite-shm
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=0 by-answers=false recovery=true cache="%t.sqlite"},compose' 2>%t.err | filecheck %s
// RUN: filecheck %s --check-prefix=SUMMARY < %t.err

// SUMMARY: profile @chain: 564 calls (24 reference on 8 queries, 6 accepted; 324 candidate calls for 3 agents; 216 recovery calls)
// CHECK-LABEL: %planner = flow.agent @planner
// CHECK-SAME: "qwen3-0.6b@0" = #flow.profile<acc = 0.333333, acc_n = 6, lat = 0.953934, lat_p95 = 1.581192, tok_in = 50.5, tok_out = 381.666667, cost = 1.1854e-05, hits = "{{[01.]+}}">
// CHECK-SAME: "qwen3-0.6b@0" = #flow.estimate<acc = 0.402778, lat = 0.953934, acc_lo = 0.096771, acc_hi = 0.700007, cost = 1.1854e-05>
// CHECK-LABEL: %checker = flow.agent @checker
// CHECK-SAME: "qwen3-0.6b@0" = #flow.profile<{{[^>]*}}, rec = 0.5, rec_n = 6, hits = "{{[01.]+}}", rec_hits = "{{[01.]+}}">
// CHECK-SAME: "qwen3-0.6b@0" = #flow.estimate<{{[^>]*}}, rec = 0.465278>
