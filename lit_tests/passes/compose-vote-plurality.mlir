// The vote as flow.vote decides it: compose names the rule and gives it the
// parameter `wrong_agree` (the voted agent's measured rate), and enumerate's
// estimate is the chance that the right answer is the most common one.
// RUN: flowcompile-opt %s --split-input-file --compose | filecheck %s
// RUN: flowcompile-opt %s --split-input-file -p compose,enumerate | filecheck %s --check-prefix=POINTS

// Three samples right w.p. 0.6 each (one candidate: its shrunk rate is its own);
// wrong answers agree w.p. 0.5, as if spread over 2 values. With 1 right, the
// 2 wrong agree (and win) w.p. 1/2, else a three-way tie, won w.p. 1/3;
// with 2 or 3 right it wins. 3 * 0.6 * 0.4^2 * (1/2 * 1/3) + 3 * 0.6^2 * 0.4
// + 0.6^3 = 0.048 + 0.432 + 0.216 = 0.696 (the strict majority: 0.648).
// CHECK-LABEL: flow.workflow @plurality
// CHECK: flow.vote(%{{.*}}) {method = "majority", proxy = "binomial-plurality", wrong_agree = 0.5}
// (Samples run in parallel at the same latency: three beat one.)
// POINTS-LABEL: flow.workflow @plurality
// POINTS-SAME: frontier = [#flow.point<acc = 0.696, lat = 1.0, {{.*}}answer.samples = 3 : i64
flow.workflow @plurality(%q: !flow.msg) -> !flow.msg {
  %f = flow.fork @answer attributes {samples = [1, 3]} {
    %s = flow.agent @solver(%q) {role = "solver", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 1.0>}, wrong_agree = 0.5, wrong_agree_n = 200}
    flow.yield %s
  }
  %v = flow.vote(%f) {method = "majority"}
  flow.return %v
}

// -----

// Without a measured rate (IR profiled before it was) the vote keeps the
// strict majority: all wrong answers count as one. Two branches' rates pool
// by their pair counts: (0.2 * 100 + 0.8 * 300) / 400 = 0.65.
// CHECK-LABEL: flow.workflow @unmeasured
// CHECK: flow.vote(%{{.*}}) {method = "majority", proxy = "binomial-plurality"}
// CHECK-LABEL: flow.workflow @pooled
// CHECK: flow.vote(%{{.*}}, %{{.*}}) {method = "majority", proxy = "plurality", wrong_agree = 0.65}
// POINTS-LABEL: flow.workflow @unmeasured
// POINTS-SAME: frontier = [#flow.point<acc = 0.648, lat = 1.0, {{.*}}answer.samples = 3 : i64
flow.workflow @unmeasured(%q: !flow.msg) -> !flow.msg {
  %f = flow.fork @answer attributes {samples = [3]} {
    %s = flow.agent @solver(%q) {role = "solver", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 1.0>}}
    flow.yield %s
  }
  %v = flow.vote(%f) {method = "majority"}
  flow.return %v
}
flow.workflow @pooled(%q: !flow.msg) -> !flow.msg {
  %a, %b = flow.fork @f {
    %x = flow.agent @x(%q) {role = "solver", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 1.0>}, wrong_agree = 0.2, wrong_agree_n = 100}
    flow.yield %x
  } {
    %y = flow.agent @y(%q) {role = "solver", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 1.0>}, wrong_agree = 0.8, wrong_agree_n = 300}
    flow.yield %y
  }
  %v = flow.vote(%a, %b) {method = "majority"}
  flow.return %v
}
