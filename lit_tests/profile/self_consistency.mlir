// The profile pass on the self-consistency example (one solver sampled 1, 3 or
// 5 times, then a majority vote), 8 simulated queries. The reference run takes
// the largest fork (5 samples) and is accepted on all 8 queries, so every
// candidate is measured on 8 x 5 = 40 recorded inputs. The fork's choice space
// is left as it was.
// by-answers=false: every agent judged by the reference run's accepted outputs,
// as the paper does (profile/by-answers.mlir tests the default).
// RUN: rm -f %t.sqlite %t.sqlite-wal %t.sqlite-shm
// RUN: flowcompile-opt %examples/self_consistency.mlir -p 'profile{samples=8 max-samples=0 by-answers=false cache="%t.sqlite"}' | filecheck %s

// CHECK: %0 = flow.fork @answer attributes {samples = [1, 3, 5]} {
// CHECK-NEXT: %solver = flow.agent @solver(%query)
// CHECK-SAME: profiles = {"qwen3-0.6b@0" = #flow.profile<acc = 0.15, acc_n = 40, lat = 1.074488, lat_p95 = 1.532311, tok_in = 57.625, tok_out = 451.875, cost = 1.401725e-05{{[>,]}}
// CHECK-SAME: "qwen3-32b@4096" = #flow.profile<acc = 0.7, acc_n = 40, lat = 70.425467, lat_p95 = 97.099713, tok_in = 57.625, tok_out = 2913.325, cost = 0.000703808{{[>,]}}
// Two wrong answers that different candidates gave on the same recorded input
// agree this often (over that many pairs): what the vote's plurality needs.
// CHECK-SAME: wrong_agree = 0.292892, wrong_agree_n = 3841}
// CHECK: %answer = flow.vote(%0) {method = "majority"}
