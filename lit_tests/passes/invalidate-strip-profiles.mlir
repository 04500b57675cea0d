// strip-profiles erases every derived attribute named in the table of
// flowcompile.passes.invalidation: the workflow's frontier, space, profiled
// and validated too, and the votes' wrong_agree.
// RUN: flowcompile-opt %s -p strip-profiles | filecheck %s
// RUN: flowcompile-opt %s -p strip-profiles | filecheck %s --check-prefix=GONE

// GONE-NOT: {{profiles|estimates|proxy|wrong_agree|frontier|space|profiled|validated|probs|pass_rate|iters =}}

// CHECK:      flow.workflow @w(%q: !flow.msg) -> !flow.msg {
// CHECK-NEXT:   %0 = flow.agent @a(%q) {role = "solver", models = ["m"], budgets = [0], note = "kept"}
// CHECK-NEXT:   %1 = flow.fork @f attributes {samples = [1, 3]} {
// CHECK:        %2 = flow.vote(%1) {method = "majority"}
// CHECK:        flow.return %2
flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {space = 2, frontier = [#flow.point<acc = 0.5, lat = 1.0, assign = {a = #flow.config<model = "m", budget = 0>, f.samples = 1}>], profiled = {backend = "sim", calls = 4}, validated = {backend = "sim", calls = 8}} {
  %0 = flow.agent @a(%q) {role = "solver", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.5, acc_n = 4, lat = 1.0>}, estimates = {"m@0" = #flow.estimate<acc = 0.5, lat = 1.0>}, proxy = "sequence", wrong_agree = 0.5, wrong_agree_n = 4, note = "kept"}
  %1 = flow.fork @f attributes {samples = [1, 3], proxy = "parallel"} {
    flow.yield %0
  }
  %2 = flow.vote(%1) {method = "majority", proxy = "binomial-plurality", wrong_agree = 0.5}
  flow.return %2
}
