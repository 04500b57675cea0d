// flow.loop and flow.until verifiers.
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics --allow-unregistered-dialect

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{property 'max_iters' expected in operation 'flow.loop'}}
  %0 = flow.loop @l iter(%c = %q) {
    flow.until %c, %c
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{max_iters must be >= 0, got -1}}
  %0 = flow.loop @l iter(%c = %q) attributes {max_iters = [-1, 2]} {
    flow.until %c, %c
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{max_iters are all 0: the loop never runs its body (drop the loop, or allow a positive count)}}
  %0 = flow.loop @l iter(%c = %q) attributes {max_iters = [0]} {
    flow.until %c, %c
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{max_iters: duplicate choices}}
  %0 = flow.loop @l iter(%c = %q) attributes {max_iters = [2, 2]} {
    flow.until %c, %c
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{flow.until passes 0 message(s), the loop carries 1}}
  %0 = flow.loop @l iter(%c = %q) attributes {max_iters = [2]} {
    flow.until %c
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{each region must end with flow.until}}
  %0 = flow.loop @l iter(%c = %q) attributes {max_iters = [2]} {
    "test.op"(%c) : (!flow.msg) -> ()
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{pass_rate must be in [0, 1], got 1.5}}
  %0 = flow.loop @l iter(%c = %q) attributes {max_iters = [2], pass_rate = 1.5} {
    flow.until %c, %c
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{pass_rate must be a float}}
  %0 = flow.loop @l iter(%c = %q) attributes {max_iters = [2], pass_rate = "high"} {
    flow.until %c, %c
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{a loop carries at least one message}}
  "flow.loop"() <{max_iters = array<i64: 2>}> ({
    "flow.until"(%q) : (!flow.msg) -> ()
  }) : () -> ()
  flow.return %q
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{a loop has one result per carried message}}
  %0, %1 = "flow.loop"(%q) <{max_iters = array<i64: 2>}> ({
  ^bb0(%a: !flow.msg):
    "flow.until"(%a, %a) : (!flow.msg, !flow.msg) -> ()
  }) : (!flow.msg) -> (!flow.msg, !flow.msg)
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{loop body has 2 arguments for 1 carried messages}}
  %0 = "flow.loop"(%q) <{max_iters = array<i64: 2>}> ({
  ^bb0(%a: !flow.msg, %b: !flow.msg):
    "flow.until"(%a, %a) : (!flow.msg, !flow.msg) -> ()
  }) : (!flow.msg) -> !flow.msg
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.fork {
    // expected-error @+1 {{'flow.until' expects parent op 'flow.loop'}}
    flow.until %q, %q
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{flow.loop with a max_iters knob needs a name (flow.loop @name ...) to key it in configurations}}
  %0 = flow.loop iter(%c = %q) attributes {max_iters = [2]} {
    %v = flow.agent @v(%c) {role = "critic", models = ["m"], budgets = [0]}
    flow.until %v, %c
  }
  flow.return %0
}

// -----

// A loop's name shares the agents' namespace.
// expected-error @+1 {{@a is defined twice in the workflow}}
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %a = flow.agent @a(%q) {role = "solver", models = ["m"], budgets = [0]}
  %0 = flow.loop @a iter(%c = %a) attributes {max_iters = [2]} {
    %v = flow.agent @v(%c) {role = "critic", models = ["m"], budgets = [0]}
    flow.until %v, %c
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{round 2: fixed 3 of 2 revised; need 0 <= fixed <= revised}}
  %0 = flow.loop @l iter(%c = %q) attributes {max_iters = [2], revised = [4, 2], fixed = [1, 3]} {
    flow.until %c, %c
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{'revised' and 'fixed' give one count per round, at most 2}}
  %0 = flow.loop @l iter(%c = %q) attributes {max_iters = [2], revised = [4, 2, 1], fixed = [1, 0, 0]} {
    flow.until %c, %c
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{'fixed' needs its partner: 'revised' and 'fixed' go together}}
  %0 = flow.loop @l iter(%c = %q) attributes {max_iters = [2], fixed = [1]} {
    flow.until %c, %c
  }
  flow.return %0
}
