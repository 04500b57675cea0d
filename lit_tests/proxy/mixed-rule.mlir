// The mixed rule, derived: the checker reads the plan beside the answer built
// on it. With prior-strength 0 the rates are the raw ones: plan 0.5, solver 0.7
// (recovery 0.4), so the answer is right w.p. u = 0.5 * 0.7 + 0.5 * 0.4 = 0.55,
// and right after a right plan w.p. clean = 0.5 * 0.7 = 0.35. Checker s
// (success 0.8, mixed 0.5, no recovery): 0.35 * 0.8 + 0.2 * 0.5 = 0.38, not
// 0.55 * 0.8 = 0.44 as a right answer alone would give; checker b (0.9, 0.25)
// gives 0.365 and is slower, so it is off the front.
// RUN: flowcompile-opt %s -p 'compose{prior-strength=0},pareto' | filecheck %s
// CHECK: flow.config_set
// CHECK-SAME: acc = 0.38,
// CHECK-NOT: acc = 0.365
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %p = flow.agent @plan(%q) {role = "planner", models = ["s"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.5, acc_n = 10, lat = 1.0>}}
  %a = flow.agent @solve(%q, %p) {role = "solver", models = ["s"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.7, acc_n = 10, lat = 1.0, rec = 0.4, rec_n = 10>}}
  %c = flow.agent @check(%q, %p, %a) {role = "checker", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.8, acc_n = 10, lat = 1.0, mixed = 0.5, mixed_n = 10>, "b@0" = #flow.profile<acc = 0.9, acc_n = 10, lat = 2.0, mixed = 0.25, mixed_n = 10>}}
  flow.return %c
}
