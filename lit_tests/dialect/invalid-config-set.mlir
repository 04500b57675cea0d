// flow.config_set verifiers: the workflow, its agents, their candidates.
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics

// expected-error @+1 {{unknown workflow 'nope'}}
flow.config_set @p for @nope {points = []}

// -----

flow.config_set @other for @w {points = []}
// expected-error @+1 {{@other is not a flow.workflow}}
flow.config_set @p for @other {points = []}
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  flow.return %q
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0]}
  flow.return %0
}
// expected-error @+1 {{point #1 assigns unknown agent 'b'}}
flow.config_set @p for @w {points = [#flow.point<acc = 0.5, lat = 1.0, assign = {a = #flow.config<model = "m", budget = 0>}>, #flow.point<acc = 0.5, lat = 1.0, assign = {b = #flow.config<model = "m", budget = 0>}>]}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0]}
  flow.return %0
}
// expected-error @+1 {{point #0: m@8 is not a candidate of @a}}
flow.config_set @p for @w {points = [#flow.point<acc = 0.5, lat = 1.0, assign = {a = #flow.config<model = "m", budget = 8>}>]}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  flow.return %q
}
// expected-error @+1 {{property 'points' expected in operation 'flow.config_set'}}
flow.config_set @p for @w

// -----

// expected-error @+1 {{"w" should be of base attribute symbol_ref}}
flow.config_set @p for "w" {points = []}

// -----

// expected-error @+1 {{should be of base attribute flow.point}}
flow.config_set @p for @w {points = [#flow.config<model = "m", budget = 0>]}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.fork @votes attributes {samples = [1, 3]} {
    %a = flow.agent @a(%q) {role = "solver", models = ["m"], budgets = [0]}
    flow.yield %a
  }
  flow.return %0
}
// expected-error @+1 {{point #0 sets unknown knob 'other.samples'}}
flow.config_set @p for @w {points = [#flow.point<acc = 0.5, lat = 1.0, assign = {other.samples = 3}>]}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.fork @votes attributes {samples = [1, 3]} {
    %a = flow.agent @a(%q) {role = "solver", models = ["m"], budgets = [0]}
    flow.yield %a
  }
  flow.return %0
}
// expected-error @+1 {{point #0: votes.samples = 5 is not one of its choices [1, 3]}}
flow.config_set @p for @w {points = [#flow.point<acc = 0.5, lat = 1.0, assign = {votes.samples = 5}>]}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %a = flow.agent @a(%q) {role = "solver", models = ["m"], budgets = [0]}
  flow.return %a
}
// expected-error @+1 {{point #0 skips @a, which is not optional}}
flow.config_set @p for @w {points = [#flow.point<acc = 0.5, lat = 1.0, assign = {a = "skip"}>]}
