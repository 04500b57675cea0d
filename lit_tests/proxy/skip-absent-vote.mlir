// A vote over three proposers, one with optional = "absent": skipped, the
// vote counts the two present (0.6 and 0.8, the strict majority with a tie
// half right): 0.48 + 0.44 / 2 = 0.7 at 2 s; with all three 0.876 at 3 s.
// The search equals brute force.
// RUN: flowcompile-opt %s -p 'compose,enumerate' | filecheck %s
// RUN: flowcompile-opt %s -p 'compose,enumerate' > %t.search
// RUN: flowcompile-opt %s -p 'compose,enumerate{exhaustive=true}' > %t.brute
// RUN: diff %t.search %t.brute

// CHECK-LABEL: flow.workflow @vote
// CHECK-SAME: frontier = [#flow.point<acc = 0.7, lat = 2.0, cost = 0.0, assign = {p1 = #flow.config<model = "m", budget = 0>, p2 = #flow.config<model = "m", budget = 0>, p3 = "skip"}>, #flow.point<acc = 0.876, lat = 3.0, cost = 0.0, assign = {p1 = #flow.config<model = "m", budget = 0>, p2 = #flow.config<model = "m", budget = 0>, p3 = #flow.config<model = "m", budget = 0>}>]
flow.workflow @vote(%q: !flow.msg) -> !flow.msg {
  %a, %b, %c = flow.fork @answer {
    %p1 = flow.agent @p1(%q) {role = "proposer", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.6, acc_n = 100000, lat = 1.0>}}
    flow.yield %p1
  } {
    %p2 = flow.agent @p2(%q) {role = "proposer", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.8, acc_n = 100000, lat = 2.0>}}
    flow.yield %p2
  } {
    %p3 = flow.agent @p3(%q) {role = "proposer", models = ["m"], budgets = [0], optional = "absent", profiles = {"m@0" = #flow.profile<acc = 0.9, acc_n = 100000, lat = 3.0>}}
    flow.yield %p3
  }
  %v = flow.vote(%a, %b, %c) {method = "majority"}
  flow.return %v
}
