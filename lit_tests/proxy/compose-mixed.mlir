// compose shrinks each candidate's mixed rate (success on a right answer beside
// a wrong plan) toward the candidates' pooled rate, as it does recovery: with
// prior-strength 2, s: (2 + 2 * 0.3) / (4 + 2) = 0.433333 from 2 of 4 and a
// pooled 6 of 20 = 0.3; b: (4 + 2 * 0.3) / (16 + 2) = 0.255556. A checker
// without a measured mixed rate gets none.
// RUN: flowcompile-opt %s -p 'compose{prior-strength=2}' | filecheck %s
// CHECK-LABEL: flow.agent @check
// CHECK-SAME: "s@0" = #flow.estimate<{{[^>]*}}, mixed = 0.433333>
// CHECK-SAME: "b@0" = #flow.estimate<{{[^>]*}}, mixed = 0.255556>
// CHECK-LABEL: flow.agent @other
// CHECK-NOT: mixed
// CHECK: flow.return
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %p = flow.agent @plan(%q) {role = "planner", models = ["s"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.5, acc_n = 10, lat = 1.0>}}
  %a = flow.agent @solve(%q, %p) {role = "solver", models = ["s"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.7, acc_n = 10, lat = 1.0>}}
  %c = flow.agent @check(%q, %p, %a) {role = "checker", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.8, acc_n = 4, lat = 1.0, mixed = 0.5, mixed_n = 4>, "b@0" = #flow.profile<acc = 0.9, acc_n = 16, lat = 2.0, mixed = 0.25, mixed_n = 16>}}
  %o = flow.agent @other(%q, %c) {role = "checker", models = ["s"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.8, acc_n = 4, lat = 1.0>}}
  flow.return %o
}
