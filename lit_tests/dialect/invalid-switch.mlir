// flow.switch verifiers: labels, cases, branch probabilities.
// RUN: flowcompile-opt %s --split-input-file --verify-diagnostics

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{switch labels: duplicate choices}}
  %0 = flow.switch %q case "a" {
    flow.yield %q
  } case "a" {
    flow.yield %q
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{2 labels for 1 cases}}
  %0 = "flow.switch"(%q) <{labels = ["a", "b"]}> ({
    "flow.yield"(%q) : (!flow.msg) -> ()
  }) : (!flow.msg) -> !flow.msg
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{Expected 1 operand, but got 2}}
  %0 = "flow.switch"(%q, %q) <{labels = ["a"]}> ({
    "flow.yield"(%q) : (!flow.msg) -> ()
  }) : (!flow.msg, !flow.msg) -> !flow.msg
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{region #1 yields 2 value(s), expected 1}}
  %0 = flow.switch %q case "a" {
    flow.yield %q
  } case "b" {
    flow.yield %q, %q
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{1 probs for 2 cases}}
  %0 = flow.switch %q attributes {probs = [1.0]} case "a" {
    flow.yield %q
  } case "b" {
    flow.yield %q
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{branch probability must be in [0, 1], got 1.5}}
  %0 = flow.switch %q attributes {probs = [1.5, -0.5]} case "a" {
    flow.yield %q
  } case "b" {
    flow.yield %q
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{branch probabilities sum to 1.1, not 1}}
  %0 = flow.switch %q attributes {probs = [0.5, 0.6]} case "a" {
    flow.yield %q
  } case "b" {
    flow.yield %q
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{probs must be a list of floats}}
  %0 = flow.switch %q attributes {probs = "uniform"} case "a" {
    flow.yield %q
  }
  flow.return %0
}

// -----

flow.workflow @w(%q: !flow.msg) -> !flow.msg {
  // expected-error @+1 {{expected at least one 'case "label" { ... }'}}
  %0 = flow.switch %q
  flow.return %0
}
