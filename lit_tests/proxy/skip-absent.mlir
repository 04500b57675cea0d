// A proposer with optional = "absent": skipped, the aggregator reads the one
// proposal left by the one-proposal rule (its level curve [0.1, 0.5, 0.9]
// read at k = 1: [0.1, 0.9]), 0.4 * 0.1 + 0.6 * 0.9 = 0.58 at 2 s, not the
// 0.74 that counting the skipped branch as a right proposal gave. Run, both
// proposals: 0.04 * 0.1 + 0.42 * 0.5 + 0.54 * 0.9 = 0.7 at 4 s. The search
// equals brute force.
// RUN: flowcompile-opt %s -p 'compose,enumerate' | filecheck %s
// RUN: flowcompile-opt %s -p 'compose,enumerate' > %t.search
// RUN: flowcompile-opt %s -p 'compose,enumerate{exhaustive=true}' > %t.brute
// RUN: diff %t.search %t.brute

// CHECK-LABEL: flow.workflow @mixture
// CHECK-SAME: frontier = [#flow.point<acc = 0.58, lat = 2.0, cost = 0.0, assign = {g = #flow.config<model = "m", budget = 0>, p1 = #flow.config<model = "m", budget = 0>, p2 = "skip"}>, #flow.point<acc = 0.7, lat = 4.0, cost = 0.0, assign = {g = #flow.config<model = "m", budget = 0>, p1 = #flow.config<model = "m", budget = 0>, p2 = #flow.config<model = "m", budget = 0>}>]
flow.workflow @mixture(%q: !flow.msg) -> !flow.msg {
  %a, %b = flow.fork @answer {
    %p1 = flow.agent @p1(%q) {role = "proposer", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.6, acc_n = 100000, lat = 1.0>}}
    flow.yield %p1
  } {
    %p2 = flow.agent @p2(%q) {role = "proposer", models = ["m"], budgets = [0], optional = "absent", profiles = {"m@0" = #flow.profile<acc = 0.9, acc_n = 100000, lat = 3.0>}}
    flow.yield %p2
  }
  %g = flow.agent @g(%q, %a, %b) {role = "aggregator", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.7, acc_n = 100000, lat = 1.0, by_right = [0.1, 0.5, 0.9], by_right_n = [100000, 100000, 100000]>}}
  flow.return %g
}
