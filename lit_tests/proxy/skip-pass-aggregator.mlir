// An aggregator with optional = "pass", passes = 1: skipped, the proposal of
// @p1 flows on, right w.p. 0.6, but only when the fork joins (3 s: @p2 still
// runs) and with both proposers' cost (0.003); the skipped call adds no time
// and no cost. Run: the level rule 0.04 * 0.1 + 0.42 * 0.5 + 0.54 * 0.9 = 0.7
// at 3 + 1 = 4 s, costing 0.0035. Both are Pareto points; the search equals
// brute force.
// RUN: flowcompile-opt %s -p 'compose,enumerate' | filecheck %s
// RUN: flowcompile-opt %s -p 'compose,enumerate' > %t.search
// RUN: flowcompile-opt %s -p 'compose,enumerate{exhaustive=true}' > %t.brute
// RUN: diff %t.search %t.brute

// CHECK-LABEL: flow.workflow @ensemble
// CHECK-SAME: frontier = [#flow.point<acc = 0.6, lat = 3.0, cost = 0.003, assign = {g = "skip", p1 = #flow.config<model = "m", budget = 0>, p2 = #flow.config<model = "m", budget = 0>}>, #flow.point<acc = 0.7, lat = 4.0, cost = 0.0035, assign = {g = #flow.config<model = "m", budget = 0>, p1 = #flow.config<model = "m", budget = 0>, p2 = #flow.config<model = "m", budget = 0>}>]
flow.workflow @ensemble(%q: !flow.msg) -> !flow.msg {
  %a, %b = flow.fork @answer {
    %p1 = flow.agent @p1(%q) {role = "proposer", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.6, acc_n = 100000, lat = 1.0, cost = 0.001>}}
    flow.yield %p1
  } {
    %p2 = flow.agent @p2(%q) {role = "proposer", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.9, acc_n = 100000, lat = 3.0, cost = 0.002>}}
    flow.yield %p2
  }
  %g = flow.agent @g(%q, %a, %b) {role = "aggregator", models = ["m"], budgets = [0], optional = "pass", passes = 1, profiles = {"m@0" = #flow.profile<acc = 0.7, acc_n = 100000, lat = 1.0, cost = 0.0005, by_right = [0.1, 0.5, 0.9], by_right_n = [100000, 100000, 100000]>}}
  flow.return %g
}
