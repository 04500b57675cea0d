// flow.fork, flow.vote and flow.yield verifiers.
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics --allow-unregistered-dialect

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{a fork needs at least one branch}}
  flow.fork
  flow.return %q
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{region #1 yields 2 value(s), expected 1}}
  %0, %1 = flow.fork {
    flow.yield %q
  } {
    flow.yield %q, %q
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{each region must end with flow.yield}}
  %0 = flow.fork {
    "test.op"() : () -> ()
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{a fork has one result per branch: 1 branches, 2 results}}
  %0, %1 = "flow.fork"() ({
    "flow.yield"(%q) : (!flow.msg) -> ()
  }) : () -> (!flow.msg, !flow.msg)
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{samples is only allowed on a single-branch fork}}
  %0, %1 = flow.fork @f attributes {samples = [1, 3]} {
    flow.yield %q
  } {
    flow.yield %q
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{samples must be >= 1, got 0}}
  %0 = flow.fork @f attributes {samples = [0, 3]} {
    flow.yield %q
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{samples: duplicate choices}}
  %0 = flow.fork @f attributes {samples = [3, 3]} {
    flow.yield %q
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{samples: the choice space is empty}}
  %0 = flow.fork @f attributes {samples = []} {
    flow.yield %q
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{samples must be an array of i64}}
  %0 = "flow.fork"() <{samples = array<i32: 1>}> ({
    "flow.yield"(%q) : (!flow.msg) -> ()
  }) : () -> !flow.msg
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{unknown vote method 'mean' (known: majority)}}
  %0 = flow.vote(%q) {method = "mean"}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{a vote needs at least one input}}
  %0 = flow.vote() {method = "majority"}
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{Expected 1 result, but got 0}}
  "flow.vote"(%q) <{method = "majority"}> : (!flow.msg) -> ()
  flow.return %q
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{'flow.yield' expects parent op to be one of 'flow.fork', 'flow.switch'}}
  flow.yield %q
}
