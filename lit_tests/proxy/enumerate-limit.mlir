// RUN: flowcompile-opt %s --verify-diagnostics -p 'compose,enumerate{limit=20}'
// RUN: flowcompile-opt %s -p 'compose,enumerate{limit=27}' | filecheck %s
// Three solvers with three non-dominated choices each: the vote's cross
// product has 27 points. Over the limit, the diagnostic names the region and
// the option that lifts it.
// CHECK: frontier = [

// expected-error @+1 {{enumerate: flow.vote: the search would build 27 partial configurations, over the limit of 20; raise it with -p 'enumerate{limit=N}'}}
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %a, %b, %c = flow.fork @f {
    %x = flow.agent @x(%q) {role = "solver", models = ["s", "m", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.5, acc_n = 40, lat = 1.0>, "m@0" = #flow.profile<acc = 0.7, acc_n = 40, lat = 2.0>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 3.0>}}
    flow.yield %x
  } {
    %y = flow.agent @y(%q) {role = "solver", models = ["s", "m", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.5, acc_n = 40, lat = 1.0>, "m@0" = #flow.profile<acc = 0.7, acc_n = 40, lat = 2.0>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 3.0>}}
    flow.yield %y
  } {
    %z = flow.agent @z(%q) {role = "solver", models = ["s", "m", "b"], budgets = [0], profiles = {"s@0" = #flow.profile<acc = 0.5, acc_n = 40, lat = 1.0>, "m@0" = #flow.profile<acc = 0.7, acc_n = 40, lat = 2.0>, "b@0" = #flow.profile<acc = 0.9, acc_n = 40, lat = 3.0>}}
    flow.yield %z
  }
  %v = flow.vote(%a, %b, %c) {method = "majority"}
  flow.return %v
}
