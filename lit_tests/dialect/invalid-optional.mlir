// flow.agent's optional: what a skip produces, and where "absent" may stand.
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @a: optional says what a skip produces: optional = "pass" (its one input passes on) or optional = "absent" (no value)}}
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], optional}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @a: optional says what a skip produces}}
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], optional = "drop"}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{agent @a: optional = "absent" needs the agent to be a branch of a flow.fork (its skip leaves the branch without a value)}}
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], optional = "absent"}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %a, %b = flow.fork {
    %0 = flow.agent @p(%q) {role = "s", models = ["m"], budgets = [0]}
    // expected-error @+1 {{agent @a: optional = "absent" needs the agent alone in its fork branch, the value the branch yields}}
    %1 = flow.agent @a(%0) {role = "s", models = ["m"], budgets = [0], optional = "absent"}
    flow.yield %1
  } {
    %2 = flow.agent @b(%q) {role = "s", models = ["m"], budgets = [0]}
    flow.yield %2
  }
  %v = flow.vote(%a, %b) {method = "majority"}
  flow.return %v
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %a = flow.fork @f attributes {samples = [1, 3]} {
    // expected-error @+1 {{agent @a: optional = "absent" is not allowed in a fork with samples (every replica would be absent)}}
    %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], optional = "absent"}
    flow.yield %0
  }
  %v = flow.vote(%a) {method = "majority"}
  flow.return %v
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %a, %b = flow.fork {
    // expected-error @+1 {{agent @a: optional = "absent" needs its branch's result read exactly once, by an agent or a vote}}
    %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], optional = "absent"}
    flow.yield %0
  } {
    %1 = flow.agent @b(%q) {role = "s", models = ["m"], budgets = [0]}
    flow.yield %1
  }
  flow.return %a
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %a, %b = flow.fork {
    %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], optional = "absent"}
    flow.yield %0
  } {
    %1 = flow.agent @b(%q) {role = "s", models = ["m"], budgets = [0], optional = "absent"}
    flow.yield %1
  }
  // expected-error @+1 {{agent @g: every proposal may be absent (@a, @b have optional = "absent"); at least one must always run}}
  %g = flow.agent @g(%q, %a, %b) {role = "aggregator", models = ["m"], budgets = [0]}
  flow.return %g
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %a, %b = flow.fork {
    %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], optional = "absent"}
    flow.yield %0
  } {
    %1 = flow.agent @b(%q) {role = "s", models = ["m"], budgets = [0]}
    flow.yield %1
  }
  // expected-error @+1 {{flow.vote: every proposal may be absent (@a has optional = "absent"); at least one must always run}}
  %v = flow.vote(%a) {method = "majority"}
  %g = flow.agent @g(%q, %v, %b) {role = "aggregator", models = ["m"], budgets = [0]}
  flow.return %g
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %a, %b = flow.fork {
    %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0]}
    flow.yield %0
  } {
    %1 = flow.agent @b(%q) {role = "s", models = ["m"], budgets = [0]}
    flow.yield %1
  }
  // expected-error @+1 {{agent @g: optional = "pass": passes = 3 is not the index of an input (it has 3)}}
  %g = flow.agent @g(%q, %a, %b) {role = "aggregator", models = ["m"], budgets = [0], optional = "pass", passes = 3}
  flow.return %g
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %a, %b = flow.fork {
    %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0]}
    flow.yield %0
  } {
    %1 = flow.agent @b(%q) {role = "s", models = ["m"], budgets = [0]}
    flow.yield %1
  }
  // expected-error @+1 {{agent @g: passes says which input a skip passes on; it needs optional = "pass"}}
  %g = flow.agent @g(%q, %a, %b) {role = "aggregator", models = ["m"], budgets = [0], passes = 1}
  flow.return %g
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %a, %b = flow.fork {
    %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0], optional = "absent"}
    flow.yield %0
  } {
    %1 = flow.agent @b(%q) {role = "s", models = ["m"], budgets = [0]}
    flow.yield %1
  }
  // expected-error @+1 {{agent @g: optional = "pass": input 1 is an optional = "absent" branch and may be no value}}
  %g = flow.agent @g(%q, %a, %b) {role = "aggregator", models = ["m"], budgets = [0], optional = "pass", passes = 1}
  flow.return %g
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %d = flow.agent @d(%q) {role = "s", models = ["m"], budgets = [0]}
  %r = flow.loop @fix iter(%draft = %d) attributes {max_iters = [1, 2]} {
    %c = flow.agent @c(%q, %draft) {role = "critic", models = ["m"], budgets = [0]}
    // expected-error @+1 {{agent @r: optional = "pass": input 1 is a loop's verdict, not an answer}}
    %n = flow.agent @r(%draft, %c) {role = "reviser", models = ["m"], budgets = [0], optional = "pass", passes = 1}
    flow.until %c, %n
  }
  flow.return %r
}
