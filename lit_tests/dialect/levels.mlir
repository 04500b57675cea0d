// Round trip of the per-level fields of an aggregator's #flow.profile
// (`by_right`, `by_right_n`: success rate and calls with exactly j of its
// proposals right) and #flow.estimate (`by_right`: the curve compose derives).
// Number lists print bare, in field order, integers given for rates as
// floats, in the custom and the generic form alike.
// RUN: flowcompile-opt %s | flowcompile-opt | filecheck %s
// RUN: flowcompile-opt %s --print-op-generic | flowcompile-opt | filecheck %s
// RUN: flowcompile-opt %s > %t.1 && flowcompile-opt %t.1 > %t.2 && diff %t.1 %t.2
// RUN: flowcompile-opt %s --print-op-generic | filecheck %s --check-prefix=GENERIC

// CHECK: flow.agent @agg(%q, %0, %1)
// CHECK-SAME: profiles = {"m@0" = #flow.profile<acc = 0.9, acc_n = 24, lat = 1.5, by_right = [0.05, 0.41, 1.0], by_right_n = [24, 0, 24]>}
// CHECK-SAME: estimates = {"m@0" = #flow.estimate<acc = 0.9, lat = 1.5, by_right = [0.06, 0.41, 0.98]>}
// GENERIC: "flow.agent"(%{{.*}}, %{{.*}}, %{{.*}}) <{{.*}}> {profiles = {"m@0" = #flow.profile<acc = 0.9, acc_n = 24, lat = 1.5, by_right = [0.05, 0.41, 1.0], by_right_n = [24, 0, 24]>}
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0, %1 = flow.fork @f {
    %a = flow.agent @a(%q) {role = "proposer", models = ["m"], budgets = [0]}
    flow.yield %a
  } {
    %b = flow.agent @b(%q) {role = "proposer", models = ["m"], budgets = [0]}
    flow.yield %b
  }
  %2 = flow.agent @agg(%q, %0, %1) {role = "aggregator", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<by_right_n = [24, 0, 24], acc = 0.9, acc_n = 24, by_right = [0.05, 0.41, 1], lat = 1.5>}, estimates = {"m@0" = #flow.estimate<acc = 0.9, lat = 1.5, by_right = [0.06, 0.41, 0.98]>}}
  flow.return %2
}
