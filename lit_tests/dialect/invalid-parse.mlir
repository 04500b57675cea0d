// Parse errors are diagnostics at the offending token, never tracebacks.
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{Operation flow.bogus is not registered}}
  %0 = flow.bogus(%q)
  flow.return %q
}

// -----

// expected-error @+1 {{'flow.nothing' is not registered}}
flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {x = #flow.nothing<acc = 0.5>} {
  flow.return %q
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{use of undefined value %r}}
  flow.return %r
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  %0 = flow.agent @a(%q) {role = "s", models = ["m"], budgets = [0]
  // expected-error @+1 {{'}' expected}}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{Expected 'iter'}}
  %0 = flow.loop (%c = %q) attributes {max_iters = [2]} {
    flow.until %c, %c
  }
  flow.return %0
}

// -----

// expected-error @+1 {{'<' expected}}
flow.workflow @w(%q: !flow.msg) -> !flow.msg attributes {x = #flow.config} {
  flow.return %q
}

// -----

// A malformed type is located too (xDSL raises a ValueError for it).
// expected-error @+1 {{zip()}}
flow.workflow @w(%q: !flow.msg<3>) -> !flow.msg {
  flow.return %q
}

// -----

// A string with no closing quote is reported where it starts, at once: a long
// one once took time doubling with every character (xDSL's string regex).
flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{unterminated string: no closing '"' on this line}}
  %a = flow.agent @a(%q) {role = "solver", prompt = "Solve the problem step by step, then give the answer at the very end of your reply, %q}
  flow.return %a
}
