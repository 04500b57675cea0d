// Verifiers of `wrong_agree` (a rate in [0, 1]) and `wrong_agree_n` (a pair
// count >= 0) on agents and votes.
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @s: wrong_agree must be in [0, 1], got 1.5}}
  %0 = flow.agent @s(%q) {role = "solver", models = ["m"], budgets = [0], wrong_agree = 1.5, wrong_agree_n = 3}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @s: wrong_agree_n must be >= 0, got -3}}
  %0 = flow.agent @s(%q) {role = "solver", models = ["m"], budgets = [0], wrong_agree = 0.5, wrong_agree_n = -3}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @s: wrong_agree must be a float}}
  %0 = flow.agent @s(%q) {role = "solver", models = ["m"], budgets = [0], wrong_agree = "often"}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @s: wrong_agree_n must be an integer}}
  %0 = flow.agent @s(%q) {role = "solver", models = ["m"], budgets = [0], wrong_agree = 0.5, wrong_agree_n = 2.5}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.agent @s(%q) {role = "solver", models = ["m"], budgets = [0]}
  // expected-error @+1 {{flow.vote: wrong_agree must be in [0, 1], got -0.2}}
  %1 = flow.vote(%0) {method = "majority", wrong_agree = -0.2}
  flow.return %1
}
