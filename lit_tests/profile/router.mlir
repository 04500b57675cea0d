// The profile pass on the router example (a router, then a math or a code
// expert), 8 simulated queries. The reference runs went 4 times each way, so
// the switch gets probs = [0.5, 0.5] (summing to 1). Every run counts, accepted
// or not: each expert is profiled on the 4 inputs the reference's route gave
// it, the router on all 8, judged by agreement with the reference's route
// (`judged`, which compose reads relative to the reference router's own).
// RUN: flowcompile-opt %examples/router.mlir -p 'profile{samples=8 max-samples=0 cache=none}' 2>/dev/null | filecheck %s

// CHECK-LABEL: %router = flow.agent @router(%query)
// CHECK-SAME: profiles = {"qwen3-0.6b@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = 8,
// CHECK-SAME: "qwen3-1.7b@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = 8,
// CHECK-SAME: "qwen3-8b@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = 8,
// CHECK-SAME: judged = "reference output"
// CHECK-NEXT: %answer = flow.switch @answer %router attributes {probs = [0.5, 0.5]} case "math" {
// CHECK-NEXT: %math_expert = flow.agent @math_expert(%query)
// CHECK-SAME: profiles = {"qwen3-1.7b@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = 4,
// CHECK-SAME: "qwen3-32b@2048" = #flow.profile<acc = {{[0-9.]+}}, acc_n = 4,
// CHECK: } case "code" {
// CHECK-NEXT: %code_expert = flow.agent @code_expert(%query)
// CHECK-SAME: profiles = {"qwen3-1.7b@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = 4,
// CHECK-SAME: "qwen3-32b@2048" = #flow.profile<acc = {{[0-9.]+}}, acc_n = 4,
