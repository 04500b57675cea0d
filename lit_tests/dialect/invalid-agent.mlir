// flow.agent verifiers: inputs, choice spaces, pool, profiles.
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @a has no inputs}}
  %0 = flow.agent @a() {role = "s", models = ["m"], budgets = [0]}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent name must not be empty}}
  %0 = flow.agent @""(%q) {role = "s", models = ["m"], budgets = [0]}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{Expected 1 result, but got 0}}
  "flow.agent"(%q) <{sym_name = "a", role = "s", models = ["m"], budgets = array<i64: 0>}> : (!flow.msg) -> ()
  flow.return %q
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{property 'role' expected in operation 'flow.agent'}}
  %0 = flow.agent @a(%q) {models = ["m"], budgets = [0]}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @a: models: the choice space is empty}}
  %0 = flow.agent @a(%q) {role = "s", models = [], budgets = [0]}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @a: models: duplicate choices}}
  %0 = flow.agent @a(%q) {role = "s", models = ["m", "n", "m"], budgets = [0]}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @a: budgets: the choice space is empty}}
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = []}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @a: budgets: duplicate choices}}
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0, 1024, 0]}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @a: budget must be >= 0, got -1}}
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0, -1]}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{budgets must be an array of i64}}
  %0 = "flow.agent"(%q) <{sym_name = "a", role = "s", models = ["m"], budgets = array<i32: 0>}> : (!flow.msg) -> !flow.msg
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{recovery must be in [0, 1], got 1.5}}
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], recovery = 1.5}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg, %r: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @a: optional = "pass" with 2 inputs needs passes = <index>: the input a skip passes on; optional = "absent" produces no value}}
  %0 = flow.agent @a(%q, %r) {role = "s", models = ["m"], budgets = [0], optional = "pass"}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {pool = {m = #flow.model<provider = "openai/m">, k = #flow.model<provider = "openai/k">}} {
  // expected-error @+1 {{agent @a: model 'n' is not in the workflow's pool (m, k)}}
  %0 = flow.agent @a(%q) {role = "s", models = ["m", "n"], budgets = [0]}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {pool = {m = #flow.model<provider = "openai/m">}} {
  %0 = flow.fork {
    // The pool is the enclosing workflow's, however deep the agent is.
    // expected-error @+1 {{agent @b: model 'n' is not in the workflow's pool (m)}}
    %1 = flow.agent @b(%q) {role = "s", models = ["n"], budgets = [0]}
    flow.yield %1
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{profiles must be a dictionary}}
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], profiles = [1]}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @a: profile for 'm@1', which is not one of its candidate configurations}}
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0>, "m@1" = #flow.profile<acc = 0.5, acc_n = 1, lat = 1.0>}}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{profiles['m@0'] must be a #flow.profile}}
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], profiles = {"m@0" = #flow.estimate<acc = 0.5, lat = 1.0>}}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @a: prompt placeholder {plan} names no input (args = [...] names them)}}
  %a = flow.agent @a(%q) {role = "solver", prompt = "Use {plan}", args = ["q"], models = ["m"], budgets = [0]}
  flow.return %a
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @a: 2 args for 1 inputs}}
  %a = flow.agent @a(%q) {role = "solver", args = ["q", "r"], models = ["m"], budgets = [0]}
  flow.return %a
}
