// The profile pass on the router example (a router, then a math or a code
// expert), 8 simulated queries. The reference runs went 4 times each way, so
// the switch gets probs = [0.5, 0.5] (summing to 1). Of the 5 accepted runs, 2
// took the math case and 3 the code case: each expert is profiled on the inputs
// it saw (acc_n = 2 and 3), the router on all 5.
// RUN: rm -f %t.sqlite %t.sqlite-wal %t.sqlite-shm
// RUN: flowcompile-opt %examples/router.mlir -p 'profile{samples=8 max-samples=0 cache="%t.sqlite"}' | filecheck %s

// CHECK-LABEL: %router = flow.agent @router(%query)
// CHECK-SAME: budgets = [0], profiles = {"qwen3-0.6b@0" = #flow.profile<acc = 0.4, acc_n = 5, lat = 0.065929, lat_p95 = 0.085465, tok_in = 57.8, tok_out = 15.2, cost = 9.184e-07{{[>,]}}
// CHECK-SAME: "qwen3-1.7b@0" = #flow.profile<acc = 1.0, acc_n = 5,
// CHECK-SAME: "qwen3-8b@0" = #flow.profile<acc = 0.8, acc_n = 5,
// CHECK-NEXT: %answer = flow.switch @answer %router attributes {probs = [0.5, 0.5]} case "math" {
// CHECK-NEXT: %math_expert = flow.agent @math_expert(%query)
// CHECK-SAME: profiles = {"qwen3-1.7b@0" = #flow.profile<acc = 0.0, acc_n = 2,
// CHECK-SAME: "qwen3-32b@2048" = #flow.profile<acc = 1.0, acc_n = 2, lat = 33.779773, lat_p95 = 34.175828, tok_in = 60.0, tok_out = 1572.0, cost = 0.00038208{{[>,]}}
// CHECK: } case "code" {
// CHECK-NEXT: %code_expert = flow.agent @code_expert(%query)
// CHECK-SAME: profiles = {"qwen3-1.7b@0" = #flow.profile<acc = 0.666667, acc_n = 3,
// CHECK-SAME: "qwen3-32b@2048" = #flow.profile<acc = 1.0, acc_n = 3,
