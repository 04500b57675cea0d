// A shared agent: one agent (@solve) called at two sites, on the query and on
// a plan; the sites agree on the call (role, prompt, models, budgets, ...)
// and a point gives both one configuration. Round trip, and the search of a
// profiled copy equals brute force with @solve chosen once.
// RUN: flowcompile-opt %s | flowcompile-opt | filecheck %s
// RUN: flowcompile-opt %s -p 'compose,enumerate' | filecheck %s --check-prefix=SEARCH
// RUN: flowcompile-opt %s -p 'compose,enumerate' > %t.search
// RUN: flowcompile-opt %s -p 'compose,enumerate{exhaustive=true}' > %t.brute
// RUN: diff %t.search %t.brute

// CHECK:      %s1 = flow.agent @solve(%q) {role = "solver", models = ["s", "l"], budgets = [0]
// CHECK:      %s2 = flow.agent @solve(%p) {role = "solver", models = ["s", "l"], budgets = [0]
// The estimates differ by site; the configuration is one: "s" is fast, "l"
// right. Two voters, a tie a coin flip: 0.3 * 0.2 + (0.3 * 0.8 + 0.7 * 0.2) / 2
// = 0.25 at 2 s, 0.9 * 0.8 + (0.9 * 0.2 + 0.1 * 0.8) / 2 = 0.85 at 5 s.
// SEARCH: frontier = [#flow.point<acc = 0.250006, lat = 2.0, cost = 0.0, assign = {plan = #flow.config<model = "m", budget = 0>, solve = #flow.config<model = "s", budget = 0>}>, #flow.point<acc = 0.849994, lat = 5.0, cost = 0.0, assign = {plan = #flow.config<model = "m", budget = 0>, solve = #flow.config<model = "l", budget = 0>}>]
flow.workflow @shared(%q: !flow.msg) -> !flow.msg {
  %a, %b = flow.fork @answer {
    %s1 = flow.agent @solve(%q) {role = "solver", models = ["s", "l"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.3, acc_n = 100000, lat = 1.0>, "l@0" = #flow.profile<acc = 0.9, acc_n = 100000, lat = 4.0>}}
    flow.yield %s1
  } {
    %p = flow.agent @plan(%q) {role = "planner", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 1.0, acc_n = 100000, lat = 1.0>}}
    %s2 = flow.agent @solve(%p) {role = "solver", models = ["s", "l"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.2, acc_n = 100000, lat = 1.0>, "l@0" = #flow.profile<acc = 0.8, acc_n = 100000, lat = 4.0>}}
    flow.yield %s2
  }
  %v = flow.vote(%a, %b) {method = "majority"}
  flow.return %v
}
