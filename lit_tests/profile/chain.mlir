// The profile pass on the chain example (planner -> solver -> checker), 8
// simulated queries. Judged by the reference answers, every reference run
// counts: the planner's candidates are judged against the reference's plans
// on all 8 queries (a plan is right when it is the reference's, accepted run
// or not), and so the solver, reading the query and the reference's plan,
// has a right input on all 8 (acc_n = 8); its recovery is measured on the
// same 8 inputs with the plan swapped for a wrong one (rec_n = 8). The
// checker's inputs are right where the reference's solver was, and the
// flipped ones make up the rest.
// RUN: rm -f %t.sqlite %t.sqlite-wal %t.sqlite-shm
// RUN: flowcompile-opt %examples/chain.mlir -p 'profile{samples=8 max-samples=0 cache="%t.sqlite"}' | filecheck %s

// CHECK-LABEL: %planner = flow.agent @planner(%query)
// CHECK-SAME: budgets = [0, 1024, 4096], profiles = {"qwen3-0.6b@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = 8, lat = {{[0-9.]+}},
// CHECK-SAME: "qwen3-32b@4096" = #flow.profile<acc = {{[0-9.]+}}, acc_n = 8, lat =
// CHECK-LABEL: %solver = flow.agent @solver(%query, %planner)
// CHECK-SAME: profiles = {"qwen3-0.6b@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = 8, {{[^>]*}} rec = {{[0-9.]+}}, rec_n = 8,
// CHECK-SAME: "qwen3-32b@4096" = #flow.profile<acc = {{[0-9.]+}}, acc_n = 8, {{[^>]*}} rec = {{[0-9.]+}}, rec_n = 8,
// CHECK-LABEL: %checker = flow.agent @checker(%query, %planner, %solver)
// CHECK-SAME: profiles = {"qwen3-0.6b@0" = #flow.profile<acc = {{[0-9.]+}}, acc_n = {{[0-9]+}},
// CHECK-NEXT: flow.return %checker
