// The profile pass on the refine example (a draft, then critic and reviser in
// a loop of at most 1-3 rounds), 8 simulated queries. The reference runs (at
// max_iters = 3) took 1.375 rounds on average and always ended on the critic's
// approval (pass_rate = 1.0). The 7 accepted runs hold 7 drafter calls, 9
// critic calls and 2 reviser calls: each agent's acc_n.
// by-answers=false: every agent judged by the reference run's accepted outputs,
// as the paper does (profile/by-answers.mlir tests the default).
// RUN: rm -f %t.sqlite %t.sqlite-wal %t.sqlite-shm
// RUN: flowcompile-opt %examples/refine.mlir -p 'profile{samples=8 max-samples=0 by-answers=false cache="%t.sqlite"}' | filecheck %s

// CHECK-LABEL: %drafter = flow.agent @drafter(%query)
// CHECK-SAME: profiles = {"qwen3-1.7b@0" = #flow.profile<acc = 0.142857, acc_n = 7,
// CHECK-SAME: "qwen3-32b@4096" = #flow.profile<acc = 0.714286, acc_n = 7,
// CHECK-NEXT: %final = flow.loop @final iter(%draft = %drafter) attributes {max_iters = [1, 2, 3], iters = 1.375, pass_rate = 1.0} {
// CHECK-NEXT: %critic = flow.agent @critic(%query, %draft)
// CHECK-SAME: profiles = {"qwen3-1.7b@0" = #flow.profile<acc = 0.777778, acc_n = 9, lat = 0.611153, lat_p95 = 0.800914, tok_in = 601.666667, tok_out = 218.777778, cost = 1.8158889e-05{{[>,]}}
// CHECK-SAME: "qwen3-32b@4096" = #flow.profile<acc = 0.777778, acc_n = 9,
// CHECK-NEXT: %reviser = flow.agent @reviser(%query, %draft, %critic)
// CHECK-SAME: profiles = {"qwen3-1.7b@0" = #flow.profile<acc = 1.0, acc_n = 2,
// CHECK-SAME: "qwen3-32b@4096" = #flow.profile<acc = 1.0, acc_n = 2,
// CHECK-NEXT: flow.until %critic, %reviser
