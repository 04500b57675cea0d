// Every shape: the bottom-up search finds exactly the Pareto set that
// evaluating every configuration finds.
// RUN: flowcompile-opt %s --split-input-file -p 'compose,enumerate' > %t.search
// RUN: flowcompile-opt %s --split-input-file -p 'compose,enumerate{exhaustive=true}' > %t.brute
// RUN: diff %t.search %t.brute
// RUN: filecheck %s < %t.search

// The fastest chain: every agent small. Shrunk estimates (prior: the agent's
// pooled rate 0.75, 2 pseudo-observations): plan/check (24+1.5)/42 = 0.607143,
// solve (28+1.5)/42 = 0.702381. The checker's plan input is already inside the
// solver's value, so it counts once: u = 0.607143 * 0.702381 = 0.426446, and
// with recovery 0.2: 0.607143 * u + (1 - u) * 0.2 = 0.373624; lat 0.5+0.4+0.5.
// CHECK-LABEL: flow.workflow @chain
// CHECK-SAME: frontier = [#flow.point<acc = 0.373624, lat = 1.4, cost = 0.0003, assign = {check = #flow.config<model = "s", budget = 0>, plan = #flow.config<model = "s", budget = 0>, solve = #flow.config<model = "s", budget = 0>}>
flow.workflow @chain(%q: !flow.msg) -> !flow.msg {
  %p = flow.agent @plan(%q) {role = "planner", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}}
  %s = flow.agent @solve(%q, %p) {role = "solver", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.7, acc_n = 40, lat = 0.4, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.8, acc_n = 40, lat = 1.5, cost = 0.001>}}
  %v = flow.agent @check(%q, %p, %s) {role = "verifier", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}, recovery = 0.2}
  flow.return %v
}

// -----

// CHECK-LABEL: flow.workflow @shared
flow.workflow @shared(%q: !flow.msg) -> !flow.msg {
  %p = flow.agent @plan(%q) {role = "planner", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}}
  %a = flow.agent @left(%p) {role = "solver", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.7, acc_n = 40, lat = 0.4, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.8, acc_n = 40, lat = 1.5, cost = 0.001>}}
  %b = flow.agent @right(%p) {role = "solver", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}}
  %j = flow.agent @join(%a, %b) {role = "aggregator", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.7, acc_n = 40, lat = 0.4, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.8, acc_n = 40, lat = 1.5, cost = 0.001>}}
  flow.return %j
}

// -----

// Five samples of the small solver: P(at least 3 of 5 right) at 0.607143.
// CHECK-LABEL: flow.workflow @self_consistency
// CHECK-SAME: frontier = [#flow.point<acc = 0.694828, lat = 0.5, cost = 0.0005, assign = {answer.samples = 5 : i64, solver = #flow.config<model = "s", budget = 0>}>
flow.workflow @self_consistency(%q: !flow.msg) -> !flow.msg {
  %f = flow.fork @answer attributes {samples = [1, 3, 5]} {
    %s = flow.agent @solver(%q) {role = "solver", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}}
    flow.yield %s
  }
  %v = flow.vote(%f) {method = "majority"}
  flow.return %v
}

// -----

// CHECK-LABEL: flow.workflow @mixture
flow.workflow @mixture(%q: !flow.msg) -> !flow.msg {
  %a, %b, %c = flow.fork @proposals {
    %x = flow.agent @pa(%q) {role = "proposer", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}}
    flow.yield %x
  } {
    %y = flow.agent @pb(%q) {role = "proposer", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.7, acc_n = 40, lat = 0.4, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.8, acc_n = 40, lat = 1.5, cost = 0.001>}}
    flow.yield %y
  } {
    %z = flow.agent @pc(%q) {role = "proposer", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}}
    flow.yield %z
  }
  %g = flow.agent @agg(%q, %a, %b, %c) {role = "aggregator", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.7, acc_n = 40, lat = 0.4, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.8, acc_n = 40, lat = 1.5, cost = 0.001>}}
  flow.return %g
}

// -----

// The router's latency plus the probability-weighted branch latency.
// CHECK-LABEL: flow.workflow @router
// CHECK-SAME: frontier = [#flow.point<acc = {{[0-9.]+}}, lat = 0.93,
flow.workflow @router(%q: !flow.msg) -> !flow.msg {
  %r = flow.agent @route(%q) {role = "router", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}}
  %o = flow.switch @answer %r attributes {probs = [0.7, 0.3]} case "math" {
    %m = flow.agent @math(%q) {role = "solver", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.7, acc_n = 40, lat = 0.4, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.8, acc_n = 40, lat = 1.5, cost = 0.001>}}
    flow.yield %m
  } case "code" {
    %c = flow.agent @code(%q) {role = "solver", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}}
    flow.yield %c
  }
  flow.return %o
}

// -----

// CHECK-LABEL: flow.workflow @refine
// CHECK-SAME: final.max_iters = {{[123]}} : i64
flow.workflow @refine(%q: !flow.msg) -> !flow.msg {
  %d = flow.agent @draft(%q) {role = "drafter", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}}
  %o = flow.loop @final iter(%cur = %d) attributes {max_iters = [1, 2, 3]} {
    %c = flow.agent @critic(%q, %cur) {role = "critic", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.7, acc_n = 40, lat = 0.4, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.8, acc_n = 40, lat = 1.5, cost = 0.001>}}
    %r = flow.agent @revise(%q, %cur, %c) {role = "reviser", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}, recovery = 0.3}
    flow.until %c, %r
  }
  flow.return %o
}

// -----

// Skipping the optional agent is the fastest configuration.
// CHECK-LABEL: flow.workflow @optional
// CHECK-SAME: frontier = [#flow.point<acc = 0.607143, lat = 0.5, cost = 0.0001, assign = {polish = "skip", solve = #flow.config<model = "s", budget = 0>}>
flow.workflow @optional(%q: !flow.msg) -> !flow.msg {
  %s = flow.agent @solve(%q) {role = "solver", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.6, acc_n = 40, lat = 0.5, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 2.0, cost = 0.001>}}
  %p = flow.agent @polish(%s) {role = "editor", models = ["s", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.7, acc_n = 40, lat = 0.4, cost = 0.0001>, "b@0" = #flow.profile<acc = 0.8, acc_n = 40, lat = 1.5, cost = 0.001>}, optional = "pass"}
  flow.return %p
}
