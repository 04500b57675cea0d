// The profile pass on the mixture example (three proposers in a fork, then an
// aggregator), 8 simulated queries, 7 accepted reference runs: every agent is
// profiled on 7 recorded inputs. The aggregator's inputs are the three
// proposers' outputs, hence its long prompts (tok_in = 1264).
// by-answers=false: every agent judged by the reference run's accepted outputs,
// as the paper does (profile/by-answers.mlir tests the default).
// RUN: rm -f %t.sqlite %t.sqlite-wal %t.sqlite-shm
// RUN: flowcompile-opt %examples/mixture.mlir -p 'profile{samples=8 max-samples=0 by-answers=false cache="%t.sqlite"}' | filecheck %s

// CHECK-LABEL: %0, %1, %2 = flow.fork @answer {
// CHECK-NEXT: %proposer_a = flow.agent @proposer_a(%query)
// CHECK-SAME: profiles = {"qwen3-1.7b@0" = #flow.profile<acc = 0.428571, acc_n = 7,
// CHECK-SAME: "qwen3-8b@1024" = #flow.profile<acc = 0.571429, acc_n = 7,
// CHECK: %proposer_b = flow.agent @proposer_b(%query)
// CHECK-SAME: "qwen3-8b@1024" = #flow.profile<acc = 0.428571, acc_n = 7,
// CHECK: %proposer_c = flow.agent @proposer_c(%query)
// CHECK-SAME: "qwen3-8b@1024" = #flow.profile<acc = 0.571429, acc_n = 7,
// CHECK-LABEL: %answer = flow.agent @aggregator(%query, %0, %1, %2)
// CHECK-SAME: profiles = {"qwen3-8b@0" = #flow.profile<acc = 0.857143, acc_n = 7, lat = 1.573988, lat_p95 = 2.465538, tok_in = 1264.0, tok_out = 174.714286, cost = 6.8350571e-05{{[>,]}}
// CHECK-SAME: "qwen3-32b@4096" = #flow.profile<acc = 1.0, acc_n = 7, lat = 71.193907, lat_p95 = 107.990484, tok_in = 1264.0, tok_out = 2661.714286, cost = 0.000739931429{{[>,]}}
// CHECK-NEXT: flow.return %answer
