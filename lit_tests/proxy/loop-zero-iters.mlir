// A refine loop that may run zero times: with max_iters = 0 the first draft
// leaves the loop as it is (no verdict, no revision), its accuracy and
// latency the draft's own: 0.6 at 0.5 s, the fastest point of the frontier.
// One round: 0.6 * 0.8 approved, + 0.12 * 0.9 + 0.32 * 0.5 revised = 0.748
// at 0.5 + 0.4 + 0.44 * 1.0 = 1.34 s. The search equals brute force.
// RUN: flowcompile-opt %s -p 'compose,enumerate' | filecheck %s
// RUN: flowcompile-opt %s -p 'compose,enumerate' > %t.search
// RUN: flowcompile-opt %s -p 'compose,enumerate{exhaustive=true}' > %t.brute
// RUN: diff %t.search %t.brute

// CHECK-LABEL: flow.workflow @refine
// CHECK-SAME: frontier = [#flow.point<acc = 0.6, lat = 0.5, cost = 0.0001, assign = {critic = #flow.config<model = "s", budget = 0>, draft = #flow.config<model = "s", budget = 0>, final.max_iters = 0 : i64, revise = #flow.config<model = "s", budget = 0>}>, #flow.point<acc = 0.748, lat = 1.34, cost = 0.000596, assign = {critic = #flow.config<model = "s", budget = 0>, draft = #flow.config<model = "s", budget = 0>, final.max_iters = 1 : i64, revise = #flow.config<model = "s", budget = 0>}>]
flow.workflow @refine(%q: !flow.msg) -> !flow.msg {
  %d = flow.agent @draft(%q) {role = "drafter", models = ["s"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 100000, lat = 0.5, cost = 0.0001>}}
  %o = flow.loop @final iter(%cur = %d) attributes {max_iters = [0, 1]} {
    %c = flow.agent @critic(%q, %cur) {role = "critic", models = ["s"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.8, acc_n = 100000, lat = 0.4, cost = 0.0001>}}
    %r = flow.agent @revise(%q, %cur, %c) {role = "reviser", models = ["s"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.9, acc_n = 100000, lat = 1.0, cost = 0.001>}, recovery = 0.5}
    flow.until %c, %r
  }
  flow.return %o
}
